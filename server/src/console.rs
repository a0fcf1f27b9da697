//! The admin console: lines typed on the server's standard input.
//!
//! A plain line is an announcement to everyone ("Admin: text"); a line that
//! starts with `/` is a command. `//text` announces "/text". The console's
//! answers are written to its output (standard output), not to the log; names
//! in them, which clients chose, go through [`untrusted`].

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::admin::Admin;
use crate::search::State;
use crate::time::now_ms;
use crate::untrusted::untrusted;

/// The console's help text.
pub const HELP: &str = "\
Type a line to announce it to every user (shown as \"Admin: text\").
Commands:
  /help                 this help
  /users                who is online, with their addresses
  /kick NAME [REASON]   disconnect a user
  /ban NAME             disable an account (and disconnect it)
  /unban NAME           enable a banned account
  /groups               the open groups
  /close-group NAME     close a group: read-only from now on (its members are told)
  /search-index         the search index: its state, messages and size on disk
  /backup PATH          copy the SQLite database to PATH while running, and list
                        the shared files to copy with it in PATH.files
  /quit                 shut the server down gracefully
  //text                announce a line that starts with /";

/// One console line, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Announce this text.
    Announce(String),
    /// Show the help.
    Help,
    /// List online users.
    Users,
    /// Kick a user.
    Kick {
        /// Who.
        name: String,
        /// Why, if given.
        reason: Option<String>,
    },
    /// Ban an account.
    Ban(String),
    /// Unban an account.
    Unban(String),
    /// List the open groups.
    Groups,
    /// Close a group.
    CloseGroup(String),
    /// Show the search index's state and size.
    SearchIndex,
    /// Back the database up to this path.
    Backup(String),
    /// Shut down.
    Quit,
    /// A blank line: nothing to do.
    Nothing,
    /// A command used wrongly: show its usage.
    Usage(&'static str),
    /// An unknown command.
    Unknown(String),
}

/// Parse one line.
pub fn parse(line: &str) -> Command {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Command::Nothing;
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Command::Announce(line.to_owned());
    };
    if rest.starts_with('/') {
        return Command::Announce(rest.to_owned());
    }
    let mut words = rest.split_whitespace();
    let cmd = words.next().unwrap_or("");
    if cmd == "backup" {
        // The path is the rest of the line, spaces and all.
        let path = rest["backup".len()..].trim();
        return if path.is_empty() {
            Command::Usage("/backup PATH")
        } else {
            Command::Backup(path.to_owned())
        };
    }
    let name = words.next().map(str::to_owned);
    let tail: Vec<&str> = words.collect();
    match (cmd, name) {
        ("help" | "h" | "?", _) => Command::Help,
        ("users" | "who", _) => Command::Users,
        ("quit" | "exit", _) => Command::Quit,
        ("kick", Some(name)) => Command::Kick {
            name,
            reason: (!tail.is_empty()).then(|| tail.join(" ")),
        },
        ("kick", None) => Command::Usage("/kick NAME [REASON]"),
        ("ban", Some(name)) => Command::Ban(name),
        ("ban", None) => Command::Usage("/ban NAME"),
        ("unban", Some(name)) => Command::Unban(name),
        ("unban", None) => Command::Usage("/unban NAME"),
        ("groups", _) => Command::Groups,
        ("close-group", Some(name)) => Command::CloseGroup(name),
        ("close-group", None) => Command::Usage("/close-group NAME"),
        ("search-index", _) => Command::SearchIndex,
        (other, _) => Command::Unknown(other.to_owned()),
    }
}

