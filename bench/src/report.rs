//! Figures shared by the load scenarios: latency histograms and their summary,
//! and the CPU time of the server and of the benchmark itself over a phase,
//! with a verdict on which side saturated.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::proc_stats;

/// Latencies in microseconds. Two significant digits (1 % resolution) keep a
/// histogram at a few KiB, so each of a thousand receivers can own one.
pub type Latency = Histogram<u32>;

/// Largest latency a histogram holds (longer ones are clamped to it): 10 minutes.
const MAX_MICROS: u64 = 600_000_000;

/// An empty latency histogram.
pub fn latency() -> anyhow::Result<Latency> {
    Ok(Histogram::new_with_bounds(1, MAX_MICROS, 2)?)
}

/// Record one latency (clamped to the histogram's range).
pub fn record(h: &mut Latency, micros: u64) {
    h.saturating_record(micros.clamp(1, MAX_MICROS));
}

/// Percentiles of a histogram in milliseconds (`NaN` when empty).
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Number of samples.
    pub n: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
}

impl Summary {
    /// Summarize `h`.
    pub fn of(h: &Latency) -> Self {
        let ms = |v: u64| v as f64 / 1000.0;
        if h.is_empty() {
            return Self {
                n: 0,
                p50: f64::NAN,
                p90: f64::NAN,
                p99: f64::NAN,
                max: f64::NAN,
            };
        }
        Self {
            n: h.len(),
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }

    /// The summary as a JSON object (`null` for missing percentiles).
    pub fn json(&self) -> Value {
        let f = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
        json!({"n": self.n, "p50": f(self.p50), "p90": f(self.p90), "p99": f(self.p99), "max": f(self.max)})
    }

    /// One line for the human table.
    pub fn line(&self) -> String {
        format!(
            "p50 {:7.2} ms  p90 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms  (n={})",
            self.p50, self.p90, self.p99, self.max, self.n
        )
    }
}

/// Jiffies of the whole machine, from the `cpu` line of `/proc/stat`.
#[derive(Debug, Clone, Copy)]
struct Jiffies {
    /// Running: user, nice, system, irq and softirq.
    busy: u64,
    /// Interrupts and softirqs: mostly the kernel's TCP work on loopback,
    /// charged to no process.
    irq: u64,
    /// Taken by the hypervisor while this machine wanted to run (a VM's noise).
    steal: u64,
    /// Everything, idle and iowait included.
    total: u64,
}

fn machine_jiffies() -> Option<Jiffies> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|f| f.parse().ok())
        .collect();
    let [user, nice, system, idle, iowait, irq, softirq, steal] = v[..] else {
        return None;
    };
    Some(Jiffies {
        busy: user + nice + system + irq + softirq,
        irq: irq + softirq,
        steal,
        total: user + nice + system + idle + iowait + irq + softirq + steal,
    })
}

/// CPU time of the server (when its pid is known), of this process and of
/// the whole machine over a phase.
#[derive(Debug, Clone)]
pub struct CpuWindow {
    start: Instant,
    /// The server's processes (the nodes of a cluster) and their CPU seconds at the start.
    servers: Vec<(u32, Option<f64>)>,
    bench: Option<f64>,
    machine: Option<Jiffies>,
}

/// CPU use over a finished phase.
#[derive(Debug, Clone)]
pub struct CpuUse {
    /// Wall-clock length of the phase.
    pub wall: Duration,
    /// Server CPU seconds (user + system), when its pid is known; of a
    /// cluster, the sum over its nodes.
    pub server_s: Option<f64>,
    /// Each node's CPU seconds, in node order (one entry for one server).
    pub server_nodes_s: Vec<Option<f64>>,
    /// The benchmark's own CPU seconds.
    pub bench_s: Option<f64>,
    /// Share of all cores busy (0 to 1), whoever used them: this includes
    /// the kernel's network work that is charged to no process, and any
    /// other process on the machine.
    pub machine_busy: Option<f64>,
    /// Share of all cores in interrupts and softirqs (0 to 1): the kernel's
    /// network work, charged to no process.
    pub machine_irq: Option<f64>,
    /// Share of all cores the hypervisor took away (0 to 1): noise.
    pub machine_steal: Option<f64>,
    /// Cores of this machine.
    pub cores: usize,
}

impl CpuWindow {
    /// Start measuring, with the server's processes (the nodes of a cluster;
    /// none when unknown).
    pub fn start(server_pids: &[u32]) -> Self {
        Self {
            start: Instant::now(),
            servers: server_pids
                .iter()
                .map(|&p| (p, proc_stats::cpu_seconds(p)))
                .collect(),
            bench: proc_stats::cpu_seconds(std::process::id()),
            machine: machine_jiffies(),
        }
    }

