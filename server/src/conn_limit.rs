//! Connections per client address (TWTTALK's limit): each connection holds a slot of its
//! address for as long as it lives, and an address with all its slots taken is refused.
//! Also how a refused connection is told why: one error frame without `seq`, then the
//! close (`too_many_connections` here, `connection_rate_limited` for `crate::conn_rate`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ErrorReply, ServerMessage};
use tracing::info;

/// The slots in use per address. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct AddressSlots {
    max: usize,
    used: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One connection's slot; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    ip: IpAddr,
    used: Option<Arc<Mutex<HashMap<IpAddr, usize>>>>,
}

impl AddressSlots {
    /// At most `max` connections per address; 0 for no limit.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            used: Arc::default(),
        }
    }

    /// A slot for a new connection from `ip`, or `None` when the address has them all.
    pub fn take(&self, ip: IpAddr) -> Option<Slot> {
        if self.max == 0 {
            return Some(Slot { ip, used: None });
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let n = used.entry(ip).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            ip,
            used: Some(Arc::clone(&self.used)),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(used) = &self.used {
            let mut used = used.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = used.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    used.remove(&self.ip);
                }
            }
        }
    }
}

/// The refusal of a connection from an address that has all its slots.
pub fn too_many_connections(peer: SocketAddr) -> ErrorReply {
    info!(%peer, "too many connections from this address; refused");
    ErrorReply::new(
        None,
        ErrorCode::TooManyConnections,
        "too many connections from your address; close one and try again",
    )
}

/// The refusal of a connection from an address that opens them too fast, with the
/// time to wait (rounded up to whole milliseconds, so waiting it is always enough).
pub fn connecting_too_fast(peer: SocketAddr, retry_after: Duration) -> ErrorReply {
    info!(%peer, ?retry_after, "too many new connections from this address; refused");
    let ms = u64::try_from(retry_after.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
    let mut reply = ErrorReply::new(
        None,
        ErrorCode::ConnectionRateLimited,
        format!("too many new connections from your address; connect again in {ms} ms"),
    );
    reply.retry_after_ms = Some(ms);
    reply
}

/// Tell a refused connection why, and close it.
pub async fn refuse(stream: crate::transport::Stream, reply: ErrorReply) {
    use tokio::io::AsyncWriteExt;
    let (_read, mut stream) = stream.into_split();
    let reply = ServerMessage::Error(reply);
    if let Ok(frame) = chatroom_shared::encode_frame(&reply) {
        let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(&frame)).await;
    }
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_address_and_given_back() {
        let slots = AddressSlots::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let one = slots.take(a).unwrap();
        let _two = slots.take(a).unwrap();
        assert!(slots.take(a).is_none());
        assert!(slots.take(b).is_some());
        drop(one);
        assert!(slots.take(a).is_some());
        let unlimited = AddressSlots::new(0);
        let held: Vec<_> = (0..100).map(|_| unlimited.take(a).unwrap()).collect();
        assert_eq!(held.len(), 100);
    }
}
