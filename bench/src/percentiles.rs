//! Latency samples and their percentiles, for the scenarios that report
//! p50 / p99 / max.

use std::time::Duration;

/// Latency samples, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<u64>);

impl Samples {
    /// Add one sample.
    pub fn push(&mut self, d: Duration) {
        self.push_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    /// Add one sample given in microseconds.
    pub fn push_micros(&mut self, micros: u64) {
        self.0.push(micros);
    }

    /// How many samples there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p` quantile (0 to 1, nearest rank) in milliseconds; NaN without samples.
    pub fn ms(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut v = self.0.clone();
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * p.clamp(0.0, 1.0)).round() as usize;
        v[i] as f64 / 1000.0
    }

    /// `{"n", "p50", "p99", "max"}` in milliseconds (null without samples).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "n": self.len(),
            "p50": self.ms(0.5),
            "p99": self.ms(0.99),
            "max": self.ms(1.0),
        })
    }

    /// `p50 … ms  p99 … ms  max … ms  n=…`, for the human table.
    pub fn line(&self) -> String {
        format!(
            "p50 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms  n={}",
            self.ms(0.5),
            self.ms(0.99),
            self.ms(1.0),
            self.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank_in_milliseconds() {
        let mut s = Samples::default();
        for us in (1..=100).rev() {
            s.push_micros(us * 1000);
        }
        assert_eq!(s.ms(0.0), 1.0);
        assert_eq!(s.ms(0.5), 51.0);
        assert_eq!(s.ms(0.99), 99.0);
        assert_eq!(s.ms(1.0), 100.0);
    }

    #[test]
    fn no_samples_give_nan_and_json_null() {
        let s = Samples::default();
        assert!(s.ms(0.99).is_nan());
        assert!(s.json()["p99"].is_null());
    }
}
