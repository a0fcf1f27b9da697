//! `names`: the user-name rules (NFC normalization, allowed characters, the
//! look-alike key) and the shared-file name rules on any string.
//!
//! Input: any bytes, read as UTF-8 (invalid sequences become U+FFFD).
//!
//! Checked, besides "no panic":
//! - user names: an accepted name is the NFC form of the input, 1 to 32
//!   characters, each allowed (no white space, control, format, private-use,
//!   unassigned or invisible character), its key fits the database column and
//!   is no reserved name's key; accepting is idempotent (the accepted name is
//!   accepted as itself); the raw input, its NFC form, its NFKC form and its
//!   lower case all have the accepted name's key (logins look names up by the
//!   key of what the user typed); the key is a fixed point (a name spelled like
//!   another's key gets that same key). Every refusal names the rule it breaks.
//! - file names (bidirectional controls refused too): accepted exactly when non-empty, at most 255 bytes, not `.` or
//!   `..`, without `/`, `\` or a control character, and not padded with white
//!   space; an accepted name is one plain path component (not absolute, no
//!   root, no `..`), so joining it to a directory stays in that directory.
//!   Every refusal names the rule it breaks.

#![no_main]

use std::path::{Component, Path};

use chatroom_shared::rules::file_name::{FileNameError, MAX_FILE_NAME_BYTES};
use chatroom_shared::rules::names::{
    MAX_NAME_CHARS, MAX_NAME_KEY_BYTES, MIN_NAME_CHARS, NameError, RESERVED_NAMES, allowed_in_name,
};
use chatroom_shared::rules::{name_key, validate_file_name, validate_name};
use libfuzzer_sys::fuzz_target;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::is_nfc;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    user_name(&input);
    file_name(&input);
});

fn user_name(raw: &str) {
    let nfc: String = raw.nfc().collect();
    let key = name_key(raw);
    match validate_name(raw) {
        Ok(name) => {
            assert_eq!(name, nfc, "the accepted name is the input in NFC");
            assert!(is_nfc(&name));
            let chars = name.chars().count();
            assert!((MIN_NAME_CHARS..=MAX_NAME_CHARS).contains(&chars));
            for c in name.chars() {
                assert!(allowed_in_name(c), "{c:?} accepted");
                assert!(!c.is_whitespace() && !c.is_control(), "{c:?} accepted");
            }
            assert_eq!(name.trim(), name, "logins trim; names never need it");
            assert!(key.len() <= MAX_NAME_KEY_BYTES);
            assert!(!RESERVED_NAMES.iter().any(|r| name_key(r) == key));
            assert_eq!(validate_name(&name).as_ref(), Ok(&name), "idempotent");
            assert_eq!(name_key(&name), key, "NFC form");
            let nfkc: String = raw.nfkc().collect();
            assert_eq!(name_key(&nfkc), key, "NFKC form");
            assert_eq!(name_key(&raw.to_lowercase()), key, "lower case");
            assert_eq!(name_key(&key), key, "the key is a fixed point");
        }
        Err(NameError::Empty) => assert!(nfc.is_empty()),
        Err(NameError::TooLong(n)) => {
            assert_eq!(n, nfc.chars().count());
            assert!(n > MAX_NAME_CHARS);
        }
        Err(NameError::ForbiddenChar(c)) => {
            assert!(nfc.contains(c) && !allowed_in_name(c));
            let first = nfc.chars().find(|&c| !allowed_in_name(c));
            assert_eq!(first, Some(c), "the first forbidden character is named");
        }
        Err(NameError::KeyTooLong) => assert!(key.len() > MAX_NAME_KEY_BYTES),
        Err(NameError::Reserved) => {
            assert!(RESERVED_NAMES.iter().any(|r| name_key(r) == key));
        }
    }
    for c in raw.chars() {
        if allowed_in_name(c) {
            assert!(!c.is_whitespace() && !c.is_control(), "{c:?} allowed");
        }
    }
}

/// Unicode's Bidi_Control characters, written out independently of the rules.
fn is_bidi_control(c: char) -> bool {
    [
        0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
        0x2069,
    ]
    .contains(&u32::from(c))
}

fn file_name(name: &str) {
    let result = validate_file_name(name);
    let acceptable = !name.is_empty()
        && name.len() <= MAX_FILE_NAME_BYTES
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
        && !name.chars().any(is_bidi_control)
        && name.trim() == name;
    assert_eq!(result.is_ok(), acceptable, "{name:?}: {result:?}");
    match result {
        Ok(()) => {
            let path = Path::new(name);
            assert!(!path.is_absolute() && !path.has_root());
            let components: Vec<_> = path.components().collect();
            assert_eq!(
                components,
                [Component::Normal(name.as_ref())],
                "{name:?} is one plain component"
            );
            let dir = Path::new("/srv/chatroom/files");
            let joined = dir.join(name);
            assert_eq!(joined.parent(), Some(dir));
            assert_eq!(joined.file_name(), Some(name.as_ref()));
        }
        Err(FileNameError::Empty) => assert!(name.is_empty()),
        Err(FileNameError::TooLong(n)) => {
            assert_eq!(n, name.len());
            assert!(n > MAX_FILE_NAME_BYTES);
        }
        Err(FileNameError::Dots) => assert!(name == "." || name == ".."),
        Err(FileNameError::Separator) => assert!(name.contains(['/', '\\'])),
        Err(FileNameError::ControlChar(c)) => assert!(c.is_control() && name.contains(c)),
        Err(FileNameError::BidiControl(c)) => assert!(is_bidi_control(c) && name.contains(c)),
        Err(FileNameError::Padded) => assert_ne!(name.trim(), name),
    }
}
