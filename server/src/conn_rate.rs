//! New connections per client address and second: a token bucket (GCRA, from
//! `governor`) per address, so one address cannot make the server accept, shake hands
//! with and tear down connections as fast as it can open them. (`conn_limit` bounds
//! how many are open at once; this bounds how fast they come.)
//!
//! An address over its rate is told once: its first refused connection gets
//! `connection_rate_limited` with `retry_after_ms` (after the TLS handshake, like every
//! frame); connections it opens before that time has passed are closed at once, with
//! no handshake and no frame, so a flood of refusals costs the server next to nothing.
//!
//! Memory stays bounded: a bucket unused for as long as it takes to fill up again is
//! the same as a fresh one and is forgotten (the map is pruned when it reaches
//! [`MAX_ADDRESSES`], at most once a second), and while that many addresses are all
//! recent, any further address shares one overflow bucket instead of getting its own.
//!
//! State sits behind a `std::sync::Mutex`, only in the accept loop, for a few map
//! operations with no `.await` inside.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use crate::flood::TokioClock;

/// Addresses whose buckets are kept. An address and its bucket take 96 bytes (17 + 72,
/// aligned), and this many fit a table of 131,072 slots: about 12 MiB at the most.
pub const MAX_ADDRESSES: usize = 65_536;

/// Least time between two prunings of a full map: pruning walks every entry.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

type Bucket = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<std::time::Instant>>;

/// What to do with a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within the rate: serve it.
    Admit,
    /// Over the rate: refuse it. With `tell`, send `connection_rate_limited` and the
    /// time to wait; without, the address was told already: just close it.
    Refuse {
        /// When one more connection will be admitted.
        retry_after: Duration,
        /// Whether this refusal is the one that tells.
        tell: bool,
    },
}

/// The connection rate of every address. One per server.
#[derive(Debug)]
pub struct ConnectionRate {
    /// The quota and the buckets; `None`: no limit.
    limit: Option<(Quota, Mutex<State>)>,
    /// How long an unused bucket takes to fill up again: then it is forgotten.
    refill: Duration,
    max_addresses: usize,
}

#[derive(Debug)]
struct State {
    addresses: HashMap<IpAddr, Entry>,
    /// Shared by every address beyond [`MAX_ADDRESSES`] recent ones.
    overflow: Entry,
    next_prune: Instant,
}

#[derive(Debug)]
struct Entry {
    bucket: Bucket,
    last: Instant,
    /// Refusals before this time are silent: the address was told.
    told_until: Instant,
}

impl Entry {
    fn new(quota: Quota, now: Instant) -> Self {
        Self {
            bucket: RateLimiter::direct_with_clock(quota, TokioClock),
            last: now,
            told_until: now,
        }
    }

    fn admit(&mut self, now: Instant) -> Admission {
        self.last = now;
        let Err(not_until) = self.bucket.check() else {
            return Admission::Admit;
        };
        let retry_after = not_until
            .wait_time_from(TokioClock.now())
            .max(Duration::from_millis(1));
        let tell = now >= self.told_until;
        if tell {
            self.told_until = now + retry_after;
        }
        Admission::Refuse { retry_after, tell }
    }
}

