//! Administration without a terminal (issue 19 §1): the server's data
//! directory holds a lock, so two servers never share it by mistake, and a
//! control socket, so `chatroom-server admin …` reaches the running server
//! under systemd, nohup or a container, where nobody types on its console.
//!
//! - The lock (`chatroom.lock`, or `chatroom-NODE.lock` for a cluster node,
//!   since nodes may share one directory) is held for the server's life; a
//!   second server on the same directory refuses to start.
//! - The socket (`admin.sock`, or `admin-NODE.sock`) is a Unix socket, mode
//!   0600: only the server's own user (and root, who may do anything to the
//!   server anyway) reaches it: the kernel checks the mode, and the server
//!   checks the peer's user id as well. Nothing is on the network.
//! - One request per connection: a console line (see [`crate::console`]),
//!   then the end of the stream; the answer is the console's text, then the
//!   end of the stream. The console's one implementation carries it out.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tracing::{debug, warn};

use crate::admin::Admin;
use crate::console;

/// The longest request line the socket reads.
const MAX_REQUEST: u64 = 64 * 1024;

/// Why the data directory cannot be had, or the socket not reached.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Another server holds the data directory's lock.
    #[error(
        "another chatroom-server is running on the data directory {dir} (it holds {lock}); \
         stop it first, or give this one another --data-dir"
    )]
    InUse {
        /// The data directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The control socket is not there, or nobody answers on it.
    #[error(
        "no chatroom-server answers on {path} ({source}): is it running, with this \
         --data-dir (and --node-id), as this user?"
    )]
    NotRunning {
        /// The socket's path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Some other IO failure.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The names of one server's lock and socket in its data directory.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The data directory.
    pub dir: PathBuf,
    /// The lock file.
    pub lock: PathBuf,
    /// The control socket.
    pub socket: PathBuf,
}

impl Paths {
    /// The paths for a server with this data directory; `node` names a
    /// cluster node (nodes may share a directory, each has its own).
    pub fn new(data_dir: &Path, node: Option<&str>) -> Self {
        let suffix = node
            .map(|n| format!("-{}", crate::config::node_file_part(n)))
            .unwrap_or_default();
        Self {
            dir: data_dir.to_owned(),
            lock: data_dir.join(format!("chatroom{suffix}.lock")),
            socket: data_dir.join(format!("admin{suffix}.sock")),
        }
    }
}

/// The paths of the server `config` starts: a cluster node's carry its node
/// id (`--node-id`, or the default one).
pub fn paths_of(config: &crate::Config) -> Paths {
    let node = config.nats_url.as_ref().map(|_| {
        config
            .node_id
            .clone()
            .unwrap_or_else(|| crate::cluster::default_node_id(config.listen.port()))
    });
    Paths::new(&config.data_dir, node.as_deref())
}