    /// Stop measuring.
    pub fn stop(&self) -> CpuUse {
        let delta = |before: Option<f64>, now: Option<f64>| Some(now? - before?);
        let machine = machine_jiffies();
        let share = |pick: fn(&Jiffies) -> u64| {
            let (a, b) = (self.machine?, machine?);
            (b.total > a.total).then(|| (pick(&b) - pick(&a)) as f64 / (b.total - a.total) as f64)
        };
        let nodes: Vec<Option<f64>> = self
            .servers
            .iter()
            .map(|&(pid, before)| delta(before, proc_stats::cpu_seconds(pid)))
            .collect();
        let server_s = if nodes.is_empty() {
            None
        } else {
            nodes.iter().copied().sum::<Option<f64>>()
        };
        CpuUse {
            wall: self.start.elapsed(),
            server_s,
            server_nodes_s: nodes,
            bench_s: delta(self.bench, proc_stats::cpu_seconds(std::process::id())),
            machine_busy: share(|j| j.busy),
            machine_irq: share(|j| j.irq),
            machine_steal: share(|j| j.steal),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

impl CpuUse {
    fn cores_used(&self, s: Option<f64>) -> Option<f64> {
        Some(s? / self.wall.as_secs_f64().max(1e-9))
    }

    /// Which side ran out of CPU, in words. The machine is saturated when at
    /// least 90 % of its cores were busy; then the server's and the
    /// benchmark's shares are named, and the rest (kernel network work charged
    /// to no process, other processes). A server busy on about one core while
    /// the machine has spare ones points at one thread (task) of it.
    pub fn verdict(&self) -> String {
        let server = self.cores_used(self.server_s);
        let bench = self.cores_used(self.bench_s).unwrap_or(0.0);
        let cores = self.cores as f64;
        let busy = self.machine_busy.map(|b| b * cores);
        let steal = self.machine_steal.unwrap_or(0.0) * cores;
        let server_text = server.map_or_else(|| "n/a".to_owned(), |s| format!("{s:.2}"));
        match (busy, server) {
            // Time the hypervisor took is time this machine did not have.
            (Some(busy), _) if busy + steal >= 0.9 * cores => {
                let irq = self.machine_irq.unwrap_or(0.0) * cores;
                let rest = (busy - server.unwrap_or(0.0) - bench - irq).max(0.0);
                let heavier = match server {
                    Some(s) if s >= bench => "the server",
                    Some(_) => "the benchmark (generator)",
                    None => "unknown (no server pid)",
                };
                format!(
                    "machine CPU saturated ({:.0} % of {} cores busy: server {server_text}, benchmark {bench:.2}, kernel softirq (network) {irq:.2}, other {rest:.2} cores; hypervisor steal {steal:.2} cores); the larger share: {heavier}",
                    100.0 * busy / cores,
                    self.cores
                )
            }
            (_, Some(s)) if s >= 0.85 => format!(
                "the server uses about one core ({s:.2}) while the machine has spare CPU: one thread (task) of it is the bound"
            ),
            (_, None) => "unknown (no server pid)".into(),
            _ => format!(
                "no CPU saturated (server {server_text}, benchmark {bench:.2} cores): bound by waiting (disk syncs, the window, the offered rate)"
            ),
        }
    }

    /// The figures as JSON.
    pub fn json(&self) -> Value {
        json!({
            "wall_s": self.wall.as_secs_f64(),
            "server_cpu_s": self.server_s,
            "bench_cpu_s": self.bench_s,
            "server_cores": self.cores_used(self.server_s),
            "server_cpu_s_per_node": self.server_nodes_s,
            "bench_cores": self.cores_used(self.bench_s),
            "machine_busy_pct": self.machine_busy.map(|b| 100.0 * b),
            "machine_irq_pct": self.machine_irq.map(|b| 100.0 * b),
            "machine_steal_pct": self.machine_steal.map(|b| 100.0 * b),
            "cores": self.cores,
            "saturated": self.verdict(),
        })
    }

    /// One line for the human table.
    pub fn line(&self) -> String {
        let show = |s: Option<f64>| {
            s.map_or_else(
                || "n/a".to_owned(),
                |s| {
                    format!(
                        "{s:.2} s ({:.2} cores)",
                        s / self.wall.as_secs_f64().max(1e-9)
                    )
                },
            )
        };
        let machine = self.machine_busy.map_or_else(String::new, |b| {
            format!(
                ", machine {:.0} % busy ({:.0} % in softirq)",
                100.0 * b,
                100.0 * self.machine_irq.unwrap_or(0.0)
            )
        });
        let steal = self
            .machine_steal
            .filter(|s| *s >= 0.01)
            .map_or_else(String::new, |s| {
                format!(" ({:.0} % stolen by the hypervisor)", 100.0 * s)
            });
        let nodes = if self.server_nodes_s.len() > 1 {
            let each: Vec<String> = self
                .server_nodes_s
                .iter()
                .enumerate()
                .map(|(i, s)| format!("n{} {}", i + 1, show(*s)))
                .collect();
            format!(" [{}]", each.join(", "))
        } else {
            String::new()
        };
        format!(
            "CPU over {:.1} s: server {}{nodes}, benchmark {}{machine}{steal}",
            self.wall.as_secs_f64(),
            show(self.server_s),
            show(self.bench_s)
        )
    }
}

/// ", N nodes (clients round-robin)" for a cluster, nothing for one server.
pub fn nodes_text(nodes: usize) -> String {
    if nodes > 1 {
        format!(", {nodes} nodes (clients round-robin)")
    } else {
        String::new()
    }
}

/// Each node's peak RSS, " (n1 x MiB, n2 y MiB)", for a cluster; nothing for one server.
pub fn per_node_rss(peaks_kib: &[u64]) -> String {
    if peaks_kib.len() < 2 {
        return String::new();
    }
    let each: Vec<String> = peaks_kib
        .iter()
        .enumerate()
        .map(|(i, k)| format!("n{} {:.1} MiB", i + 1, *k as f64 / 1024.0))
        .collect();
    format!(" ({})", each.join(", "))
}
