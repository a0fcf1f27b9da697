//! Chat-text and client-message-id rules.

/// Default longest chat text, in bytes of UTF-8 (servers may configure another).
pub const DEFAULT_MAX_TEXT_BYTES: usize = 4096;
/// Longest client message id, in bytes.
pub const MAX_CLIENT_ID_BYTES: usize = 64;

/// Why a chat text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty, or only white space.
    #[error("the message is empty")]
    Empty,
    /// Longer than the limit.
    #[error("the message has {len} bytes; at most {max} are allowed")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Holds a control character other than newline or tab.
    #[error("the message contains the control character U+{:04X}", u32::from(*.0))]
    ControlChar(char),
}

/// Check a chat text: 1..=`max_bytes` bytes, not only white space, and no
/// control characters except `\n` and `\t` (so no terminal escape sequences).
pub fn validate_text(text: &str, max_bytes: usize) -> Result<(), TextError> {
    if text.len() > max_bytes {
        return Err(TextError::TooLong {
            len: text.len(),
            max: max_bytes,
        });
    }
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(TextError::ControlChar(c));
    }
    if text.trim().is_empty() {
        return Err(TextError::Empty);
    }
    Ok(())
}

/// Check a client message id: 1..=64 bytes, no control characters.
pub fn validate_client_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CLIENT_ID_BYTES && !id.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_multiline_text_with_tabs_and_any_script() {
        assert_eq!(validate_text("hello\n\tworld 你好 👋", 4096), Ok(()));
    }

    #[test]
    fn refuses_empty_and_blank_text() {
        assert_eq!(validate_text("", 10), Err(TextError::Empty));
        assert_eq!(validate_text(" \n\t ", 10), Err(TextError::Empty));
    }

    #[test]
    fn length_is_bytes() {
        assert_eq!(validate_text(&"é".repeat(5), 10), Ok(()));
        assert_eq!(
            validate_text(&"é".repeat(6), 10),
            Err(TextError::TooLong { len: 12, max: 10 })
        );
    }

    #[test]
    fn refuses_control_characters_but_newline_and_tab() {
        for c in ['\0', '\r', '\u{1b}', '\u{7f}', '\u{85}'] {
            assert_eq!(
                validate_text(&format!("a{c}b"), 100),
                Err(TextError::ControlChar(c))
            );
        }
    }

    #[test]
    fn client_ids() {
        assert!(validate_client_id("c-1"));
        assert!(validate_client_id(&"x".repeat(64)));
        assert!(!validate_client_id(""));
        assert!(!validate_client_id(&"x".repeat(65)));
        assert!(!validate_client_id("a\nb"));
    }
}
