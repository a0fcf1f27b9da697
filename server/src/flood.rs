//! Per-connection request rate limit: a client that floods the server with
//! requests gets `rate_limited` with the time to wait, and is disconnected if
//! it keeps on regardless, while everyone else goes on as if nothing happened.
//!
//! The limit is a token bucket (GCRA, from `governor`): `rate` requests a
//! second on average and `burst` at once. Its clock is tokio's, so the tests
//! drive it with a paused clock.
//!
//! Before login a connection has a bucket of its own. A logged-in user's bucket
//! outlives the connection ([`UserLimiters`]): whoever is closed for flooding
//! and logs in again (by token, without bcrypt) finds the bucket as it left it,
//! not a fresh burst.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// Refusals further apart than this do not add up: a client that slows down
/// when told starts with a clean slate.
const STRIKE_MEMORY: Duration = Duration::from_secs(5);

/// Tokio's clock for `governor`: the paused clock in tests, the monotonic
/// clock otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> Self::Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// The limits of one connection, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodLimit {
    /// Requests a second on average; 0 turns the limit off.
    pub rate: u32,
    /// Requests accepted at once after a quiet spell.
    pub burst: u32,
    /// Refusals in a row (none more than [`STRIKE_MEMORY`] after the last)
    /// before the connection is closed.
    pub strikes: u32,
}

impl FloodLimit {
    /// No limit at all.
    pub const OFF: Self = Self {
        rate: 0,
        burst: 0,
        strikes: 0,
    };
}

/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit: handle it.
    Allow,
    /// Over the limit: refuse it; the client may retry after this long.
    Refuse(Duration),
    /// Over the limit once too often: refuse it and close the connection.
    Disconnect(Duration),
}

type Bucket = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<std::time::Instant>>;

/// One connection's (or, once logged in, one user's) limiter.
#[derive(Debug)]
pub struct Limiter {
    bucket: Option<Bucket>,
    max_strikes: u32,
    strikes: u32,
    last_refusal: Option<tokio::time::Instant>,
}

impl Limiter {
    /// A limiter with these limits (a rate of 0: one that allows everything).
    pub fn new(limit: FloodLimit) -> Self {
        let bucket = NonZeroU32::new(limit.rate).map(|rate| {
            let burst = NonZeroU32::new(limit.burst).unwrap_or(rate);
            RateLimiter::direct_with_clock(Quota::per_second(rate).allow_burst(burst), TokioClock)
        });
        Self {
            bucket,
            max_strikes: limit.strikes.max(1),
            strikes: 0,
            last_refusal: None,
        }
    }

    /// Count one request and judge it.
    pub fn check(&mut self) -> Verdict {
        let Some(bucket) = &self.bucket else {
            return Verdict::Allow;
        };
        let Err(not_until) = bucket.check() else {
            // An accepted request ends a row of refusals: a client that waits
            // as told is never disconnected, however often it is refused.
            self.strikes = 0;
            return Verdict::Allow;
        };
        let retry = not_until.wait_time_from(TokioClock.now());
        let now = tokio::time::Instant::now();
        if self
            .last_refusal
            .is_some_and(|last| now.duration_since(last) > STRIKE_MEMORY)
        {
            self.strikes = 0;
        }
        self.last_refusal = Some(now);
        self.strikes += 1;
        if self.strikes >= self.max_strikes {
            Verdict::Disconnect(retry)
        } else {
            Verdict::Refuse(retry)
        }
    }
}

/// The limiters of users whose connection ended, kept until they would be full
/// again anyway, so that logging in again does not refill a bucket.
#[derive(Debug, Clone)]
pub struct UserLimiters {
    kept: Arc<Mutex<HashMap<i64, (Limiter, tokio::time::Instant)>>>,
    /// After this long unused a bucket is full and its strikes forgotten:
    /// a fresh one is the same.
    forget_after: Duration,
}

impl UserLimiters {
    /// Kept for users limited as `limit` says.
    pub fn new(limit: FloodLimit) -> Self {
        let refill = match NonZeroU32::new(limit.rate) {
            Some(rate) => {
                Duration::from_secs_f64(f64::from(limit.burst.max(1)) / f64::from(rate.get()))
            }
            None => Duration::ZERO,
        };
        Self {
            kept: Arc::new(Mutex::new(HashMap::new())),
            forget_after: refill.max(STRIKE_MEMORY),
        }
    }

