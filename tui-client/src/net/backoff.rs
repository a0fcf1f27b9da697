//! How long to wait before the next reconnect attempt: 250 ms doubling per
//! attempt, with ±20 % jitter so that clients cut off together do not all
//! come back at the same instant, and capped at 10 s.

use std::time::Duration;

use rand::Rng as _;

/// The wait before the first attempt.
const FIRST: Duration = Duration::from_millis(250);
/// The longest wait between attempts.
const CAP: Duration = Duration::from_secs(10);
/// Jitter: the wait is multiplied by a factor in `1 ± JITTER`.
const JITTER: f64 = 0.2;

/// The wait before attempt `attempt` (1 is the first), with a random jitter.
pub(crate) fn delay(attempt: u32) -> Duration {
    let factor = rand::rng().random_range(1.0 - JITTER..=1.0 + JITTER);
    delay_with(attempt, factor)
}

/// The wait before attempt `attempt` with the jitter `factor` given (1.0 for
/// none): `FIRST * 2^(attempt-1) * factor`, at most [`CAP`].
pub(crate) fn delay_with(attempt: u32, factor: f64) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    let base = FIRST.saturating_mul(1 << doublings).min(CAP);
    base.mul_f64(factor.clamp(0.0, 2.0)).min(CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_attempt_waits_a_quarter_second() {
        assert_eq!(delay_with(1, 1.0), Duration::from_millis(250));
        assert_eq!(delay_with(0, 1.0), Duration::from_millis(250));
    }

    #[test]
    fn each_attempt_doubles_the_wait() {
        let waits: Vec<_> = (1..=6).map(|a| delay_with(a, 1.0).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 8000]);
    }

    #[test]
    fn wait_is_capped_at_ten_seconds_even_with_jitter() {
        assert_eq!(delay_with(7, 1.0), CAP);
        assert_eq!(delay_with(1000, 1.2), CAP);
        assert_eq!(delay_with(u32::MAX, 0.8), CAP.mul_f64(0.8));
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for attempt in 1..=5 {
            let plain = delay_with(attempt, 1.0);
            for _ in 0..100 {
                let d = delay(attempt);
                assert!(d >= plain.mul_f64(0.8) && d <= plain.mul_f64(1.2), "{d:?}");
            }
        }
    }
}
