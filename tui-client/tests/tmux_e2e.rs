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
        self.start_sized(name, command, 110, 32);
    }

    /// Start `command` in a session of `width`×`height`.
    fn start_sized(&self, name: &str, command: &str, width: u16, height: u16) {
        let (width, height) = (width.to_string(), height.to_string());
        self.run(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            &width,
            "-y",
            &height,
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
/// The server binary beside the client's, built (or found up to date) once
/// per run: a binary left from an older build would test old code.
fn server_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let client = PathBuf::from(env!("CARGO_BIN_EXE_chatroom"));
            let dir = client.parent().expect("binary directory");
            let server = dir.join("chatroom-server");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build.args(["build", "-p", "chatroom-server", "--bin", "chatroom-server"]);
            if dir.ends_with("release") {
                build.arg("--release");
            }
            let status = build.status().expect("cargo build the server");
            assert!(status.success(), "building chatroom-server failed");
            assert!(server.exists(), "no server binary at {}", server.display());
            server
        })
        .clone()
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
        "{} --server 127.0.0.1:{port} --user {user} --no-bell --config {} --known-servers {} --log-file {} --download-dir {}",
        env!("CARGO_BIN_EXE_chatroom"),
        dir.join(format!("{user}.json")).display(),
        dir.join("known_servers").display(),
        dir.join(format!("{user}.log")).display(),
        downloads.display(),
    )
}

/// Start the real server (TLS with a self-signed certificate, as by default)
/// in tmux window `srv`; returns its port.
fn start_server(tmux: &Tmux, dir: &Path) -> u16 {
    let port = free_port();
    start_server_at(tmux, "srv", &dir.join("data"), port);
    port
}

