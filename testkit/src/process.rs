//! What every starter of the real `chatroom-server` binary needs, whether a test
//! ([`crate::binary::ServerProcess`]) or the benchmark: where the binary is, a free
//! port for it, the flags that lift the per-address limits, and SIGTERM.

use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Flags for a server whose clients all come from 127.0.0.1 and send flat out:
/// no per-address connection limit or rate, no request rate limit (each limit has
/// tests of its own). Flag and value alternate, so `chunks(2)` gives the pairs.
pub const UNLIMITED: &[&str] = &[
    "--max-connections-per-address",
    "0",
    "--connection-rate-per-address",
    "0",
    "--request-rate",
    "0",
];

/// A loopback port that was free a moment ago (bind port 0, read it, let it go).
/// Another socket may take it before the server binds it: starters retry.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The directory cargo puts this build's binaries in: the running executable's
/// own, or its parent when that is `deps/` (where test binaries live).
pub fn bin_dir() -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or_else(|| io::Error::other("the executable has no directory"))?;
    Ok(match dir.parent() {
        Some(up) if dir.ends_with("deps") => up.to_owned(),
        _ => dir.to_owned(),
    })
}

/// `chatroom-server` in [`bin_dir`], whether or not it is built.
pub fn server_path() -> io::Result<PathBuf> {
    Ok(bin_dir()?.join(format!("chatroom-server{}", std::env::consts::EXE_SUFFIX)))
}

/// The `chatroom-server` binary of this build, for tests. The server's own tests
/// always find it (cargo builds a package's binaries before its tests); a test of
/// another package (the benchmark's) builds it with cargo first if it is missing.
/// Panics if it cannot be found or built.
pub fn server_binary() -> &'static Path {
    static SERVER: OnceLock<PathBuf> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = server_path().expect("find the directory of this build's binaries");
        if !server.exists() {
            build_server(&server);
        }
        server
    })
}

/// `cargo build -p chatroom-server` in the profile whose directory `server` is in.
fn build_server(server: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-p", "chatroom-server"]);
    if server.parent().is_some_and(|d| d.ends_with("release")) {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build -p chatroom-server");
    assert!(status.success(), "cargo build -p chatroom-server failed");
}

/// Ask process `pid` to shut down gracefully (SIGTERM), as a service manager or
/// an operator does.
#[cfg(target_os = "linux")]
pub fn terminate(pid: u32) -> io::Result<()> {
    use rustix::process::{Pid, Signal, kill_process};
    let raw = i32::try_from(pid).map_err(|_| io::Error::other("no such process id"))?;
    let pid = Pid::from_raw(raw).ok_or_else(|| io::Error::other("process id 0"))?;
    kill_process(pid, Signal::TERM)?;
    Ok(())
}

/// Ask process `pid` to shut down gracefully (SIGTERM, through `kill(1)`).
#[cfg(not(target_os = "linux"))]
pub fn terminate(pid: u32) -> io::Result<()> {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "kill -TERM {pid} failed: {status}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::{UNLIMITED, bin_dir, server_path};

    #[test]
    fn a_test_binary_finds_the_directory_above_deps() {
        // This unit test runs from target/<profile>/deps/.
        let dir = bin_dir().unwrap();
        assert!(!dir.ends_with("deps"), "{}", dir.display());
        assert!(server_path().unwrap().starts_with(&dir));
    }

    #[test]
    fn unlimited_flags_come_in_pairs() {
        assert_eq!(UNLIMITED.len() % 2, 0);
        for pair in UNLIMITED.chunks(2) {
            assert!(pair[0].starts_with("--") && pair[1] == "0", "{pair:?}");
        }
    }
}
