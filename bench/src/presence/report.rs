//! The figures of a `presence` run, gathered from its members and phases,
//! as one JSON object or a table.

use serde_json::{Value, json};

use super::member::{Kind, Member, Tally};
use crate::crowd::FdLimit;
use crate::percentiles::Samples;
use crate::proc_stats::Memory;

/// Smallest, median, largest and sum of per-member figures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spread {
    /// Smallest.
    pub min: u64,
    /// Median (nearest rank).
    pub p50: u64,
    /// Largest.
    pub max: u64,
    /// Sum.
    pub total: u64,
}

impl Spread {
    /// The spread of `values`.
    pub fn of(mut values: Vec<u64>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_unstable();
        Self {
            min: values[0],
            p50: values[(values.len() - 1) / 2],
            max: values[values.len() - 1],
            total: values.iter().sum(),
        }
    }

    fn json(&self) -> Value {
        json!({"min": self.min, "p50": self.p50, "max": self.max, "total": self.total})
    }
}

/// What bcrypt alone takes in a storm: the raw limit of "all online".
#[derive(Debug, Clone, Copy)]
pub struct BcryptFloor {
    /// One password check at the run's cost, in milliseconds.
    pub each_ms: f64,
    /// The started server's bcrypt threads.
    pub threads: usize,
    /// Every user's check on those threads, in seconds.
    pub floor_s: f64,
}

/// Everything a run measured.
pub struct Figures {
    /// Users asked for.
    pub users: usize,
    /// The share of them asked to watch.
    pub watchers: f64,
    /// Logins in flight at once.
    pub parallel: usize,
    /// A started server's bcrypt cost (`None` for a running server).
    pub bcrypt_cost: Option<u32>,
    /// bcrypt's share of the storm, measured in the same run (started server only).
    pub bcrypt_floor: Option<BcryptFloor>,
    /// Whether this was the idle run (no chat, memory after a hold).
    pub idle: bool,
    /// Local addresses the members connected from (0: the system's choice).
    pub source_addresses: usize,
    /// The file-descriptor limit.
    pub fds: FdLimit,
    /// Registering the accounts, in seconds (not measured).
    pub register_s: f64,
    /// Members that got `login_ok`, and that did not.
    pub logged_in: usize,
    /// Logins that failed.
    pub failed: usize,
    /// Why the first one failed.
    pub first_error: Option<String>,
    /// From the storm's start until the last `login_ok`, in seconds.
    pub all_online_s: f64,
    /// Each login, connect to `login_ok`.
    pub login_times: Samples,
    /// Members the marker reached.
    pub marked: usize,
    /// From the storm's start until the marker reached the last member.
    pub all_chatting_s: Option<f64>,
    /// From the marker's send to each member.
    pub marker_times: Samples,
    /// Members whose connection ended before the stop, and the first reason.
    pub closed: (usize, Option<String>),
    /// What each member received.
    pub members: Vec<Member>,
    /// Server CPU seconds from the storm's start until all were chatting.
    pub server_cpu_s: Option<f64>,
    /// This benchmark's CPU seconds over the same time.
    pub bench_cpu_s: Option<f64>,
    /// Server memory before the storm, with everyone online, and at the end
    /// (after the hold of the idle run).
    pub rss: [Option<Memory>; 3],
    /// Seconds held before the last memory reading.
    pub hold_s: u64,
    /// Chat delivery and ack, before the storm and during it (none when idle).
    pub chat: Option<[Samples; 4]>,
    /// Why the chat figures are missing, if a chatter failed.
    pub chat_error: Option<String>,
}

impl Figures {
    fn spread(&self, f: impl Fn(&Member) -> u64) -> Spread {
        Spread::of(self.members.iter().map(f).collect())
    }

