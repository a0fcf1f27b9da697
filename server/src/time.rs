//! Wall-clock time in the protocol's unit.

use chatroom_shared::UnixMillis;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
