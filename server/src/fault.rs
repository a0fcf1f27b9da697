//! Faults injected on request, for tests: configuration fields
//! ([`Config::faults`](crate::Config)), so an in-process test sets them on the
//! `Config` it starts a server with, and a test of the real binary sets them
//! through their environment variables. Release builds ignore them entirely.
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

/// The fault switches (hidden flags; not for production use).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct Faults {
    /// Panic the session that receives a `say` of exactly this text.
    #[arg(long = "test-panic-on", hide = true, env = "CHATROOM_TEST_PANIC_ON")]
    pub panic_on: Option<String>,

    /// Never tell the other nodes about committed batches (`1`, `true`, `yes`, `on`).
    #[arg(
        long = "test-unpublished-batches",
        hide = true,
        env = "CHATROOM_TEST_UNPUBLISHED_BATCHES",
        action = clap::ArgAction::Set,
        default_value = "false",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub unpublished_batches: bool,

    /// Users per presence snapshot part, instead of the default.
    #[arg(
        long = "test-presence-part-users",
        hide = true,
        env = "CHATROOM_TEST_PRESENCE_PART_USERS"
    )]
    pub presence_part_users: Option<usize>,
}

impl Faults {
    /// Panic if this debug build was told to on a `say` of `text`.
    pub fn on_say(&self, text: &str) {
        if cfg!(debug_assertions) && self.panic_on.as_deref() == Some(text) {
            panic!("injected panic (CHATROOM_TEST_PANIC_ON)");
        }
    }

    /// Whether this debug build keeps its committed batches from the other nodes.
    pub fn unpublished_batches(&self) -> bool {
        cfg!(debug_assertions) && self.unpublished_batches
    }

    /// Users per presence snapshot part: `default`, unless this debug build was told otherwise.
    pub fn presence_part_users(&self, default: usize) -> usize {
        match self.presence_part_users {
            Some(n) if cfg!(debug_assertions) && n > 0 => n,
            _ => default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_left_off_change_nothing() {
        let off = Faults::default();
        off.on_say("boom");
        assert!(!off.unpublished_batches());
        assert_eq!(off.presence_part_users(2000), 2000);
    }

    #[test]
    fn switches_parse_as_their_variables_give_them() {
        use clap::Parser;
        #[derive(Parser)]
        struct Flags {
            #[command(flatten)]
            faults: Faults,
        }
        let f = Flags::parse_from([
            "x",
            "--test-unpublished-batches",
            "1",
            "--test-presence-part-users",
            "2",
            "--test-panic-on",
            "boom",
        ]);
        assert_eq!(
            f.faults,
            Faults {
                panic_on: Some("boom".into()),
                unpublished_batches: true,
                presence_part_users: Some(2),
            }
        );
        assert!(!Flags::parse_from(["x"]).faults.unpublished_batches);
    }

    #[test]
    #[cfg(debug_assertions)]
    fn switches_set_in_a_debug_build_take_effect() {
        let on = Faults {
            panic_on: Some("boom".into()),
            unpublished_batches: true,
            presence_part_users: Some(2),
        };
        assert!(on.unpublished_batches());
        assert_eq!(on.presence_part_users(2000), 2);
        on.on_say("not it");
        assert!(std::panic::catch_unwind(|| on.on_say("boom")).is_err());
    }
}
