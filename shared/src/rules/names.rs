//! User-name rules.
//!
//! A name is normalized to Unicode NFC and must then be 1 to 32 characters
//! (Unicode scalar values) with no control, whitespace, format, private-use,
//! unassigned or otherwise invisible characters. Two names that differ only in
//! case, in normalization form, in compatibility forms (full-width letters) or
//! by confusable look-alikes (Cyrillic `а` for Latin `a`) map to the same
//! [`name_key`], and the server allows one account per key.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Shortest allowed name, in characters.
pub const MIN_NAME_CHARS: usize = 1;
/// Longest allowed name, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// Longest uniqueness key, in bytes (the database column's size). A few
/// characters expand a lot under NFKC and the skeleton mapping (U+FDFA becomes
/// 30 bytes), so a name of legal length can still be refused for its key.
pub const MAX_NAME_KEY_BYTES: usize = 255;
/// Names nobody may register (compared by [`name_key`]), so that nobody can
/// pass for the administrator or the server.
pub const RESERVED_NAMES: &[&str] = &["admin", "administrator", "server", "system", "root"];

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty after normalization.
    #[error("the name is empty")]
    Empty,
    /// More than [`MAX_NAME_CHARS`] characters.
    #[error("the name has {0} characters; at most {MAX_NAME_CHARS} are allowed")]
    TooLong(usize),
    /// Holds a character that is not allowed in names.
    #[error("the name contains {} (U+{:04X}), which is not allowed in names", describe(*.0), u32::from(*.0))]
    ForbiddenChar(char),
    /// One of [`RESERVED_NAMES`], or a look-alike of one.
    #[error("the name is reserved")]
    Reserved,
    /// Its normalized form ([`name_key`]) is longer than [`MAX_NAME_KEY_BYTES`].
    #[error("the name is too long once normalized; use fewer or simpler characters")]
    KeyTooLong,
}

fn describe(c: char) -> &'static str {
    if c.is_whitespace() {
        "white space"
    } else if c.is_control() {
        "a control character"
    } else {
        "an invisible or unassigned character"
    }
}

/// Check a proposed name and return it in NFC, the form stored and displayed.
pub fn validate_name(raw: &str) -> Result<String, NameError> {
    let name: String = raw.nfc().collect();
    let count = name.chars().count();
    if count < MIN_NAME_CHARS {
        return Err(NameError::Empty);
    }
    if count > MAX_NAME_CHARS {
        return Err(NameError::TooLong(count));
    }
    if let Some(bad) = name.chars().find(|&c| !allowed_in_name(c)) {
        return Err(NameError::ForbiddenChar(bad));
    }
    let key = name_key(&name);
    if key.len() > MAX_NAME_KEY_BYTES {
        return Err(NameError::KeyTooLong);
    }
    if RESERVED_NAMES.iter().any(|r| name_key(r) == key) {
        return Err(NameError::Reserved);
    }
    Ok(name)
}

/// True for characters a name may contain.
pub fn allowed_in_name(c: char) -> bool {
    use GeneralCategory as G;
    if c.is_whitespace() || c.is_control() {
        return false;
    }
    match c.general_category() {
        G::Control
        | G::Format
        | G::Surrogate
        | G::PrivateUse
        | G::Unassigned
        | G::SpaceSeparator
        | G::LineSeparator
        | G::ParagraphSeparator => false,
        // Default-ignorable characters (variation selectors, fillers such as
        // U+3164) render as nothing: their confusable skeleton is empty.
        _ => {
            let mut buf = [0u8; 4];
            unicode_security::skeleton(c.encode_utf8(&mut buf))
                .next()
                .is_some()
        }
    }
}

/// The uniqueness key of a (valid) name: case-folded, NFKC-normalized, and
/// mapped to its UTS 39 confusable skeleton. Names with equal keys look alike,
/// so only one of them can be registered; logins compare keys too.
///
/// The key is a fixed point (`name_key(&name_key(n)) == name_key(n)`): a
/// skeleton may hold characters that folding changes again (`%` becomes
/// `°/₀`, whose `₀` is NFKC `0`, whose skeleton is `o`), so the mapping is
/// repeated until nothing changes. Otherwise a name spelled like another's
/// skeleton (`a°/₀` beside `a%`) would get a different key.
pub fn name_key(name: &str) -> String {
    let mut key = key_round(name);
    for _ in 1..MAX_KEY_ROUNDS {
        let next = key_round(&key);
        if next == key {
            break;
        }
        key = next;
    }
    key
}

/// Bound on the rounds of [`name_key`]; real mappings settle in two or three.
const MAX_KEY_ROUNDS: usize = 8;

/// One round of [`name_key`]: fold, skeleton, fold.
fn key_round(name: &str) -> String {
    let folded: String = name.nfkc().flat_map(fold_case).collect();
    let skeleton: String = unicode_security::skeleton(&folded).collect();
    skeleton.chars().flat_map(fold_case).nfc().collect()
}

