//! What a benchmark against several server nodes needs besides starting them
//! ([`crate::server`]): the wait until each node serves, and until the nodes see
//! each other. (The fresh database a run makes is the test kit's
//! [`testkit::fresh_db::FreshDatabase`].)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use testkit::wire;

use crate::client::Control;
use crate::load;

/// Longest the nodes of a fresh cluster may take to see each other's users.
const JOIN_LIMIT: Duration = Duration::from_secs(30);

/// Wait up to `limit` until the server at `addr` answers a `hello`: it listens
/// (and the kernel queues connections) before it has opened and migrated its
/// database, so a node that merely listens may still be migrating.
pub fn wait_until_serving(addr: SocketAddr, limit: Duration) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let hello = wire::request_frame(1, wire::hello("chatroom-bench"))?;
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(limit))?;
    stream.write_all(&hello)?;
    let mut first = [0u8; 1];
    stream
        .read_exact(&mut first)
        .context("no answer to hello")?;
    Ok(())
}

/// Wait until the nodes at `addrs` see each other: one probe user logs in on
/// each node and stays, then on every node fresh probes log in until one's
/// online list holds all of them (presence has crossed NATS both ways). The
/// probes log out before this returns.
pub async fn wait_until_joined(addrs: &[SocketAddr]) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let prefix = load::name_prefix("p");
    let mut held = Vec::with_capacity(addrs.len());
    let mut names = Vec::with_capacity(addrs.len());
    for (i, addr) in addrs.iter().enumerate() {
        let name = format!("{prefix}{i}");
        held.push(
            Control::user(*addr, &name)
                .await
                .with_context(|| format!("probe login on node {}", i + 1))?,
        );
        names.push(name);
    }
    for (i, addr) in addrs.iter().enumerate() {
        for attempt in 0.. {
            let (_probe, ok) = Control::login(*addr, &format!("{prefix}{i}-{attempt}"))
                .await
                .with_context(|| format!("probe login on node {}", i + 1))?;
            if names.iter().all(|n| ok.online.iter().any(|u| &u.name == n)) {
                break;
            }
            if start.elapsed() > JOIN_LIMIT {
                bail!(
                    "node {} did not see the other nodes' users within {JOIN_LIMIT:?}",
                    i + 1
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    drop(held);
    Ok(start.elapsed())
}
