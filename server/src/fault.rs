//! Fault injection for the tests of the real binary, compiled into debug builds
//! only: with `CHATROOM_TEST_PANIC_ON=TEXT` in its environment, the session that
//! receives a `say` of exactly TEXT panics, so a test can check that a panic in
//! one connection's handler ends that session alone. Release builds ignore the
//! variable entirely.

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