    fn by_kind(&self) -> Vec<(Kind, Tally)> {
        Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, &k)| {
                let sum = self.members.iter().fold(Tally::default(), |a, m| Tally {
                    frames: a.frames + m.by_kind[i].frames,
                    bytes: a.bytes + m.by_kind[i].bytes,
                });
                (k, sum)
            })
            .collect()
    }

    fn per_connection_kib(&self) -> Option<f64> {
        match (self.rss[0], self.rss[2]) {
            (Some(b), Some(a)) if self.logged_in > 0 => {
                Some((a.now_kib as f64 - b.now_kib as f64) / self.logged_in as f64)
            }
            _ => None,
        }
    }

    /// The report as one JSON object.
    pub fn json(&self) -> Value {
        let kinds: serde_json::Map<String, Value> = self
            .by_kind()
            .into_iter()
            .map(|(k, t)| {
                (
                    k.name().to_owned(),
                    json!({"frames": t.frames, "bytes": t.bytes}),
                )
            })
            .collect();
        let kib = |m: Option<Memory>| m.map(|m| m.now_kib);
        let chat = self.chat.as_ref();
        let ratio = |b: &Samples, s: &Samples| s.ms(0.99) / b.ms(0.99);
        let bcrypt = self
            .bcrypt_floor
            .map(|b| json!({"each_ms": b.each_ms, "threads": b.threads, "floor_s": b.floor_s}));
        let mut out = json!({
            "scenario": "presence",
            "users": self.users,
            "watchers": self.watchers,
            "watching": self.members.iter().filter(|m| m.watched).count(),
            "parallel": self.parallel,
            "bcrypt_cost": self.bcrypt_cost,
            "idle": self.idle,
            "source_addresses": self.source_addresses,
            "fd_limit": self.fds.json(),
            "register_s": self.register_s,
            "logged_in": self.logged_in,
            "failed": self.failed,
            "first_error": self.first_error,
            "all_online_s": self.all_online_s,
            "login_ms": self.login_times.json(),
            "marked": self.marked,
            "all_chatting_s": self.all_chatting_s,
            "marker_delivery_ms": self.marker_times.json(),
            "closed_early": self.closed.0,
            "first_close": self.closed.1,
            "login_ok_bytes": self.spread(|m| m.login.bytes as u64).json(),
            "login_ok_online_count_max": self.members.iter().map(|m| m.login.online_count).max(),
            "login_ok_listed_max": self.members.iter().map(|m| m.login.listed).max(),
            "login_ok_paged": self.members.iter().filter(|m| m.login.paged).count(),
            "received_bytes": self.spread(|m| m.total().bytes).json(),
            "received_frames": self.spread(|m| m.total().frames).json(),
            "received_by_kind": kinds,
            "server_cpu_storm_s": self.server_cpu_s,
            "bench_cpu_storm_s": self.bench_cpu_s,
            "server_rss_before_kib": kib(self.rss[0]),
            "server_rss_all_online_kib": kib(self.rss[1]),
            "server_rss_end_kib": kib(self.rss[2]),
            "server_peak_rss_kib": self.rss[2].map(|m| m.peak_kib),
            "server_rss_per_user_kib": self.per_connection_kib(),
            "hold_s": self.hold_s,
            "chat_delivery_baseline_ms": chat.map(|c| c[0].json()),
            "chat_delivery_storm_ms": chat.map(|c| c[1].json()),
            "chat_delivery_p99_ratio": chat.map(|c| ratio(&c[0], &c[1])),
            "chat_ack_baseline_ms": chat.map(|c| c[2].json()),
            "chat_ack_storm_ms": chat.map(|c| c[3].json()),
            "chat_error": self.chat_error,
        });
        out["bcrypt_floor"] = bcrypt.unwrap_or(serde_json::Value::Null);
        out
    }

    /// The report as a table on stdout.
    pub fn print(&self) {
        let cost = self.bcrypt_cost.map_or_else(
            || "the running server's bcrypt cost".into(),
            |c| format!("bcrypt cost {c}"),
        );
        println!(
            "presence benchmark{}: {} users logging in at once ({} at a time), {:.0} % watching the first page; {cost} (bcrypt is not what is measured)",
            if self.idle { " (idle)" } else { "" },
            self.users,
            self.parallel,
            self.watchers * 100.0,
        );
        println!(
            "  logged in {}, failed {}, reached by the marker {}, closed early {}; {} source address(es)",
            self.logged_in,
            self.failed,
            self.marked,
            self.closed.0,
            self.source_addresses.max(1)
        );
        for why in [&self.first_error, &self.closed.1].into_iter().flatten() {
            println!("  first failure: {why}");
        }
        if let Some(w) = self.fds.warning() {
            println!("  WARNING: {w}");
        }
        println!("  registering (not measured)  {:8.2} s", self.register_s);
        println!("  all online (last login_ok)  {:8.2} s", self.all_online_s);
        if let Some(b) = self.bcrypt_floor {
            println!(
                "  bcrypt alone (the raw limit) {:7.2} s  ({} checks x {:.2} ms on {} thread(s), timed in this run)",
                b.floor_s, self.users, b.each_ms, b.threads
            );
        }
        println!(
            "  all online and chatting     {}  (target <= 20 s for 10,000)",
            self.all_chatting_s
                .map_or_else(|| "     n/a".into(), |s| format!("{s:8.2} s"))
        );
        println!("  one login                   {}", self.login_times.line());
        println!("  marker, send to member      {}", self.marker_times.line());
        let b = self.spread(|m| m.login.bytes as u64);
        println!(
            "  login_ok frame              median {} B, max {} B  (target <= 16 KiB = 16384 B); online_count up to {}, listed up to {}, paged {}",
            b.p50,
            b.max,
            self.members
                .iter()
                .map(|m| m.login.online_count)
                .max()
                .unwrap_or(0),
            self.members
                .iter()
                .map(|m| m.login.listed)
                .max()
                .unwrap_or(0),
            self.members.iter().filter(|m| m.login.paged).count(),
        );
        let (bytes, frames) = (
            self.spread(|m| m.total().bytes),
            self.spread(|m| m.total().frames),
        );
        println!(
            "  received per user           bytes median {} max {}; frames median {} max {}",
            bytes.p50, bytes.max, frames.p50, frames.max
        );
        println!(
            "  received in all             {:.1} MiB in {} frames:",
            bytes.total as f64 / 1_048_576.0,
            frames.total
        );
        for (k, t) in self.by_kind().into_iter().filter(|(_, t)| t.frames > 0) {
            println!(
                "    {:<12} {:>10} frames {:>12} B  ({:.1} per user)",
                k.name(),
                t.frames,
                t.bytes,
                t.frames as f64 / self.logged_in.max(1) as f64
            );
        }
        let secs = |c: Option<f64>| c.map_or_else(|| "n/a".into(), |c| format!("{c:.1} s"));
        println!(
            "  CPU, storm start to all chatting: server {}, benchmark {} (same machine)",
            secs(self.server_cpu_s),
            secs(self.bench_cpu_s)
        );
        let mib = |m: Option<u64>| {
            m.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
        };
        println!(
            "  server RSS before {}, all online {}, end{} {}, peak {}",
            mib(self.rss[0].map(|m| m.now_kib)),
            mib(self.rss[1].map(|m| m.now_kib)),
            if self.hold_s > 0 {
                format!(" (after {} s held)", self.hold_s)
            } else {
                String::new()
            },
            mib(self.rss[2].map(|m| m.now_kib)),
            mib(self.rss[2].map(|m| m.peak_kib)),
        );
        println!(
            "  server RSS per user         {}  (target <= 16 KiB idle)",
            self.per_connection_kib()
                .map_or_else(|| "n/a".into(), |k| format!("{k:8.2} KiB"))
        );
        if let Some([base, storm, ack_base, ack_storm]) = &self.chat {
            println!("  chat delivery, baseline     {}", base.line());
            println!("  chat delivery, storm        {}", storm.line());
            println!(
                "  p99 storm / baseline        {:8.2}",
                storm.ms(0.99) / base.ms(0.99)
            );
            println!("  chat ack, baseline          {}", ack_base.line());
            println!("  chat ack, storm             {}", ack_storm.line());
        }
        if let Some(e) = &self.chat_error {
            println!("  chat: no figures, a chatter failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_has_the_nearest_rank_median_and_the_sum() {
        let s = Spread::of(vec![5, 1, 3, 2]);
        assert_eq!((s.min, s.p50, s.max, s.total), (1, 2, 5, 11));
        assert_eq!(Spread::of(Vec::new()).total, 0);
    }
}