/// Start the real server in tmux window `window` with data directory `data`
/// on `port`.
fn start_server_at(tmux: &Tmux, window: &str, data: &Path, port: u16) {
    tmux.start(
        window,
        &format!(
            "{} --listen 127.0.0.1:{port} --data-dir {} --bcrypt-cost 4 2>{}",
            server_binary().display(),
            data.display(),
            data.with_extension("log").display()
        ),
    );
    wait_for_port(port);
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

/// These tests are `#[ignore = "needs tmux"]`; one that was asked for fails
/// without it.
fn require_tmux() {
    assert!(
        tmux_available(),
        "this test drives the client in tmux: install tmux"
    );
}

#[test]
#[ignore = "needs tmux"]
fn two_clients_chat_see_joins_leaves_and_an_announcement() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("chat");
    let port = start_server(&tmux, dir.path());
    register(&tmux, dir.path(), port, "alice");
    // The server's self-signed certificate was trusted on first use, and said so.
    tmux.wait_for("alice", &format!("First connection to 127.0.0.1:{port}"));
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
#[ignore = "needs tmux"]
fn one_client_uploads_and_the_other_downloads_it_with_a_key() {
    require_tmux();
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

    // bob: Tab to the files pane (input, messages, conversations, online,
    // files), d asks where (pre-filled with --download-dir), Enter confirms.
    tmux.keys("bob", &["Tab", "Tab", "Tab", "Tab"]);
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

/// Wait until `target` shows `needle`, then type `keys` (key names).
fn when_then(tmux: &Tmux, target: &str, needle: &str, keys: &[&str]) {
    tmux.wait_for(target, needle);
    tmux.keys(target, keys);
}

#[test]
#[ignore = "needs tmux"]
fn two_clients_play_a_whole_game_by_keys_and_a_third_watches() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("game");
    let port = start_server(&tmux, dir.path());
    for user in ["alice", "bob", "carol"] {
        register(&tmux, dir.path(), port, user);
    }
    tmux.wait_for("alice", "[carol] joined the chat room");

    // alice invites with /game; the others see the invitation.
    tmux.type_text("alice", "/game");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("alice", "You invite anyone to play");
    tmux.wait_for("alice", "you invite ·");
    tmux.wait_for("bob", "alice invites anyone to play tic-tac-toe");
    tmux.wait_for("bob", "alice invites ·");

    // bob accepts from the side panel: Tab to the games pane (input,
    // messages, conversations, online, files, games), Enter. Both boards open
    // at once; the focus stays where it was, and F2 goes to the board.
    tmux.keys("bob", &["Tab", "Tab", "Tab", "Tab", "Tab"]);
    when_then(&tmux, "bob", "Enter accept/watch", &["Enter"]);
    tmux.wait_for("bob", "You play O against alice");
    tmux.wait_for("alice", "bob accepted: you play X and move first");
    tmux.wait_for("alice", "Your move: F2");
    tmux.wait_for("bob", "alice's turn (X)");
    tmux.wait_for("carol", "alice vs bob");
    tmux.keys("bob", &["F2"]);
    tmux.wait_for("bob", "r resign");

    // carol watches the game in play: Tab to the games pane, Enter.
    tmux.keys("carol", &["Tab", "Tab", "Tab", "Tab", "Tab"]);
    when_then(&tmux, "carol", "Enter accept/watch", &["Enter"]);
    tmux.wait_for("carol", "Watching game");

    // The chat stays usable: alice's input kept the focus; a message, then
    // F2 to the board.
    tmux.type_text("alice", "good luck bob");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("bob", "[alice]: good luck bob");
    tmux.keys("alice", &["F2"]);
    tmux.wait_for("alice", "r resign");

    // X centre (5); O top middle by arrows from the centre; X top left (1);
    // O blocks bottom right (9); X bottom left (7) threatens two lines; O
    // blocks one by arrows; X completes 3-5-7 (cells 2, 4, 6).
    tmux.keys("alice", &["5"]);
    when_then(&tmux, "bob", "your turn (O)", &["Up", "Enter"]);
    when_then(&tmux, "alice", "your turn (X)", &["1"]);
    when_then(&tmux, "bob", "your turn (O)", &["9"]);
    when_then(&tmux, "alice", "your turn (X)", &["7"]);
    // bob's cursor is on 9 (bottom right): Left, Left, Up is 4 (middle left).
    when_then(
        &tmux,
        "bob",
        "your turn (O)",
        &["Left", "Left", "Up", "Space"],
    );
    when_then(&tmux, "alice", "your turn (X)", &["3"]);

    // Both screens show the result line; everyone gets the summary.
    tmux.wait_for("alice", "You won: 3 in a row");
    tmux.wait_for("bob", "You lost: 3 in a row");
    tmux.wait_for("carol", "alice won: 3 in a row");
    for user in ["alice", "bob", "carol"] {
        tmux.wait_for(user, "alice beat bob at tic-tac-toe");
    }

    // The result is stored: a key that the board does not use goes to the
    // input, so /stats can be typed right away.
    tmux.type_text("alice", "/stats");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("alice", "alice: 1 win, 0 losses, 0 draws");
    tmux.type_text("bob", "/stats alice");
    tmux.keys("bob", &["Enter"]);
    tmux.wait_for("bob", "alice: 1 win, 0 losses, 0 draws");
}

#[test]
#[ignore = "needs tmux"]
fn typing_as_the_invitation_is_accepted_stays_a_message_and_r_asks_before_resigning() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("typing");
    let port = start_server(&tmux, dir.path());
    // alice in a default 80×24 terminal.
    tmux.start_sized("alice", &client_command(dir.path(), port, "alice"), 80, 24);
    tmux.wait_for("alice", "Password");
    tmux.type_text("alice", "alice-password");
    tmux.keys("alice", &["C-r"]);
    tmux.wait_for("alice", "Welcome, alice");
    register(&tmux, dir.path(), port, "bob");

    tmux.type_text("alice", "/game");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("bob", "alice invites anyone to play tic-tac-toe");
    tmux.type_text("bob", "/accept");
    tmux.keys("bob", &["Enter"]);
    // The board opens beside alice's chat while her input is empty; what
    // she types next is a message (r used to resign the game at once).
    tmux.wait_for("alice", "bob accepted: you play X and move first");
    tmux.type_text("alice", "really?");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("bob", "[alice]: really?");
    tmux.wait_for("alice", "Your move: F2");
    let screen = tmux.screen("alice");
    assert!(!screen.contains("resigned"), "{screen}");

    // On the board, r asks; n keeps playing; r then y resigns.
    tmux.keys("alice", &["F2"]);
    tmux.wait_for("alice", "r resign");
    tmux.keys("alice", &["r"]);
    tmux.wait_for("alice", "Resign? y: yes");
    tmux.keys("alice", &["n"]);
    tmux.wait_for("alice", "your turn (X)");
    tmux.keys("alice", &["5"]);
    tmux.wait_for("bob", "your turn (O)");
    assert!(!tmux.screen("bob").contains("resigned"));
    tmux.keys("alice", &["r"]);
    tmux.wait_for("alice", "Resign? y: yes");
    tmux.keys("alice", &["y"]);
    tmux.wait_for("alice", "You lost: you resigned");
    tmux.wait_for("bob", "alice resigned");
}