/// A size for people: "812 bytes", "3.4 KiB", "96.0 MiB", "1.2 GiB".
fn bytes(n: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// "1 member", "2 members".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Carry out one command; returns the text to show the administrator.
pub async fn execute(admin: &Admin, cmd: Command) -> String {
    match cmd {
        Command::Nothing => String::new(),
        Command::Help => HELP.to_owned(),
        Command::Usage(usage) => format!("usage: {usage}"),
        Command::Unknown(cmd) => format!("unknown command /{cmd}; type /help for the list"),
        Command::Announce(text) => match admin.announce(&text).await {
            Ok(_) => format!("announced: Admin: {text}"),
            Err(e) => format!("not announced: {e}"),
        },
        Command::Users => match admin.users().await {
            Ok(users) if users.is_empty() => "nobody is online".to_owned(),
            Ok(users) => {
                let now = now_ms();
                let mut out = format!("{} online:", users.len());
                for u in users {
                    let mins = (now - u.since).max(0) / 60_000;
                    out.push_str(&format!(
                        "\n  {}  {}  ({mins} min)  on {}",
                        untrusted(&u.name),
                        u.addr,
                        untrusted(&u.node)
                    ));
                }
                out
            }
            Err(e) => format!("error: {e}"),
        },
        Command::Kick { name, reason } => match admin.kick(&name, reason).await {
            Ok(()) => format!("kicked {name}"),
            Err(e) => format!("not kicked: {e}"),
        },
        Command::Ban(name) => match admin.ban(&name).await {
            Ok(true) => format!("banned {name} and disconnected them"),
            Ok(false) => format!("banned {name}"),
            Err(e) => format!("not banned: {e}"),
        },
        Command::Unban(name) => match admin.unban(&name).await {
            Ok(()) => format!("unbanned {name}"),
            Err(e) => format!("not unbanned: {e}"),
        },
        Command::Groups => match admin.groups().await {
            Ok(groups) if groups.is_empty() => "no open groups".to_owned(),
            Ok(groups) => {
                let mut out = format!("{}:", count(groups.len(), "open group", "open groups"));
                for g in groups {
                    let kind = if g.private { "private" } else { "public" };
                    out.push_str(&format!(
                        "\n  {}  ({kind}, by {}, {})",
                        untrusted(&g.name),
                        untrusted(&g.creator),
                        count(
                            usize::try_from(g.members).unwrap_or(usize::MAX),
                            "member",
                            "members"
                        )
                    ));
                }
                out
            }
            Err(e) => format!("error: {e}"),
        },
        Command::CloseGroup(name) => match admin.close_group(&name).await {
            Ok(()) => format!("closed the group {name}"),
            Err(e) => format!("not closed: {e}"),
        },
        Command::SearchIndex => match admin.search_index() {
            None => "no search index (--search-index false, or it could not be opened): \
                     searches scan the history"
                .to_owned(),
            Some(size) => {
                let state = match size.state {
                    State::Building => "reading the history (searches scan meanwhile)",
                    State::Ready => "ready",
                    State::Broken => "failed (searches scan; the next start builds it again)",
                };
                format!(
                    "search index: {state}; {} in it, {} on disk",
                    count(
                        usize::try_from(size.messages).unwrap_or(usize::MAX),
                        "message",
                        "messages"
                    ),
                    bytes(size.bytes)
                )
            }
        },
        Command::Backup(path) => match admin.backup(std::path::Path::new(&path)).await {
            Ok(b) => format!(
                "backup written: {} ({}); it records {} ({}) in the files directory, \
                 listed one path a line in {}: copy them with it",
                untrusted(&b.database.to_string_lossy()),
                bytes(b.bytes),
                count(b.files, "shared file", "shared files"),
                bytes(b.file_bytes),
                untrusted(&b.file_list.to_string_lossy()),
            ),
            Err(e) => format!("no backup: {e}"),
        },
        Command::Quit => {
            admin.shutdown();
            "shutting down".to_owned()
        }
    }
}

/// Read lines until the channel closes (standard input reached its end), and
/// carry each out. The server keeps running after the console ends.
pub async fn run(
    mut lines: mpsc::Receiver<String>,
    mut out: impl AsyncWrite + Unpin,
    admin: Admin,
) {
    while let Some(line) = lines.recv().await {
        let cmd = parse(&line);
        let quit = cmd == Command::Quit;
        let answer = execute(&admin, cmd).await;
        if !answer.is_empty() {
            let _ = out.write_all(format!("{answer}\n").as_bytes()).await;
            let _ = out.flush().await;
        }
        if quit {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(bytes(812), "812 bytes");
        assert_eq!(bytes(3 * 1024 + 410), "3.4 KiB");
        assert_eq!(bytes(96 * 1024 * 1024), "96.0 MiB");
        assert_eq!(bytes(1288 * 1024 * 1024), "1.3 GiB");
    }

    #[test]
    fn parses_every_command() {
        assert_eq!(parse("hello all"), Command::Announce("hello all".into()));
        assert_eq!(
            parse("//etc is fine"),
            Command::Announce("/etc is fine".into())
        );
        assert_eq!(parse("   "), Command::Nothing);
        assert_eq!(parse("/help"), Command::Help);
        assert_eq!(parse("/users\n"), Command::Users);
        assert_eq!(parse("/quit"), Command::Quit);
        assert_eq!(
            parse("/kick bob too loud"),
            Command::Kick {
                name: "bob".into(),
                reason: Some("too loud".into())
            }
        );
        assert_eq!(
            parse("/kick bob"),
            Command::Kick {
                name: "bob".into(),
                reason: None
            }
        );
        assert_eq!(parse("/kick"), Command::Usage("/kick NAME [REASON]"));
        assert_eq!(parse("/ban eve"), Command::Ban("eve".into()));
        assert_eq!(parse("/unban eve"), Command::Unban("eve".into()));
        assert_eq!(parse("/dance"), Command::Unknown("dance".into()));
        assert_eq!(parse("/groups"), Command::Groups);
        assert_eq!(parse("/search-index"), Command::SearchIndex);
        assert_eq!(
            parse("/backup /var/backups/chat room.db"),
            Command::Backup("/var/backups/chat room.db".into())
        );
        assert_eq!(parse("/backup  "), Command::Usage("/backup PATH"));
        assert_eq!(
            parse("/close-group rust"),
            Command::CloseGroup("rust".into())
        );
        assert_eq!(parse("/close-group"), Command::Usage("/close-group NAME"));
    }

    #[test]
    fn counts_read_as_english() {
        assert_eq!(count(1, "member", "members"), "1 member");
        assert_eq!(count(0, "member", "members"), "0 members");
        assert_eq!(count(2, "open group", "open groups"), "2 open groups");
    }
}