    /// The limiter `uid` left behind, if it still matters.
    pub fn take(&self, uid: i64) -> Option<Limiter> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let (limiter, since) = kept.remove(&uid)?;
        (since.elapsed() < self.forget_after).then_some(limiter)
    }

    /// Keep `uid`'s limiter for its next login; forget those that no longer matter.
    pub fn give_back(&self, uid: i64, mut limiter: Limiter) {
        if limiter.bucket.is_none() {
            return;
        }
        // The bucket is kept; a row of refusals ended with the connection.
        limiter.strikes = 0;
        limiter.last_refusal = None;
        let now = tokio::time::Instant::now();
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|_, (_, since)| now.duration_since(*since) < self.forget_after);
        kept.insert(uid, (limiter, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: u32, burst: u32, strikes: u32) -> Limiter {
        Limiter::new(FloodLimit {
            rate,
            burst,
            strikes,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_the_rate_holds_with_a_retry_time() {
        let mut l = limiter(10, 5, 100);
        for _ in 0..5 {
            assert_eq!(l.check(), Verdict::Allow);
        }
        let Verdict::Refuse(retry) = l.check() else {
            panic!("the sixth request at once must be refused");
        };
        // One request every 100 ms: the next one is due within that.
        assert!(
            retry > Duration::ZERO && retry <= Duration::from_millis(100),
            "{retry:?}"
        );
        tokio::time::advance(retry).await;
        assert_eq!(l.check(), Verdict::Allow);
        assert!(matches!(l.check(), Verdict::Refuse(_)));
        // A quiet second refills the burst.
        tokio::time::advance(Duration::from_secs(1)).await;
        for _ in 0..5 {
            assert_eq!(l.check(), Verdict::Allow);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_keeps_flooding_is_disconnected() {
        let mut l = limiter(10, 5, 3);
        for _ in 0..5 {
            assert_eq!(l.check(), Verdict::Allow);
        }
        assert!(matches!(l.check(), Verdict::Refuse(_)));
        assert!(matches!(l.check(), Verdict::Refuse(_)));
        assert!(matches!(l.check(), Verdict::Disconnect(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_slows_down_when_told_is_not_disconnected() {
        let mut l = limiter(10, 1, 3);
        // Refused now and then, each time more than the strike memory apart.
        for _ in 0..10 {
            assert_eq!(l.check(), Verdict::Allow);
            assert!(matches!(l.check(), Verdict::Refuse(_)));
            tokio::time::advance(STRIKE_MEMORY + Duration::from_secs(1)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_retries_as_told_is_refused_but_never_disconnected() {
        let mut l = limiter(10, 1, 3);
        // Far more than the strikes, each refusal followed by a wait as told.
        for _ in 0..50 {
            match l.check() {
                Verdict::Allow => {}
                Verdict::Refuse(wait) => tokio::time::advance(wait).await,
                Verdict::Disconnect(_) => panic!("a polite client was disconnected"),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_at_a_thousand_a_second_is_disconnected() {
        let mut l = limiter(20, 1, 20);
        let mut verdicts = Vec::new();
        // 1000 requests a second against a limit of 20: 49 refusals in a row
        // between two accepted ones, for ten seconds at most.
        for _ in 0..10_000 {
            let v = l.check();
            verdicts.push(v);
            if matches!(v, Verdict::Disconnect(_)) {
                break;
            }
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        assert!(matches!(verdicts.last(), Some(Verdict::Disconnect(_))));
        assert!(
            verdicts.len() < 100,
            "within the first row: {}",
            verdicts.len()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_user_who_logs_in_again_finds_the_bucket_as_it_was() {
        let limit = FloodLimit {
            rate: 10,
            burst: 5,
            strikes: 20,
        };
        let users = UserLimiters::new(limit);
        let mut l = Limiter::new(limit);
        for _ in 0..5 {
            assert_eq!(l.check(), Verdict::Allow);
        }
        users.give_back(7, l);
        // Back at once: still empty, no fresh burst.
        let mut again = users.take(7).expect("kept");
        assert!(matches!(again.check(), Verdict::Refuse(_)));
        users.give_back(7, again);
        assert!(users.take(8).is_none(), "nobody else's");
        // Back much later: as good as new, so it is forgotten.
        tokio::time::advance(STRIKE_MEMORY + Duration::from_secs(1)).await;
        assert!(users.take(7).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_of_zero_allows_everything() {
        let mut l = limiter(0, 0, 1);
        for _ in 0..10_000 {
            assert_eq!(l.check(), Verdict::Allow);
        }
    }
}
