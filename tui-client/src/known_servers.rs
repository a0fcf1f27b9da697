//! The known-servers file: the certificate fingerprint the client pinned for each
//! server whose certificate no certificate authority vouches for (a self-signed one),
//! on the first connection to it, like SSH's `known_hosts`.
//!
//! One line per server, `HOST:PORT FINGERPRINT`; `#` starts a comment. A connection
//! whose certificate has another fingerprint is refused; deleting the line is how a
//! user trusts a certificate that was replaced on purpose. The file lives in the
//! platform's config directory (for example `~/.config/chatroom/known_servers`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What the file says about a server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// The server has no line yet: this is the first use.
    Unknown,
    /// The pinned fingerprint is this one.
    Same,
    /// Another fingerprint is pinned, on this (1-based) line.
    Changed {
        /// The fingerprint pinned earlier.
        pinned: String,
        /// Its line in the file.
        line: usize,
    },
}

/// The known-servers file at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownServers {
    path: PathBuf,
}

/// The header written into a new file, so that whoever opens it knows what it is.
const HEADER: &str = "# chatroom known servers: HOST:PORT and the SHA-256 fingerprint of the \
certificate pinned on first use.\n# Delete a server's line to trust a certificate that was \
replaced on purpose.\n";

/// The platform's place for the file, if it has a config directory.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "chatroom").map(|d| d.config_dir().join("known_servers"))
}

/// How a server is written in the file: as given, host in lower case.
fn key(server: &str) -> String {
    server.trim().to_ascii_lowercase()
}

impl KnownServers {
    /// The file at `path` (it need not exist yet).
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the file says about `server` presenting `fingerprint`. A missing file
    /// knows no server.
    pub fn check(&self, server: &str, fingerprint: &str) -> std::io::Result<Known> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Known::Unknown),
            Err(e) => return Err(e),
        };
        let wanted = key(server);
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_whitespace();
            let (Some(name), Some(pinned)) = (fields.next(), fields.next()) else {
                continue;
            };
            if key(name) != wanted {
                continue;
            }
            return Ok(if pinned == fingerprint {
                Known::Same
            } else {
                Known::Changed {
                    pinned: pinned.to_owned(),
                    line: i + 1,
                }
            });
        }
        Ok(Known::Unknown)
    }

    /// Pin `fingerprint` for `server` (a new line; the file and its directory are made
    /// if missing).
    pub fn pin(&self, server: &str, fingerprint: &str) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let mut text = String::new();
        if file.metadata()?.len() == 0 {
            text.push_str(HEADER);
        }
        text.push_str(&format!("{} {fingerprint}\n", key(server)));
        file.write_all(text.as_bytes())?;
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_on_first_use_and_tells_same_from_changed() {
        let dir = tempfile::tempdir().unwrap();
        let known = KnownServers::new(dir.path().join("sub").join("known_servers"));
        assert_eq!(known.check("Host:1", "SHA256:a").unwrap(), Known::Unknown);
        known.pin("Host:1", "SHA256:a").unwrap();
        known.pin("other:2", "SHA256:b").unwrap();
        assert_eq!(known.check("host:1", "SHA256:a").unwrap(), Known::Same);
        assert_eq!(known.check("HOST:1", "SHA256:a").unwrap(), Known::Same);
        // The header takes two lines; the first pin is the third.
        assert_eq!(
            known.check("host:1", "SHA256:z").unwrap(),
            Known::Changed {
                pinned: "SHA256:a".into(),
                line: 3
            }
        );
        assert_eq!(known.check("host:2", "SHA256:b").unwrap(), Known::Unknown);
        let text = std::fs::read_to_string(known.path()).unwrap();
        assert!(text.starts_with("# chatroom known servers"), "{text}");
        assert_eq!(text.matches("# chatroom").count(), 1, "one header: {text}");
    }

    #[test]
    fn comments_blank_and_broken_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_servers");
        std::fs::write(
            &path,
            "# host:1 SHA256:x\n\nhost:1\n  host:1   SHA256:y  \n",
        )
        .unwrap();
        let known = KnownServers::new(path);
        assert_eq!(known.check("host:1", "SHA256:y").unwrap(), Known::Same);
    }
}
