//! The last server and user name, remembered between runs.
//!
//! Stored as a small JSON file in the platform's config directory (for example
//! `~/.config/chatroom/last.json` on Linux). The password is never stored.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What is remembered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    /// The last server, `HOST:PORT`.
    #[serde(default)]
    pub server: Option<String>,
    /// The last user name.
    #[serde(default)]
    pub user: Option<String>,
}

/// The config directory's file, if the platform has a config directory.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "chatroom").map(|d| d.config_dir().join("last.json"))
}

/// Read the remembered values; anything unreadable counts as nothing remembered.
pub fn load(path: &Path) -> Remembered {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Remember these values (written to a temporary file, then renamed into place).
pub fn save(path: &Path, remembered: &Remembered) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(remembered).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, json)?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_without_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("last.json");
        assert_eq!(load(&path), Remembered::default());
        let r = Remembered {
            server: Some("example:44302".into()),
            user: Some("alice".into()),
        };
        save(&path, &r).unwrap();
        assert_eq!(load(&path), r);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("password"));
    }

    #[test]
    fn garbage_reads_as_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("last.json");
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(load(&path), Remembered::default());
    }
}
