//! One-time transfer tickets and the names of uploads in progress.
//!
//! `upload_begin` reserves a name here before any byte moves, so two users cannot
//! upload the same name at once; the reservation lives in the ticket until the ticket
//! is redeemed or expires, then in the [`Reservation`] guard of the running upload,
//! which releases it when the upload ends in any way. The database's UNIQUE index is
//! the final word; this only keeps a second upload from starting.
//!
//! The same holds count a user's uploads at once (`--max-uploads-per-user`): each
//! reserved name is one upload being prepared, waiting for its data connection or
//! receiving, so a user cannot pile up tickets and partial files without bound.
//!
//! State sits behind a `std::sync::Mutex`: every critical section is a few map
//! operations with no `.await` inside, so the lock is never held across a suspension.
//!
//! One module per job, re-exported so callers name everything as
//! `files::tickets::X`:
//! - this module: the shared state ([`Tickets`]) and the expiry of tickets;
//! - `plans`: what a ticket allows ([`UploadPlan`], [`DownloadPlan`]) and what
//!   redeeming it grants;
//! - `reservation`: reserving an upload's name and counting a user's uploads;
//! - `issue`: issuing tickets and redeeming them;
//! - `handover`: a redeemed ticket handed to another node of a cluster.

mod handover;
mod issue;
mod plans;
mod reservation;
#[cfg(test)]
mod tests;

pub use plans::{DownloadPlan, Grant, Plan, UploadPlan};
pub use reservation::Reservation;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// Most tickets outstanding at once; beyond that `upload_begin`/`download_begin` are
/// refused until some expire, so memory stays bounded.
const MAX_TICKETS: usize = 65_536;

/// Why a name could not be reserved or a ticket issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// Another upload of this name is being prepared or running.
    #[error("a file of this name is being uploaded")]
    NameBusy,
    /// Too many tickets outstanding.
    #[error("too many transfers are being prepared")]
    Full,
    /// The user has this many uploads already, the most allowed.
    #[error(
        "you have {0} uploads running or waiting for their data connection, the most one may have at once"
    )]
    TooManyUploads(u32),
}

/// The unredeemed tickets and reserved names. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Tickets {
    inner: Arc<Mutex<Inner>>,
    ttl: Duration,
    /// Uploads one user may have at once; 0: no limit.
    max_uploads_per_user: u32,
}

#[derive(Debug, Default)]
struct Inner {
    tickets: HashMap<String, Pending>,
    names: HashMap<String, Hold>,
    next_hold: u64,
}

#[derive(Debug)]
struct Pending {
    expires: Instant,
    plan: Held,
}

#[derive(Debug)]
enum Held {
    Upload(UploadPlan, u64),
    Download(DownloadPlan),
}

/// Who holds a name.
#[derive(Debug)]
struct Hold {
    id: u64,
    uid: i64,
    key: String,
    /// The whole file's size (counted against the uploader's quota).
    size: u64,
    /// Bytes the upload may still write (counted against the free space).
    bytes: u64,
    /// The unredeemed ticket holding it, if not yet redeemed.
    ticket: Option<String>,
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // No code panics while holding the lock; if one did, the maps are still consistent.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Tickets {
    /// Tickets valid for `ttl`, and at most `max_uploads_per_user` uploads of one user
    /// at once (0: no limit).
    pub fn new(ttl: Duration, max_uploads_per_user: u32) -> Self {
        Self {
            inner: Arc::default(),
            ttl,
            max_uploads_per_user,
        }
    }

    /// How long a new ticket stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

impl Inner {
    /// Drop expired tickets and release the names they held.
    fn expire(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .tickets
            .iter()
            .filter(|(_, p)| p.expires <= now)
            .map(|(t, _)| t.clone())
            .collect();
        for t in expired {
            if let Some(Pending {
                plan: Held::Upload(plan, hold_id),
                ..
            }) = self.tickets.remove(&t)
                && self.names.get(&plan.name).is_some_and(|h| h.id == hold_id)
            {
                self.names.remove(&plan.name);
            }
        }
    }
}
