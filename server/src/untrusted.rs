//! Text a client chose, made safe to write into a log line or onto the operator's
//! console.
//!
//! A client controls many strings that the server logs or prints: `hello.client`, user
//! names as typed, file and group names, and whatever a database written by hand or by
//! an older server holds. Written as they are, a newline in one forges a log line of the
//! client's making, and an ESC starts a terminal escape sequence on the operator's
//! console (clearing the screen, retitling the window). Every such string goes through
//! [`untrusted`] on its way into a `tracing` field (`user = %untrusted(&name)`) or a
//! console line: text that could be a user name is written as it is, anything else
//! quoted, with every character a name may not hold escaped as Rust escapes it
//! (`"x\n\u{1b}[2J"`), so one log line stays one line and no control character reaches
//! a terminal.

use std::fmt::{self, Write as _};

use chatroom_shared::rules::names::allowed_in_name;

/// A client's string as [`untrusted`] writes it.
#[derive(Debug, Clone, Copy)]
pub struct Untrusted<'a>(&'a str);

/// Wrap client text for a log field or a console line (see the module docs).
pub fn untrusted(text: &str) -> Untrusted<'_> {
    Untrusted(text)
}

/// A character written as it is: one a user name may hold (no control, white space,
/// format, bidirectional, private-use, unassigned or invisible character), except the
/// quote and the backslash, which the escaped form uses.
fn is_plain(c: char) -> bool {
    allowed_in_name(c) && c != '"' && c != '\\'
}

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if !s.is_empty() && s.chars().all(is_plain) {
            return f.write_str(s);
        }
        // Quoted, so white space cannot blur where a `key=value` field ends.
        f.write_char('"')?;
        for c in s.chars() {
            if is_plain(c) || c == ' ' {
                f.write_char(c)?;
            } else {
                // `\n`, `\"`, `\\`, `\u{1b}`, `\u{202e}`, ...
                write!(f, "{}", c.escape_debug())?;
            }
        }
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use super::untrusted;

    fn shown(s: &str) -> String {
        untrusted(s).to_string()
    }

    #[test]
    fn plain_text_is_written_as_it_is() {
        for s in ["alice", "report.pdf", "Zoë", "名前", "नमस्ते", "a-b_c.d"] {
            assert_eq!(shown(s), s);
        }
    }

    #[test]
    fn anything_else_is_quoted_and_escaped_on_one_line() {
        let forged = "x\n2026-12-06T18:00:00Z ERROR FORGED\x1b[2J";
        assert_eq!(
            shown(forged),
            r#""x\n2026-12-06T18:00:00Z ERROR FORGED\u{1b}[2J""#
        );
        assert_eq!(shown(""), r#""""#);
        assert_eq!(shown("two words"), r#""two words""#);
        assert_eq!(shown("a=\"b\""), r#""a=\"b\"""#);
        assert_eq!(shown("back\\slash"), r#""back\\slash""#);
        assert_eq!(shown("cr\rtab\t"), r#""cr\rtab\t""#);
        // C1 controls and bidirectional overrides, too.
        assert_eq!(shown("a\u{9b}b"), r#""a\u{9b}b""#);
        assert_eq!(shown("report\u{202e}fdp.exe"), r#""report\u{202e}fdp.exe""#);
        for s in [forged, "\u{7f}", "a\u{85}b", "\u{2028}"] {
            let out = shown(s);
            assert!(!out.chars().any(char::is_control), "{out:?}");
            assert!(!out.contains('\u{2028}'), "{out:?}");
        }
    }
}
