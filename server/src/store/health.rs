//! Whether the database takes writes: the writer marks the store failing when a
//! commit fails, and sessions refuse new chat messages at once
//! (`storage_unavailable` with `retry_after_ms`) until the time the writer will
//! try again, instead of queueing them where nobody would answer them. After
//! that time the next message goes through and its batch tries the database
//! (a probe); success clears the mark, failure sets it again for longer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// The store's health, shared by the writer and every session.
#[derive(Debug)]
pub struct Health {
    origin: Instant,
    /// Milliseconds after `origin` until which messages are refused; 0: healthy.
    until_ms: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            until_ms: AtomicU64::new(0),
        }
    }
}

impl Health {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How long a new message must wait, if the store is failing and its next
    /// try is still ahead; `None` when messages may go to the writer.
    pub fn refusal(&self) -> Option<Duration> {
        let until = self.until_ms.load(Ordering::Acquire);
        let now = self.now_ms();
        (until > now).then(|| Duration::from_millis(until - now))
    }

    /// A commit failed: refuse messages for `wait`, until the next try.
    pub fn failing_for(&self, wait: Duration) {
        let wait = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        self.until_ms
            .store(self.now_ms().saturating_add(wait), Ordering::Release);
    }

    /// A commit succeeded.
    pub fn recovered(&self) {
        self.until_ms.store(0, Ordering::Release);
    }

    /// Whether the last commit failed (whether or not its wait has passed).
    pub fn failing(&self) -> bool {
        self.until_ms.load(Ordering::Acquire) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn refuses_until_the_next_try_then_lets_a_probe_through() {
        let h = Health::default();
        assert_eq!(h.refusal(), None);
        assert!(!h.failing());
        h.failing_for(Duration::from_millis(800));
        assert_eq!(h.refusal(), Some(Duration::from_millis(800)));
        tokio::time::advance(Duration::from_millis(300)).await;
        assert_eq!(h.refusal(), Some(Duration::from_millis(500)));
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(h.refusal(), None, "the next message probes the database");
        assert!(h.failing(), "still failing until a commit succeeds");
        h.recovered();
        assert!(!h.failing());
    }
}
