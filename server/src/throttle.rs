//! Failed-login throttling per client address, across connections.
//!
//! Each address may fail a number of times within a window; beyond that its
//! logins are refused with a retry time, before any bcrypt work is done.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Counts failed logins per address in fixed windows.
#[derive(Debug)]
pub struct AddressThrottle {
    limit: u32,
    window: Duration,
    // std Mutex: held only for a map lookup, never across an await.
    state: Mutex<HashMap<IpAddr, Window>>,
}

impl AddressThrottle {
    /// Allow `limit` failures per `window` per address.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// How long this address must wait, if it is over its limit now.
    pub fn retry_after(&self, ip: IpAddr) -> Option<Duration> {
        self.retry_after_at(ip, Instant::now())
    }

    fn retry_after_at(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let w = state.get(&ip)?;
        let elapsed = now.saturating_duration_since(w.started);
        (w.failures >= self.limit && elapsed < self.window).then(|| self.window - elapsed)
    }

    /// Count one failed login from this address.
    pub fn record_failure(&self, ip: IpAddr) {
        self.record_failure_at(ip, Instant::now());
    }

    fn record_failure_at(&self, ip: IpAddr, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.len() >= SWEEP_AT {
            let window = self.window;
            state.retain(|_, w| now.saturating_duration_since(w.started) < window);
        }
        let w = state.entry(ip).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.saturating_duration_since(w.started) >= self.window {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let t = AddressThrottle::new(3, Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..2 {
            t.record_failure_at(ip, t0);
        }
        assert_eq!(t.retry_after_at(ip, t0), None);
        t.record_failure_at(ip, t0);
        assert_eq!(
            t.retry_after_at(ip, t0 + Duration::from_secs(10)),
            Some(Duration::from_secs(50))
        );
        assert_eq!(t.retry_after_at(other, t0), None);
        assert_eq!(t.retry_after_at(ip, t0 + Duration::from_secs(60)), None);
        t.record_failure_at(ip, t0 + Duration::from_secs(61));
        assert_eq!(t.retry_after_at(ip, t0 + Duration::from_secs(61)), None);
    }
}