impl ConnectionRate {
    /// `rate` new connections a second per address on average, `burst` at once (0: as
    /// many as `rate`); a rate of 0 admits everything and keeps nothing.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self::with_max_addresses(rate, burst, MAX_ADDRESSES)
    }

    fn with_max_addresses(rate: u32, burst: u32, max_addresses: usize) -> Self {
        let quota = NonZeroU32::new(rate)
            .map(|r| Quota::per_second(r).allow_burst(NonZeroU32::new(burst).unwrap_or(r)));
        let refill = match NonZeroU32::new(rate) {
            Some(r) => Duration::from_secs_f64(f64::from(burst.max(1)) / f64::from(r.get())),
            None => Duration::ZERO,
        };
        let now = Instant::now();
        let limit = quota.map(|quota| {
            let state = State {
                addresses: HashMap::new(),
                overflow: Entry::new(quota, now),
                next_prune: now,
            };
            (quota, Mutex::new(state))
        });
        Self {
            limit,
            refill,
            max_addresses,
        }
    }

    /// Count a new connection from `ip` and judge it.
    pub fn admit(&self, ip: IpAddr) -> Admission {
        let Some((quota, state)) = &self.limit else {
            return Admission::Admit;
        };
        let now = Instant::now();
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.addresses.contains_key(&ip) && state.addresses.len() >= self.max_addresses {
            self.prune(&mut state, now);
            if state.addresses.len() >= self.max_addresses {
                return state.overflow.admit(now);
            }
        }
        state
            .addresses
            .entry(ip)
            .or_insert_with(|| Entry::new(*quota, now))
            .admit(now)
    }

    /// Forget the buckets that are full again (unused for the refill time), at most
    /// once every [`PRUNE_EVERY`].
    fn prune(&self, state: &mut State, now: Instant) {
        if now < state.next_prune {
            return;
        }
        state.next_prune = now + PRUNE_EVERY;
        let refill = self.refill;
        state
            .addresses
            .retain(|_, e| now.duration_since(e.last) < refill);
        if state.addresses.capacity() > 4 * state.addresses.len().max(1024) {
            state.addresses.shrink_to_fit();
        }
    }

    /// Addresses with a bucket of their own now.
    pub fn tracked(&self) -> usize {
        self.limit.as_ref().map_or(0, |(_, state)| {
            let state = state.lock().unwrap_or_else(PoisonError::into_inner);
            state.addresses.len()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    fn refused(a: Admission) -> (Duration, bool) {
        match a {
            Admission::Refuse { retry_after, tell } => (retry_after, tell),
            Admission::Admit => panic!("admitted"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_one_refusal_tells_and_the_rest_are_silent() {
        let rate = ConnectionRate::new(10, 3);
        for _ in 0..3 {
            assert_eq!(rate.admit(ip(1)), Admission::Admit);
        }
        let (retry, tell) = refused(rate.admit(ip(1)));
        assert!(tell);
        assert!(
            retry > Duration::ZERO && retry <= Duration::from_millis(100),
            "{retry:?}"
        );
        let (_, tell) = refused(rate.admit(ip(1)));
        assert!(!tell, "told once");
        assert_eq!(rate.admit(ip(2)), Admission::Admit, "another address");
        // Waiting as told is enough for one more.
        tokio::time::advance(retry).await;
        assert_eq!(rate.admit(ip(1)), Admission::Admit);
        let (_, tell) = refused(rate.admit(ip(1)));
        assert!(tell, "told again once the wait it was told has passed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_of_zero_admits_everything_and_keeps_nothing() {
        let rate = ConnectionRate::new(0, 0);
        for n in 0..10_000 {
            assert_eq!(rate.admit(ip(n % 3)), Admission::Admit);
        }
        assert_eq!(rate.tracked(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_map_stays_bounded_and_forgets_full_buckets() {
        // 10 a second, bursts of 2: a bucket is full again 200 ms after its use.
        let rate = ConnectionRate::with_max_addresses(10, 2, 100);
        for n in 0..100 {
            assert_eq!(rate.admit(ip(n)), Admission::Admit);
        }
        // All recent: a new address shares the overflow bucket (burst 2).
        assert_eq!(rate.admit(ip(1000)), Admission::Admit);
        assert_eq!(rate.admit(ip(1001)), Admission::Admit);
        assert!(matches!(rate.admit(ip(1002)), Admission::Refuse { .. }));
        assert_eq!(rate.tracked(), 100);
        // Once they are full again they are forgotten, and new ones get their own.
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(rate.admit(ip(2000)), Admission::Admit);
        assert_eq!(rate.tracked(), 1);
    }
}
