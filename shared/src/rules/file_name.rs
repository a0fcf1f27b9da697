//! Shared-file name rules.
//!
//! A shared file's name is a base name only: no path separators (`/` or `\`),
//! not `.` or `..`, no NUL or other control characters, no bidirectional
//! controls (which can make `report\u{202E}fdp.exe` read as `reportexe.pdf`), no
//! leading or trailing white space, and at most 255 bytes of UTF-8. The server refuses any other
//! name before a byte moves; clients check the same rules before asking.

/// Longest file name, in bytes of UTF-8.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Why a file name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileNameError {
    /// Empty.
    #[error("the file name is empty")]
    Empty,
    /// Longer than [`MAX_FILE_NAME_BYTES`].
    #[error("the file name has {0} bytes; at most {MAX_FILE_NAME_BYTES} are allowed")]
    TooLong(usize),
    /// `.` or `..`.
    #[error("\".\" and \"..\" are not file names")]
    Dots,
    /// Holds `/` or `\`: a path, not a name.
    #[error("the file name contains a path separator; send the file's own name only")]
    Separator,
    /// Holds a control character (NUL, escape sequences, newlines, ...).
    #[error("the file name contains the control character U+{:04X}", u32::from(*.0))]
    ControlChar(char),
    /// Holds a bidirectional control character, which can make a name read as
    /// something else (a spoofed extension).
    #[error("the file name contains the bidirectional control U+{:04X}", u32::from(*.0))]
    BidiControl(char),
    /// Starts or ends with white space.
    #[error("the file name starts or ends with white space")]
    Padded,
}

/// The characters that reorder text on screen: marks, embeddings, overrides and
/// isolates (Unicode's Bidi_Control property).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Check a shared file's name.
pub fn validate_file_name(name: &str) -> Result<(), FileNameError> {
    if name.is_empty() {
        return Err(FileNameError::Empty);
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return Err(FileNameError::TooLong(name.len()));
    }
    if name == "." || name == ".." {
        return Err(FileNameError::Dots);
    }
    if name.contains(['/', '\\']) {
        return Err(FileNameError::Separator);
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(FileNameError::ControlChar(c));
    }
    if let Some(c) = name.chars().find(|c| is_bidi_control(*c)) {
        return Err(FileNameError::BidiControl(c));
    }
    if name.trim() != name {
        return Err(FileNameError::Padded);
    }
    Ok(())
}

/// True for a SHA-256 digest written as 64 lowercase hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in [
            "report.pdf",
            "照片 2026.jpg",
            "a",
            ".bashrc",
            "x..y",
            "😀.txt",
            "C:",
        ] {
            assert_eq!(validate_file_name(name), Ok(()), "{name}");
        }
        assert_eq!(validate_file_name(&"n".repeat(255)), Ok(()));
    }

    #[test]
    fn refuses_paths_dots_controls_and_long_names() {
        assert_eq!(validate_file_name(""), Err(FileNameError::Empty));
        assert_eq!(validate_file_name("."), Err(FileNameError::Dots));
        assert_eq!(validate_file_name(".."), Err(FileNameError::Dots));
        for name in ["../../x", "..\\x", "/etc/passwd", "a/b", "C:\\x"] {
            assert_eq!(
                validate_file_name(name),
                Err(FileNameError::Separator),
                "{name}"
            );
        }
        assert_eq!(
            validate_file_name("a\0b"),
            Err(FileNameError::ControlChar('\0'))
        );
        assert_eq!(
            validate_file_name("a\u{1b}[2Jb"),
            Err(FileNameError::ControlChar('\u{1b}'))
        );
        assert_eq!(
            validate_file_name("a\nb"),
            Err(FileNameError::ControlChar('\n'))
        );
        for bidi in [
            '\u{202E}', '\u{202D}', '\u{2066}', '\u{2069}', '\u{200F}', '\u{061C}',
        ] {
            assert_eq!(
                validate_file_name(&format!("report{bidi}fdp.exe")),
                Err(FileNameError::BidiControl(bidi))
            );
        }
        // Joiners stay allowed: emoji sequences need them.
        assert_eq!(validate_file_name("👨\u{200D}👩\u{200D}👧.png"), Ok(()));
        assert_eq!(validate_file_name(" a"), Err(FileNameError::Padded));
        assert_eq!(
            validate_file_name(&"é".repeat(128)),
            Err(FileNameError::TooLong(256))
        );
    }

    #[test]
    fn sha256_hex() {
        assert!(is_sha256_hex(&"ab".repeat(32)));
        assert!(!is_sha256_hex(&"AB".repeat(32)));
        assert!(!is_sha256_hex(&"ab".repeat(31)));
        assert!(!is_sha256_hex(&"zz".repeat(32)));
    }
}
