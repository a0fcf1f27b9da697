//! Local paths typed by the user: `/upload` arguments, `~` for the home
//! directory, Tab completion of the last path component, and the default
//! download directory.
//!
//! Completion is the one place the app reads the disk ([`list_dir`], a
//! directory listing); the completion itself ([`complete_from`]) is pure.

use std::path::{Path, PathBuf};

/// One directory entry for completion: its name and whether it is a directory.
pub type Listed = (String, bool);

/// Where downloads go unless the user says otherwise: the platform's download
/// directory, else the home directory, else the current one.
pub fn default_download_dir() -> PathBuf {
    directories::UserDirs::new()
        .map(|u| {
            u.download_dir()
                .map_or_else(|| u.home_dir().to_path_buf(), Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `~` and `~/...` name the home directory.
pub fn expand_tilde(text: &str) -> PathBuf {
    let home = || directories::UserDirs::new().map(|u| u.home_dir().to_path_buf());
    if text == "~" {
        if let Some(h) = home() {
            return h;
        }
    } else if let Some(rest) = text.strip_prefix("~/")
        && let Some(h) = home()
    {
        return h.join(rest);
    }
    PathBuf::from(text)
}

/// `/upload` arguments: `PATH` (the whole rest of the line, spaces and all,
/// no comment) or `"PATH" comment` (a quoted path, then an optional comment).
pub fn parse_upload(args: &str) -> Result<(String, Option<String>), String> {
    const USAGE: &str = "Usage: /upload PATH  or  /upload \"PATH\" comment";
    let args = args.trim();
    if args.is_empty() {
        return Err(USAGE.to_owned());
    }
    let Some(quoted) = args.strip_prefix('"') else {
        return Ok((args.to_owned(), None));
    };
    let Some(end) = quoted.find('"') else {
        return Err(format!("The path's closing quote is missing. {USAGE}"));
    };
    let path = &quoted[..end];
    if path.is_empty() {
        return Err(USAGE.to_owned());
    }
    let comment = quoted[end + 1..].trim();
    Ok((
        path.to_owned(),
        (!comment.is_empty()).then(|| comment.to_owned()),
    ))
}

/// The directory to list for completing `text`, and the part of the last
/// component typed so far.
fn split(text: &str) -> (&str, &str) {
    match text.rfind('/') {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => ("", text),
    }
}

/// The entries of the directory that completing `text` looks into (nothing
/// when it cannot be read).
pub fn list_dir(text: &str) -> Vec<Listed> {
    let (dir, _) = split(text);
    let dir = if dir.is_empty() {
        PathBuf::from(".")
    } else {
        expand_tilde(dir)
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            // Follows links: a link to a directory completes like one.
            let is_dir = e.path().is_dir();
            Some((name, is_dir))
        })
        .collect()
}

/// Complete the last component of `text` from `listing` (the entries of its
/// directory): one match completes fully (a directory gets a `/`), several
/// complete to their common prefix. Hidden entries need a typed `.`; with
/// `dirs_only`, files are left out. `None` when nothing can be added.
pub fn complete_from(text: &str, listing: &[Listed], dirs_only: bool) -> Option<String> {
    let (dir, stem) = split(text);
    let mut matches: Vec<&Listed> = listing
        .iter()
        .filter(|(name, is_dir)| {
            name.starts_with(stem)
                && (stem.starts_with('.') || !name.starts_with('.'))
                && (*is_dir || !dirs_only)
        })
        .collect();
    matches.sort();
    let completed = match matches.as_slice() {
        [] => return None,
        [(name, is_dir)] => format!("{dir}{name}{}", if *is_dir { "/" } else { "" }),
        [(first, _), rest @ ..] => {
            let mut prefix = first.as_str();
            for (name, _) in rest {
                let len = prefix
                    .char_indices()
                    .zip(name.chars())
                    .find(|((_, a), b)| a != b)
                    .map_or_else(|| prefix.len().min(name.len()), |((i, _), _)| i);
                prefix = &prefix[..len];
            }
            format!("{dir}{prefix}")
        }
    };
    (completed != text).then_some(completed)
}

/// Tab in a path prompt: complete `text` from its directory on disk.
pub fn complete_path(text: &str, dirs_only: bool) -> Option<String> {
    complete_from(text, &list_dir(text), dirs_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_arguments_plain_or_quoted() {
        assert_eq!(
            parse_upload(" /tmp/my report.pdf "),
            Ok(("/tmp/my report.pdf".into(), None))
        );
        assert_eq!(
            parse_upload("\"/tmp/my report.pdf\" the Q3 numbers"),
            Ok(("/tmp/my report.pdf".into(), Some("the Q3 numbers".into())))
        );
        assert_eq!(parse_upload("\"a b.txt\""), Ok(("a b.txt".into(), None)));
        assert!(parse_upload("").is_err());
        assert!(parse_upload("\"\" hi").is_err());
        assert!(
            parse_upload("\"/tmp/unclosed")
                .unwrap_err()
                .contains("quote")
        );
    }

    #[test]
    fn tilde_is_home() {
        assert_eq!(expand_tilde("/abs/x"), PathBuf::from("/abs/x"));
        assert_eq!(expand_tilde("rel"), PathBuf::from("rel"));
        if let Some(u) = directories::UserDirs::new() {
            assert_eq!(expand_tilde("~/a"), u.home_dir().join("a"));
        }
    }

    fn listing() -> Vec<Listed> {
        vec![
            ("report-2025.pdf".into(), false),
            ("report-2026.pdf".into(), false),
            ("photos".into(), true),
            ("notes.txt".into(), false),
            (".hidden".into(), false),
        ]
    }

    #[test]
    fn completes_one_match_fully_and_several_to_their_common_prefix() {
        let l = listing();
        assert_eq!(
            complete_from("docs/ph", &l, false),
            Some("docs/photos/".into())
        );
        assert_eq!(complete_from("rep", &l, false), Some("report-202".into()));
        assert_eq!(
            complete_from("report-202", &l, false),
            None,
            "nothing to add"
        );
        assert_eq!(complete_from("n", &l, false), Some("notes.txt".into()));
        assert_eq!(complete_from("zzz", &l, false), None);
        assert_eq!(complete_from("", &l, true), Some("photos/".into()));
        assert_eq!(complete_from(".h", &l, false), Some(".hidden".into()));
        assert_eq!(complete_from("n", &l, true), None, "files left out");
    }

    #[test]
    fn completes_from_a_real_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub dir")).unwrap();
        std::fs::write(dir.path().join("sub dir").join("файл.txt"), b"x").unwrap();
        std::fs::write(dir.path().join("solo.bin"), b"x").unwrap();
        let base = format!("{}/", dir.path().display());
        let step1 = complete_path(&format!("{base}su"), false).unwrap();
        assert_eq!(step1, format!("{base}sub dir/"));
        let step2 = complete_path(&step1, false).unwrap();
        assert_eq!(step2, format!("{base}sub dir/файл.txt"));
        assert_eq!(complete_path(&format!("{base}so"), true), None);
        assert_eq!(complete_path("/no/such/dir/x", false), None);
    }
}
