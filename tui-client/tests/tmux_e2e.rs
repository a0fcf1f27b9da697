//! End to end in a real terminal: the real server and two real clients run
//! in tmux (on a private tmux socket), typed into with send-keys and read with
//! capture-pane, as a person would use them.
//!
//! Needs tmux; `.ci/run` installs it. Outside CI the test is skipped (with a
//! note) when tmux is missing; in CI a missing tmux fails it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long to wait for something to appear on a screen.
const WAIT: Duration = Duration::from_secs(30);

/// A private tmux server, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// `tag` keeps the tests of one run (in parallel threads) apart.
    fn new(tag: &str) -> Self {
        Self {
            socket: format!("chatroom-e2e-{}-{tag}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn start(&self, name: &str, command: &str) {
        self.run(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "110",
            "-y",
            "32",
            command,
        ]);
    }

    fn keys(&self, target: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", target];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Type text literally (no key names).
    fn type_text(&self, target: &str, text: &str) {
        self.run(&["send-keys", "-t", target, "-l", text]);
    }

    fn screen(&self, target: &str) -> String {
        self.run(&["capture-pane", "-p", "-t", target])
    }

    fn wait_for(&self, target: &str, needle: &str) {
        let start = Instant::now();
        loop {
            let screen = self.screen(target);
            if screen.contains(needle) {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "{needle:?} did not appear on {target} within {WAIT:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The server binary next to the client binary, built if it is not there yet.
fn server_binary() -> PathBuf {
    let client = PathBuf::from(env!("CARGO_BIN_EXE_chatroom"));
    let dir = client.parent().expect("binary directory");
    let server = dir.join("chatroom-server");
    if !server.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "chatroom-server"])
            .status()
            .expect("cargo build the server");
        assert!(status.success(), "building chatroom-server failed");
    }
    assert!(server.exists(), "no server binary at {}", server.display());
    server
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < WAIT, "the server did not start listening");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn client_command(dir: &Path, port: u16, user: &str) -> String {
    let downloads = dir.join(format!("{user}-downloads"));
    std::fs::create_dir_all(&downloads).unwrap();
    format!(
        "{} --server 127.0.0.1:{port} --user {user} --no-bell --config {} --log-file {} --download-dir {}",
        env!("CARGO_BIN_EXE_chatroom"),
        dir.join(format!("{user}.json")).display(),
        dir.join(format!("{user}.log")).display(),
        downloads.display(),
    )
}

/// Start the real server in tmux window `srv`; returns its port.
fn start_server(tmux: &Tmux, dir: &Path) -> u16 {
    let port = free_port();
    tmux.start(
        "srv",
        &format!(
            "{} --listen 127.0.0.1:{port} --data-dir {} --bcrypt-cost 4 2>{}",
            server_binary().display(),
            dir.join("data").display(),
            dir.join("server.log").display()
        ),
    );
    wait_for_port(port);
    port
}

/// Start a client for `user` and register from the login form (server and
/// name are pre-filled, the focus is on the password) with Ctrl-R.
fn register(tmux: &Tmux, dir: &Path, port: u16, user: &str) {
    tmux.start(user, &client_command(dir, port, user));
    tmux.wait_for(user, "Password");
    tmux.type_text(user, &format!("{user}-password"));
    tmux.keys(user, &["C-r"]);
    tmux.wait_for(user, &format!("Welcome, {user}"));
}

fn tmux_or_skip() -> bool {
    if tmux_available() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "tmux is required in CI");
    eprintln!("skipping: tmux is not installed");
    false
}

#[test]
fn two_clients_chat_see_joins_leaves_and_an_announcement() {
    if !tmux_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("chat");
    let port = start_server(&tmux, dir.path());
    register(&tmux, dir.path(), port, "alice");
    register(&tmux, dir.path(), port, "bob");
    tmux.wait_for("alice", "[bob] joined the chat room");

    tmux.type_text("bob", "hello alice, 你好!");
    tmux.keys("bob", &["Enter"]);
    tmux.wait_for("alice", "hello alice, 你好!");
    tmux.type_text("alice", "hi bob");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("bob", "hi bob");

    // An announcement typed into the server's console reaches both.
    tmux.type_text("srv", "Maintenance at noon");
    tmux.keys("srv", &["Enter"]);
    tmux.wait_for("alice", "Admin: Maintenance at noon");
    tmux.wait_for("bob", "Admin: Maintenance at noon");

    // bob quits with Ctrl-Q; alice sees him leave.
    tmux.keys("bob", &["C-q"]);
    tmux.wait_for("alice", "[bob] left the chat room");

    // The login was remembered for next time, without the password.
    let remembered = std::fs::read_to_string(dir.path().join("alice.json")).unwrap();
    assert!(remembered.contains("alice") && !remembered.contains("alice-password"));
}

#[test]
fn one_client_uploads_and_the_other_downloads_it_with_a_key() {
    if !tmux_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("files");
    let port = start_server(&tmux, dir.path());
    register(&tmux, dir.path(), port, "alice");
    register(&tmux, dir.path(), port, "bob");

    // 3 MiB of varied bytes, so a misplaced chunk would show.
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let content: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect();
    let source = dir.path().join("to share");
    std::fs::create_dir_all(&source).unwrap();
    let path = source.join("report.bin");
    std::fs::write(&path, &content).unwrap();

    // alice shares it with /upload (the rest of the line is the path).
    tmux.type_text("alice", &format!("/upload {}", path.display()));
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("alice", "Uploaded report.bin.");
    tmux.wait_for("bob", "[alice] shared report.bin (3.0 MiB)");
    tmux.wait_for("bob", "Files (1)");

    // bob: Tab to the files pane (input, messages, online, files), d asks
    // where (pre-filled with --download-dir), Enter confirms.
    tmux.keys("bob", &["Tab", "Tab", "Tab"]);
    tmux.wait_for("bob", "Enter/d download");
    tmux.keys("bob", &["d"]);
    tmux.wait_for("bob", "Save to:");
    tmux.keys("bob", &["Enter"]);
    tmux.wait_for("bob", "Saved report.bin to");

    let saved = dir.path().join("bob-downloads").join("report.bin");
    let got = std::fs::read(&saved).unwrap();
    assert!(
        got == content,
        "the downloaded bytes differ from the upload"
    );
    assert!(
        !dir.path()
            .join("bob-downloads")
            .join("report.bin.part")
            .exists(),
        "the part file is renamed into place"
    );
}