/// Wait until a line of `target`'s screen satisfies `pred`.
fn wait_for_line(tmux: &Tmux, target: &str, what: &str, pred: impl Fn(&str) -> bool) {
    let start = Instant::now();
    loop {
        let screen = tmux.screen(target);
        if screen.lines().any(&pred) {
            return;
        }
        assert!(
            start.elapsed() < WAIT,
            "{what} did not appear on {target} within {WAIT:?}; the screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// Wait until `target`'s program has exited (its tmux session is gone).
fn wait_gone(tmux: &Tmux, target: &str) {
    let start = Instant::now();
    while Command::new("tmux")
        .args(["-L", &tmux.socket, "has-session", "-t", target])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        assert!(start.elapsed() < WAIT, "{target} did not quit");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Start a client for `user` and log in (the account exists).
fn log_in(tmux: &Tmux, dir: &Path, port: u16, user: &str) {
    tmux.start(user, &client_command(dir, port, user));
    tmux.wait_for(user, "Password");
    tmux.type_text(user, &format!("{user}-password"));
    tmux.keys(user, &["Enter"]);
    tmux.wait_for(user, &format!("Welcome, {user}"));
}

/// The conversations pane's row for `label` ends in `count` unread.
fn row_with_unread(line: &str, label: &str, count: &str) -> bool {
    line.split('│')
        .any(|cell| cell.trim_start().starts_with(label) && cell.trim_end().ends_with(count))
}

#[test]
#[ignore = "needs tmux"]
fn a_private_group_is_approved_by_key_and_a_direct_message_waits_for_its_reader() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("groups");
    let port = start_server(&tmux, dir.path());
    register(&tmux, dir.path(), port, "alice");
    register(&tmux, dir.path(), port, "bob");

    // A direct message to a name nobody has: one notice, no conversation left.
    tmux.type_text("bob", "/msg nobody hello");
    tmux.keys("bob", &["Enter"]);
    tmux.wait_for("bob", "No user named nobody. “hello” was not sent.");
    tmux.wait_for("bob", " message ");
    let screen = tmux.screen("bob");
    assert!(!screen.contains("@nobody"), "{screen}");
    assert_eq!(screen.matches("nobody").count(), 1, "one notice:\n{screen}");

    // alice makes a private group; it is shown, and her input goes there.
    tmux.type_text("alice", "/create --private team release plans");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("alice", "You created #team");
    tmux.wait_for("alice", "message to #team");

    // bob asks to join; alice sees the request in her conversations pane.
    tmux.type_text("bob", "/join team");
    tmux.keys("bob", &["Enter"]);
    tmux.wait_for("bob", "You asked to join #team; alice decides");
    tmux.wait_for("alice", "bob asks to join #team: a approves");
    tmux.wait_for("alice", "bob asks for #team");

    // alice approves with a key: Tab to the pane (input, messages,
    // conversations), down past the room and #team to the request, a.
    tmux.keys("alice", &["Tab", "Tab", "Down", "Down"]);
    when_then(&tmux, "alice", "a approve · r reject", &["a"]);
    tmux.wait_for("bob", "Your request to join #team was approved");
    tmux.wait_for("alice", "You let bob into #team.");

    // bob opens #team from his pane (the room, then #team) and they talk.
    tmux.keys("bob", &["Tab", "Tab", "Down", "Enter"]);
    tmux.wait_for("bob", "message to #team");
    tmux.type_text("bob", "thanks, glad to be in");
    tmux.keys("bob", &["Enter"]);
    tmux.wait_for("alice", "[bob]: thanks, glad to be in");
    // Back to the input, and only then type: an ESC and a key that reach
    // the client together read as Alt and that key (CI once lost the "w"
    // of "welcome" so). The input's hints in the footer show the Escape
    // was taken.
    tmux.keys("alice", &["Escape"]);
    tmux.wait_for("alice", "Enter send · F1 help");
    tmux.type_text("alice", "welcome to the team");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("bob", "[alice]: welcome to the team");

    // bob quits; alice writes him directly while he is away.
    tmux.keys("bob", &["C-q"]);
    wait_gone(&tmux, "bob");
    tmux.wait_for("alice", "Online (1)");
    tmux.type_text("alice", "/msg bob the release moved to friday");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("alice", "message to @bob");
    tmux.wait_for("alice", "[alice]: the release moved to friday");

    // bob logs in again: the message arrives, counted unread in his pane,
    // and shows in the conversation with alice.
    log_in(&tmux, dir.path(), port, "bob");
    wait_for_line(&tmux, "bob", "@alice with 1 unread", |l| {
        row_with_unread(l, "@alice", " 1")
    });
    tmux.wait_for("bob", "#team");
    // Tab to the pane; the rows are the room, #team, @alice.
    tmux.keys("bob", &["Tab", "Tab", "Down", "Down", "Enter"]);
    tmux.wait_for("bob", "message to @alice");
    tmux.wait_for("bob", "[alice]: the release moved to friday");

    // Shown means read, and quitting tells the server what was read before
    // it leaves: logging in again delivers nothing. The conversation with
    // alice is listed (the server's `conversations`), with nothing unread.
    // No waiting for either: the server sends what a user missed before it
    // answers any request made after `login` (PROTOCOL §17.3), so once the
    // listed row is on screen, a message delivered again would be too.
    tmux.keys("bob", &["C-q"]);
    wait_gone(&tmux, "bob");
    log_in(&tmux, dir.path(), port, "bob");
    tmux.wait_for("bob", "#team");
    tmux.wait_for("bob", "@alice");
    let screen = tmux.screen("bob");
    let row = screen
        .lines()
        .flat_map(|l| l.split('│'))
        .find(|cell| cell.trim_start().starts_with("@alice"))
        .unwrap_or_default();
    assert_eq!(
        row.trim(),
        "@alice",
        "listed, and the direct message did not come again:\n{screen}"
    );
}

#[test]
#[ignore = "needs tmux"]
fn a_pinned_certificate_is_trusted_again_and_a_changed_one_is_refused() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("tofu");
    let port = start_server(&tmux, dir.path());
    register(&tmux, dir.path(), port, "alice");
    tmux.wait_for("alice", "First connection to");
    tmux.keys("alice", &["C-q"]);
    wait_gone(&tmux, "alice");

    // Next time the pinned certificate is accepted without a word.
    log_in(&tmux, dir.path(), port, "alice");
    assert!(!tmux.screen("alice").contains("First connection"));
    tmux.keys("alice", &["C-q"]);
    wait_gone(&tmux, "alice");

    // Another server, with another certificate, answers on the same address.
    tmux.type_text("srv", "/quit");
    tmux.keys("srv", &["Enter"]);
    wait_gone(&tmux, "srv");
    start_server_at(&tmux, "srv2", &dir.path().join("other"), port);
    tmux.start("alice", &client_command(dir.path(), port, "alice"));
    tmux.wait_for("alice", "Password");
    tmux.type_text("alice", "alice-password");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("alice", "CHANGED");
    assert!(!tmux.screen("alice").contains("Welcome"));
}

/// A fresh PostgreSQL database for the cluster test, dropped on drop (through `psql`,
/// with the admin URL in `TEST_POSTGRES_URL`).
struct PgDatabase {
    admin: String,
    name: String,
}

impl PgDatabase {
    fn create(admin: &str) -> Self {
        let name = format!("chatroom_e2e_{}", std::process::id());
        let db = Self {
            admin: admin.to_owned(),
            name,
        };
        db.psql(&format!("DROP DATABASE IF EXISTS {}", db.name));
        db.psql(&format!("CREATE DATABASE {}", db.name));
        db
    }

    fn psql(&self, sql: &str) {
        let status = Command::new("psql")
            .args([self.admin.as_str(), "-qc", sql])
            .status()
            .expect("run psql");
        assert!(status.success(), "psql: {sql}");
    }

    /// The database's URL: the admin URL with its database replaced.
    fn url(&self) -> String {
        let base = self
            .admin
            .rsplit_once('/')
            .map_or(self.admin.as_str(), |(b, _)| b);
        format!("{base}/{}", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                self.admin.as_str(),
                "-qc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .status();
    }
}

/// Start cluster node `node` in tmux window `node`: the shared data directory and
/// database, NATS at `nats`.
fn start_node(tmux: &Tmux, node: &str, port: u16, data: &Path, database: &str, nats: &str) {
    tmux.start(
        node,
        &format!(
            "{} --listen 127.0.0.1:{port} --data-dir {} --bcrypt-cost 4 --database-url {database} \
             --nats-url {nats} --cluster-name e2e-{} --node-id {node} --node-heartbeat 200ms 2>{}",
            server_binary().display(),
            data.display(),
            std::process::id(),
            std::path::Path::new("/tmp")
                .join(format!("e2e-{node}.log"))
                .display()
        ),
    );
    wait_for_port(port);
}

#[test]
#[ignore = "needs tmux, TEST_POSTGRES_URL and TEST_NATS_URL"]
fn two_clients_on_two_nodes_of_a_cluster_chat_and_play() {
    require_tmux();
    let needs = |var: &str| {
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| panic!("{var} is not set: this test needs it"))
    };
    let (admin, nats) = (needs("TEST_POSTGRES_URL"), needs("TEST_NATS_URL"));
    let db = PgDatabase::create(&admin);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tmux = Tmux::new("cluster");
    // n1 first: it makes the TLS certificate in the shared data directory.
    let (p1, p2) = (free_port(), free_port());
    start_node(&tmux, "n1", p1, &data, &db.url(), &nats);
    start_node(&tmux, "n2", p2, &data, &db.url(), &nats);

    register(&tmux, dir.path(), p1, "alice");
    register(&tmux, dir.path(), p2, "bob");
    tmux.wait_for("alice", "[bob] joined the chat room");
    tmux.wait_for("bob", "alice");

    tmux.type_text("bob", "hello from node two");
    tmux.keys("bob", &["Enter"]);
    tmux.wait_for("alice", "[bob]: hello from node two");
    tmux.type_text("alice", "hi from node one");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("bob", "[alice]: hi from node one");

    // An announcement typed on n2's console reaches alice on n1.
    tmux.type_text("n2", "Maintenance at noon");
    tmux.keys("n2", &["Enter"]);
    tmux.wait_for("alice", "Admin: Maintenance at noon");
    // n1's console lists both users with their nodes.
    tmux.type_text("n1", "/users");
    tmux.keys("n1", &["Enter"]);
    tmux.wait_for("n1", "on n2");

    // A game across the nodes: alice invites, bob accepts.
    tmux.type_text("alice", "/game");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("bob", "alice invites anyone to play tic-tac-toe");
    tmux.type_text("bob", "/accept");
    tmux.keys("bob", &["Enter"]);
    tmux.wait_for("bob", "You play O against alice");
    tmux.wait_for("alice", "bob accepted: you play X and move first");

    // bob quits; alice, on the other node, sees him leave.
    tmux.keys("bob", &["C-q"]);
    tmux.wait_for("alice", "[bob] left the chat room");
    drop(tmux);
    drop(db);
}

/// Quitting leaves the terminal as it was: the shell's prompt comes back
/// with nothing typed at it (an answer to a terminal query asked while
/// leaving used to arrive after the client had gone: `^[[?1;2c`, and `1;2c`
/// left at the prompt).
#[test]
#[ignore = "needs tmux"]
fn quitting_leaves_the_shell_prompt_clean() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("quit");
    let port = start_server(&tmux, dir.path());
    tmux.start("sh", "env PS1='prompt$ ' bash --norc --noprofile");
    tmux.wait_for("sh", "prompt$");
    tmux.type_text("sh", &client_command(dir.path(), port, "alice"));
    tmux.keys("sh", &["Enter"]);
    tmux.wait_for("sh", "Password");
    tmux.type_text("sh", "alice-password");
    tmux.keys("sh", &["C-r"]);
    tmux.wait_for("sh", "Welcome, alice");
    tmux.keys("sh", &["C-q"]);
    // The shell's new prompt, with nothing at it (the old one, with the
    // client's command after it, is back on the screen as soon as the client
    // leaves its alternate screen). tmux reads the pane's output in order and
    // answers a query as it reads it, so anything the client asked before it
    // exited has been answered by now, ahead of the keys typed below: it shows
    // at this prompt, or in front of the command.
    let start = Instant::now();
    loop {
        let screen = tmux.screen("sh");
        let last = screen.lines().rev().find(|l| !l.trim().is_empty());
        if last.map(str::trim_end) == Some("prompt$") {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "no empty prompt after quitting; the screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(150));
    }
    tmux.type_text("sh", "echo clean-$((6*7))");
    tmux.keys("sh", &["Enter"]);
    tmux.wait_for("sh", "clean-42");
    let screen = tmux.screen("sh");
    assert!(
        !screen.contains("1;2c") && !screen.contains("^["),
        "something was left at the prompt:\n{screen}"
    );
    let lines: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines[lines.len() - 3..],
        ["prompt$ echo clean-$((6*7))", "clean-42", "prompt$"],
        "the screen:\n{screen}"
    );
}
