//! A CPU budget of its own for each started server (`--node-cpus`): a cgroup
//! with a CFS quota, so that a node can use at most that many cores.
//!
//! Why: on a machine whose few cores also run the database, NATS and the load
//! generator, a second node takes CPU from the first, and "does a second node
//! add capacity" cannot be read off. With each node held to the same budget,
//! the nodes are the bound (as they are when each runs on a machine of its
//! own) while the database has the rest, so one node against two shows what
//! the design lets a node add.
//!
//! Written by hand: it is three files of the cgroup file system, and the
//! cgroup crates of the ecosystem pull in a D-Bus client for systemd besides.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The quota's period: short, so that a node out of budget waits
/// milliseconds, not the default 100 ms, before it runs again.
const PERIOD_US: u64 = 10_000;

/// Where cgroups live.
const ROOT: &str = "/sys/fs/cgroup";

/// A cgroup holding one started server, removed when dropped (after the
/// server exited).
#[derive(Debug)]
pub struct CpuBudget {
    dir: PathBuf,
}

impl CpuBudget {
    /// Put process `pid` (with all its threads) into a new cgroup that lets
    /// it use `cores` cores at most.
    pub fn apply(pid: u32, cores: f64) -> anyhow::Result<Self> {
        anyhow::ensure!(
            cores.is_finite() && cores >= 0.01,
            "--node-cpus must be at least 0.01"
        );
        // The float is a small positive count of cores: the quota in µs fits.
        let quota = (cores * PERIOD_US as f64).round() as u64;
        let name = format!("chatroom-bench-{pid}");
        let v1 = Path::new(ROOT).join("cpu");
        let budget = if v1.join("cpu.cfs_quota_us").exists() {
            let budget = Self::create(v1.join(&name))?;
            budget.write("cpu.cfs_period_us", &PERIOD_US.to_string())?;
            budget.write("cpu.cfs_quota_us", &quota.to_string())?;
            budget
        } else {
            let root = Path::new(ROOT);
            let controllers = std::fs::read_to_string(root.join("cgroup.controllers")).context(
                "--node-cpus needs the cgroup file system (v1 cpu or v2) at /sys/fs/cgroup",
            )?;
            anyhow::ensure!(
                controllers.split_whitespace().any(|c| c == "cpu"),
                "--node-cpus needs the cpu controller, which this cgroup v2 tree lacks"
            );
            // Already on where a service manager enabled it; an error here
            // shows as the `cpu.max` write failing below.
            let _ = std::fs::write(root.join("cgroup.subtree_control"), "+cpu");
            let budget = Self::create(root.join(&name))?;
            budget.write("cpu.max", &format!("{quota} {PERIOD_US}"))?;
            budget
        };
        budget.write("cgroup.procs", &pid.to_string())?;
        Ok(budget)
    }

    fn create(dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir(&dir).with_context(|| {
            format!(
                "creating the cgroup {} for --node-cpus (it needs root)",
                dir.display()
            )
        })?;
        Ok(Self { dir })
    }

    fn write(&self, file: &str, value: &str) -> anyhow::Result<()> {
        let path = self.dir.join(file);
        std::fs::write(&path, value)
            .with_context(|| format!("writing {value:?} to {}", path.display()))
    }
}

impl Drop for CpuBudget {
    fn drop(&mut self) {
        // Empty once its server exited: a cgroup directory goes with rmdir.
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!(
                "chatroom-bench: could not remove the cgroup {}: {e}",
                self.dir.display()
            );
        }
    }
}
