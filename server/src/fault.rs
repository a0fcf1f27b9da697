//! Fault injection for the tests of the real binary, compiled into debug builds
//! only; release builds ignore these variables entirely.
//!
//! - `CHATROOM_TEST_PANIC_ON=TEXT`: the session that receives a `say` of exactly
//!   TEXT panics, so a test can check that a panic in one connection's handler
//!   ends that session alone.
//! - `CHATROOM_TEST_UNPUBLISHED_BATCHES=1`: a cluster node never tells the others
//!   about the batches it commits, as if it died after each commit or NATS lost
//!   them, so a test can check that the others read them back from the database.
//! - `CHATROOM_TEST_PRESENCE_PART_USERS=N`: a cluster node sends its presence
//!   snapshot in parts of N users, so a test can see a snapshot in many parts
//!   without logging in thousands of users.

/// Panic if this debug build was told to on a `say` of `text`.
#[cfg(debug_assertions)]
pub fn on_say(text: &str) {
    static TRIGGER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let trigger = TRIGGER.get_or_init(|| std::env::var("CHATROOM_TEST_PANIC_ON").ok());
    if trigger.as_deref() == Some(text) {
        panic!("injected panic (CHATROOM_TEST_PANIC_ON)");
    }
}

/// Release builds: nothing.
#[cfg(not(debug_assertions))]
#[inline]
pub fn on_say(_text: &str) {}

/// Whether this debug build was told to keep its committed batches from the other nodes.
#[cfg(debug_assertions)]
pub fn unpublished_batches() -> bool {
    static SET: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SET.get_or_init(|| std::env::var_os("CHATROOM_TEST_UNPUBLISHED_BATCHES").is_some())
}

/// Release builds: never.
#[cfg(not(debug_assertions))]
#[inline]
pub fn unpublished_batches() -> bool {
    false
}

/// Users per presence snapshot part: `default`, unless this debug build was told otherwise.
#[cfg(debug_assertions)]
pub fn presence_part_users(default: usize) -> usize {
    static SET: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        std::env::var("CHATROOM_TEST_PRESENCE_PART_USERS")
            .ok()
            .and_then(|v| v.parse().ok())
    })
    .unwrap_or(default)
}

/// Release builds: `default`.
#[cfg(not(debug_assertions))]
#[inline]
pub fn presence_part_users(default: usize) -> usize {
    default
}