/// Lower case, with final sigma `ς` as `σ` (as Unicode case folding does):
/// `Σ` lowercases to `σ` one character at a time, so without this `ΝΙΚΟΣ`
/// and `νικος` would get two keys (and `Ϲ` and `ϲ`, whose NFKC forms are `Σ`
/// and `ς`).
pub(crate) fn fold_case(c: char) -> impl Iterator<Item = char> {
    c.to_lowercase().map(|c| if c == 'ς' { 'σ' } else { c })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names_in_many_scripts() {
        for name in [
            "alice",
            "Bob_42",
            "张伟",
            "김민수",
            "さくら",
            "Zoë",
            "o'neil",
            "a",
        ] {
            assert_eq!(validate_name(name).as_deref(), Ok(name), "{name}");
        }
    }

    #[test]
    fn normalizes_to_nfc() {
        let nfd = "Zoe\u{0308}";
        assert_eq!(validate_name(nfd).unwrap(), "Zoë");
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(validate_name(""), Err(NameError::Empty));
        let ok = "字".repeat(32);
        assert!(validate_name(&ok).is_ok());
        assert_eq!(validate_name(&"字".repeat(33)), Err(NameError::TooLong(33)));
    }

    #[test]
    fn refuses_whitespace_control_and_invisible_characters() {
        for (name, bad) in [
            ("al ice", ' '),
            ("al\tice", '\t'),
            ("al\u{0}ice", '\u{0}'),
            ("al\u{1b}ice", '\u{1b}'),
            ("al\u{200b}ice", '\u{200b}'),
            ("al\u{200d}ice", '\u{200d}'),
            ("al\u{feff}ice", '\u{feff}'),
            ("al\u{202e}ice", '\u{202e}'),
            ("al\u{3000}ice", '\u{3000}'),
            ("al\u{3164}ice", '\u{3164}'),
            ("al\u{fe0f}ice", '\u{fe0f}'),
            ("al\u{e000}ice", '\u{e000}'),
        ] {
            assert_eq!(
                validate_name(name),
                Err(NameError::ForbiddenChar(bad)),
                "{name:?}"
            );
        }
    }

    #[test]
    fn reserved_names_and_their_look_alikes_are_refused() {
        for name in ["admin", "ADMIN", "Аdmin", "ａｄｍｉｎ", "Server"] {
            assert_eq!(validate_name(name), Err(NameError::Reserved), "{name}");
        }
    }

    #[test]
    fn names_whose_key_outgrows_the_column_are_refused() {
        let nine = "\u{fdfa}".repeat(9);
        assert!(name_key(&nine).len() > MAX_NAME_KEY_BYTES);
        assert_eq!(validate_name(&nine), Err(NameError::KeyTooLong));
        let eight = "\u{fdfa}".repeat(8);
        assert!(validate_name(&eight).is_ok());
        // Ordinary names of the longest legal length stay far below the limit.
        assert!(name_key(&"字".repeat(32)).len() <= MAX_NAME_KEY_BYTES);
        assert!(name_key(&"😀".repeat(32)).len() <= MAX_NAME_KEY_BYTES);
    }

    #[test]
    fn the_key_is_a_fixed_point() {
        // Found by the `names` fuzz target: the skeleton of `%` is `°/₀`, and
        // `₀` folds to `0` (skeleton `o`), so `a%` and `a°/₀` got two keys.
        let key = name_key("a%");
        assert_eq!(name_key(&key), key);
        assert_eq!(name_key("a°/₀"), key);
        assert_eq!(name_key("a°/0"), key);
        assert!(validate_name("a°/₀").is_ok());
    }

    #[test]
    fn final_sigma_is_case_folded() {
        // Found by the `names` fuzz target: Ϲ (U+03F9) is NFKC Σ, which
        // lowercases to σ, but its lower case ϲ (U+03F2) is NFKC ς.
        assert_eq!(name_key("Ϲ"), name_key("ϲ"));
        assert_eq!(name_key("ΝΙΚΟΣ"), name_key("νικος"));
        assert_eq!(name_key("ΝΙΚΟΣ"), name_key("Νικος"));
    }

    #[test]
    fn look_alike_names_share_a_key() {
        let alice = name_key("alice");
        for twin in [
            "Alice",
            "ALICE",
            "аlice",      // Cyrillic а
            "ａｌｉｃｅ", // full-width
            "alıce",      // dotless i
        ] {
            assert_eq!(name_key(twin), alice, "{twin}");
        }
        assert_eq!(name_key("Zoe\u{0308}"), name_key("Zoë"));
        assert_ne!(name_key("alice"), name_key("alicia"));
        assert_ne!(name_key("bob"), name_key("rob"));
    }
}