/// The data directory's lock, held while this value lives (the system lets
/// go of it when the process ends, however it ends).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Take the data directory's lock (making the directory if needed), or say
/// that another server holds it.
pub fn lock(paths: &Paths) -> Result<DirLock, ControlError> {
    std::fs::create_dir_all(&paths.dir).map_err(|source| ControlError::Io {
        what: "cannot create the data directory",
        path: paths.dir.clone(),
        source,
    })?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&paths.lock)
        .map_err(|source| ControlError::Io {
            what: "cannot open the lock file",
            path: paths.lock.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(DirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(ControlError::InUse {
            dir: paths.dir.clone(),
            lock: paths.lock.clone(),
        }),
        Err(TryLockError::Error(source)) => Err(ControlError::Io {
            what: "cannot lock",
            path: paths.lock.clone(),
            source,
        }),
    }
}

/// Make the control socket, mode 0600. Call with the lock held: a socket
/// file left there is then a dead server's, and is replaced.
pub fn bind(paths: &Paths, _lock: &DirLock) -> Result<UnixListener, ControlError> {
    let io = |what| {
        let path = paths.socket.clone();
        move |source| ControlError::Io { what, path, source }
    };
    match std::fs::remove_file(&paths.socket) {
        Ok(()) => debug!(path = %paths.socket.display(), "replaced a dead server's control socket"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("cannot remove the old control socket")(e)),
    }
    let listener =
        UnixListener::bind(&paths.socket).map_err(io("cannot make the control socket"))?;
    std::fs::set_permissions(&paths.socket, std::fs::Permissions::from_mode(0o600))
        .map_err(io("cannot restrict the control socket"))?;
    Ok(listener)
}

/// Answer requests on the control socket until the task is dropped.
pub async fn serve(listener: UnixListener, admin: Admin) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let admin = admin.clone();
                tokio::spawn(async move {
                    if let Err(e) = answer(stream, &admin).await {
                        debug!(error = %e, "a control socket request failed");
                    }
                });
            }
            Err(e) => {
                warn!(error = %e, "the control socket's accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// One request: the peer must be this server's user; read its line, carry it
/// out as the console would, write the answer.
async fn answer(stream: UnixStream, admin: &Admin) -> std::io::Result<()> {
    if !trusted(&stream)? {
        // The socket's mode keeps others out; this is a second lock on the door.
        warn!("a control socket connection from another user was refused");
        return Ok(());
    }
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read.take(MAX_REQUEST))
        .read_line(&mut line)
        .await?;
    let cmd = console::parse(&line);
    let answer = console::execute(admin, cmd).await;
    write.write_all(answer.as_bytes()).await?;
    write.shutdown().await
}

/// Whether the peer runs as the server's user, or as root (under systemd's
/// `DynamicUser` the operator has no other way in).
#[cfg(target_os = "linux")]
fn trusted(stream: &UnixStream) -> std::io::Result<bool> {
    let peer = stream.peer_cred()?.uid();
    Ok(peer == rustix::process::geteuid().as_raw() || peer == 0)
}

#[cfg(not(target_os = "linux"))]
fn trusted(_stream: &UnixStream) -> std::io::Result<bool> {
    // The socket's mode (0600) is the check here.
    Ok(true)
}

/// The console line for `chatroom-server admin WORDS…`: `announce TEXT…`
/// announces the text (as typed, even when it starts with `/`); any other
/// command is the console's `/COMMAND ARGS…`.
pub fn console_line(words: &[String]) -> String {
    match words.split_first() {
        None => "/help".to_owned(),
        Some((cmd, rest)) if cmd == "announce" => {
            // `admin announce -- -text`: the `--` only ends the options.
            let rest = rest.strip_prefix(&["--".to_owned()][..]).unwrap_or(rest);
            let text = rest.join(" ");
            if text.starts_with('/') {
                format!("/{text}")
            } else {
                text
            }
        }
        Some(_) => format!("/{}", words.join(" ")),
    }
}

/// Send one console line to the server on `socket` and return its answer.
pub async fn request(socket: &Path, line: &str) -> Result<String, ControlError> {
    let not_running = |source| ControlError::NotRunning {
        path: socket.to_owned(),
        source,
    };
    let mut stream = UnixStream::connect(socket).await.map_err(not_running)?;
    let io = |source| ControlError::Io {
        what: "talking to the server on",
        path: socket.to_owned(),
        source,
    };
    let mut request = line.replace(['\r', '\n'], " ");
    request.push('\n');
    stream.write_all(request.as_bytes()).await.map_err(io)?;
    stream.shutdown().await.map_err(io)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.map_err(io)?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn admin_words_become_the_console_line() {
        assert_eq!(
            console_line(&words(&["announce", "maintenance", "at", "20:00"])),
            "maintenance at 20:00"
        );
        assert_eq!(
            console_line(&words(&["announce", "/not a command"])),
            "//not a command"
        );
        assert_eq!(
            console_line(&words(&["kick", "bob", "too", "loud"])),
            "/kick bob too loud"
        );
        assert_eq!(console_line(&words(&["users"])), "/users");
        assert_eq!(console_line(&[]), "/help");
    }

    #[test]
    fn each_node_has_its_own_lock_and_socket() {
        let one = Paths::new(Path::new("d"), None);
        assert_eq!(one.lock, Path::new("d/chatroom.lock"));
        assert_eq!(one.socket, Path::new("d/admin.sock"));
        let node = Paths::new(Path::new("d"), Some("n 1/x"));
        assert_eq!(node.lock, Path::new("d/chatroom-n_1_x.lock"));
        assert_eq!(node.socket, Path::new("d/admin-n_1_x.sock"));
    }

    #[test]
    fn a_second_lock_on_one_directory_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path(), None);
        let first = lock(&paths).unwrap();
        assert!(matches!(lock(&paths), Err(ControlError::InUse { .. })));
        // Another node's lock in the same directory is its own.
        lock(&Paths::new(dir.path(), Some("n2"))).unwrap();
        drop(first);
        lock(&paths).unwrap();
    }
}
