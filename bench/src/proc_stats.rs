//! Memory and CPU figures of a process, read from /proc (Linux).

/// Peak and current resident memory of a process, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Peak resident set (VmHWM).
    pub peak_kib: u64,
    /// Current resident set (VmRSS).
    pub now_kib: u64,
}

impl Memory {
    /// The memory of several processes together.
    pub fn sum(each: &[Memory]) -> Memory {
        Memory {
            peak_kib: each.iter().map(|m| m.peak_kib).sum(),
            now_kib: each.iter().map(|m| m.now_kib).sum(),
        }
    }
}

/// Read `/proc/<pid>/status`; `None` where there is no /proc or no such process.
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    Some(Memory {
        peak_kib: field("VmHWM:")?,
        now_kib: field("VmRSS:")?,
    })
}

/// CPU seconds (user + system) a process has used.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
