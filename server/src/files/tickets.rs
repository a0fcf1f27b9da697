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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chatroom_shared::message::FileInfo;
use tokio::time::Instant;

/// Most tickets outstanding at once; beyond that `upload_begin`/`download_begin` are
/// refused until some expire, so memory stays bounded.
const MAX_TICKETS: usize = 65_536;

/// What a checked `upload_begin` allows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UploadPlan {
    /// Uploader's account id.
    pub uid: i64,
    /// Uploader's name, for the shared file.
    pub uploader: String,
    /// The file's name.
    pub name: String,
    /// Total size in bytes.
    pub size: u64,
    /// Announced SHA-256 (lowercase hex).
    pub sha256: String,
    /// Uploader's comment.
    pub comment: Option<String>,
    /// Partial-upload key (see [`super::store::partial_key`]).
    pub key: String,
    /// Bytes already stored in the partial upload; the client sends the rest.
    pub offset: u64,
}

/// What a checked `download_begin` allows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DownloadPlan {
    /// The file as listed.
    pub file: FileInfo,
    /// Where its content is stored.
    pub storage_key: String,
    /// First byte to send.
    pub offset: u64,
}

/// What a redeemed ticket lets a data connection do.
#[derive(Debug)]
pub enum Grant {
    /// Receive an upload; the name stays reserved while `reservation` lives.
    Upload(UploadPlan, Reservation),
    /// Send a file.
    Download(DownloadPlan),
}

/// A redeemed ticket's plan, handed to another node of a cluster that got the
/// data connection (see [`Tickets::hand_over`] and [`Tickets::adopt`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Plan {
    /// Receive an upload.
    Upload(UploadPlan),
    /// Send a file.
    Download(DownloadPlan),
}

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

/// A reserved upload name; released when dropped (unless handed to a ticket).
#[derive(Debug)]
pub struct Reservation {
    inner: Arc<Mutex<Inner>>,
    name: String,
    id: u64,
    armed: bool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.armed {
            let mut inner = lock(&self.inner);
            if inner.names.get(&self.name).is_some_and(|h| h.id == self.id) {
                inner.names.remove(&self.name);
            }
        }
    }
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

    /// Reserve `name` for an upload of `size` bytes by `uid` with partial key `key`. An
    /// unredeemed ticket of the same user for the same content is voided and replaced (a
    /// client retrying `upload_begin`, which so takes no second place); any other holder
    /// makes this fail, and so do as many uploads of `uid` as one may have.
    pub fn reserve(
        &self,
        name: &str,
        uid: i64,
        key: &str,
        size: u64,
    ) -> Result<Reservation, TicketError> {
        let mut inner = lock(&self.inner);
        inner.expire(Instant::now());
        if let Some(hold) = inner.names.get(name) {
            let replaceable = hold.ticket.is_some() && hold.uid == uid && hold.key == key;
            if !replaceable {
                return Err(TicketError::NameBusy);
            }
            if let Some(t) = inner.names.remove(name).and_then(|h| h.ticket) {
                inner.tickets.remove(&t);
            }
        }
        let max = self.max_uploads_per_user;
        if max > 0 {
            let held = inner.names.values().filter(|h| h.uid == uid).count();
            if held >= usize::try_from(max).unwrap_or(usize::MAX) {
                return Err(TicketError::TooManyUploads(max));
            }
        }
        inner.next_hold += 1;
        let id = inner.next_hold;
        inner.names.insert(
            name.to_owned(),
            Hold {
                id,
                uid,
                key: key.to_owned(),
                size,
                bytes: 0,
                ticket: None,
            },
        );
        Ok(Reservation {
            inner: Arc::clone(&self.inner),
            name: name.to_owned(),
            id,
            armed: true,
        })
    }

    /// Bytes that uploads other than `mine` may still write: free space they will need.
    pub fn claimed_by_others(&self, mine: &Reservation) -> u64 {
        let inner = lock(&self.inner);
        inner
            .names
            .values()
            .filter(|h| h.id != mine.id)
            .map(|h| h.bytes)
            .sum()
    }

    /// Bytes of the uploads of `uid` other than `mine` that are being prepared or
    /// running: they count against the user's quota before they are recorded.
    pub fn in_progress_of(&self, uid: i64, mine: &Reservation) -> u64 {
        let inner = lock(&self.inner);
        inner
            .names
            .values()
            .filter(|h| h.id != mine.id && h.uid == uid)
            .map(|h| h.size)
            .fold(0u64, u64::saturating_add)
    }

    /// Issue a ticket for a checked upload; the reservation moves into it. Returns the
    /// ticket and its expiry.
    pub fn issue_upload(
        &self,
        mut reservation: Reservation,
        plan: UploadPlan,
    ) -> Result<(String, Instant), TicketError> {
        reservation.armed = false;
        let hold_id = reservation.id;
        let ticket = crate::token::generate();
        let expires = Instant::now() + self.ttl;
        let mut inner = lock(&self.inner);
        if inner.tickets.len() >= MAX_TICKETS {
            if inner.names.get(&plan.name).is_some_and(|h| h.id == hold_id) {
                inner.names.remove(&plan.name);
            }
            return Err(TicketError::Full);
        }
        match inner.names.get_mut(&plan.name) {
            Some(h) if h.id == hold_id => {
                h.ticket = Some(ticket.clone());
                h.bytes = plan.size.saturating_sub(plan.offset);
            }
            // Cannot happen: only this reservation removes its own hold.
            _ => return Err(TicketError::NameBusy),
        }
        inner.tickets.insert(
            ticket.clone(),
            Pending {
                expires,
                plan: Held::Upload(plan, hold_id),
            },
        );
        Ok((ticket, expires))
    }

    /// Issue a ticket for a checked download. Returns the ticket and its expiry.
    pub fn issue_download(&self, plan: DownloadPlan) -> Result<(String, Instant), TicketError> {
        let ticket = crate::token::generate();
        let expires = Instant::now() + self.ttl;
        let mut inner = lock(&self.inner);
        inner.expire(Instant::now());
        if inner.tickets.len() >= MAX_TICKETS {
            return Err(TicketError::Full);
        }
        inner.tickets.insert(
            ticket.clone(),
            Pending {
                expires,
                plan: Held::Download(plan),
            },
        );
        Ok((ticket, expires))
    }

    /// Use a ticket: `None` if it is unknown, already used or expired.
    pub fn redeem(&self, ticket: &str) -> Option<Grant> {
        let mut inner = lock(&self.inner);
        let now = Instant::now();
        inner.expire(now);
        let pending = inner.tickets.remove(ticket)?;
        match pending.plan {
            Held::Download(plan) => Some(Grant::Download(plan)),
            Held::Upload(plan, hold_id) => {
                let hold = inner.names.get_mut(&plan.name)?;
                if hold.id != hold_id {
                    return None;
                }
                hold.ticket = None;
                let reservation = Reservation {
                    inner: Arc::clone(&self.inner),
                    name: plan.name.clone(),
                    id: hold_id,
                    armed: true,
                };
                Some(Grant::Upload(plan, reservation))
            }
        }
    }
}

impl Tickets {
    /// Redeem a ticket for another node of a cluster, which got its data
    /// connection: the plan goes there, and a name reserved here is released
    /// (that node reserves it, [`Tickets::adopt`]). `None` as for [`Tickets::redeem`].
    pub fn hand_over(&self, ticket: &str) -> Option<Plan> {
        match self.redeem(ticket)? {
            Grant::Download(plan) => Some(Plan::Download(plan)),
            // The reservation is dropped here, releasing the name on this node.
            Grant::Upload(plan, _reservation) => Some(Plan::Upload(plan)),
        }
    }

    /// Take on a plan another node handed over ([`Tickets::hand_over`]): an upload
    /// reserves its name here for as long as it runs.
    pub fn adopt(&self, plan: Plan) -> Result<Grant, TicketError> {
        match plan {
            Plan::Download(plan) => Ok(Grant::Download(plan)),
            Plan::Upload(plan) => {
                let reservation = self.reserve(&plan.name, plan.uid, &plan.key, plan.size)?;
                if let Some(h) = lock(&self.inner).names.get_mut(&plan.name)
                    && h.id == reservation.id
                {
                    h.bytes = plan.size.saturating_sub(plan.offset);
                }
                Ok(Grant::Upload(plan, reservation))
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, uid: i64, key: &str) -> UploadPlan {
        UploadPlan {
            uid,
            uploader: "u".into(),
            name: name.into(),
            size: 10,
            sha256: "s".into(),
            comment: None,
            key: key.into(),
            offset: 0,
        }
    }

    #[test]
    fn a_name_is_held_from_reserve_until_the_upload_ends() {
        let t = Tickets::new(Duration::from_secs(60), 0);
        let r = t.reserve("a", 1, "k", 10).unwrap();
        assert_eq!(
            t.reserve("a", 2, "j", 10).unwrap_err(),
            TicketError::NameBusy
        );
        let (ticket, _) = t.issue_upload(r, plan("a", 1, "k")).unwrap();
        assert_eq!(
            t.reserve("a", 2, "j", 10).unwrap_err(),
            TicketError::NameBusy
        );
        let Some(Grant::Upload(_, guard)) = t.redeem(&ticket) else {
            panic!("ticket should redeem");
        };
        assert!(t.redeem(&ticket).is_none(), "one-time");
        assert_eq!(
            t.reserve("a", 1, "k", 10).unwrap_err(),
            TicketError::NameBusy
        );
        drop(guard);
        assert!(t.reserve("a", 2, "j", 10).is_ok());
    }

    #[test]
    fn the_same_user_retrying_replaces_an_unused_ticket() {
        let t = Tickets::new(Duration::from_secs(60), 0);
        let r = t.reserve("a", 1, "k", 10).unwrap();
        let (first, _) = t.issue_upload(r, plan("a", 1, "k")).unwrap();
        let r = t.reserve("a", 1, "k", 10).unwrap();
        let (second, _) = t.issue_upload(r, plan("a", 1, "k")).unwrap();
        assert!(t.redeem(&first).is_none());
        assert!(t.redeem(&second).is_some());
    }

    #[test]
    fn a_users_uploads_in_progress_count_until_they_end() {
        let t = Tickets::new(Duration::from_secs(60), 0);
        let a = t.reserve("a", 1, "k", 10).unwrap();
        let b = t.reserve("b", 1, "l", 32).unwrap();
        let other = t.reserve("c", 2, "m", 64).unwrap();
        assert_eq!(t.in_progress_of(1, &a), 32);
        assert_eq!(t.in_progress_of(1, &b), 10);
        assert_eq!(t.in_progress_of(2, &a), 64);
        let (ticket, _) = t.issue_upload(b, plan("b", 1, "l")).unwrap();
        assert_eq!(
            t.in_progress_of(1, &a),
            32,
            "a ticket still holds its bytes"
        );
        let Some(Grant::Upload(_, running)) = t.redeem(&ticket) else {
            panic!("ticket should redeem");
        };
        assert_eq!(
            t.in_progress_of(1, &a),
            32,
            "a running upload holds them too"
        );
        drop(running);
        assert_eq!(t.in_progress_of(1, &a), 0);
        drop(other);
    }

    #[test]
    fn a_user_holds_at_most_the_limit_of_uploads_and_an_ended_one_frees_its_place() {
        let t = Tickets::new(Duration::from_secs(60), 2);
        let a = t.reserve("a", 1, "k", 10).unwrap();
        let (ticket, _) = t.issue_upload(a, plan("a", 1, "k")).unwrap();
        let b = t.reserve("b", 1, "l", 10).unwrap();
        assert_eq!(
            t.reserve("c", 1, "m", 10).unwrap_err(),
            TicketError::TooManyUploads(2)
        );
        // Asking again for the same upload takes no second place; others have theirs.
        let again = t.reserve("a", 1, "k", 10).unwrap();
        let (ticket_again, _) = t.issue_upload(again, plan("a", 1, "k")).unwrap();
        assert!(t.redeem(&ticket).is_none(), "replaced");
        let other = t.reserve("d", 2, "n", 10).unwrap();
        // A running upload holds its place until it ends.
        let Some(Grant::Upload(_, running)) = t.redeem(&ticket_again) else {
            panic!("ticket should redeem");
        };
        assert_eq!(
            t.reserve("c", 1, "m", 10).unwrap_err(),
            TicketError::TooManyUploads(2)
        );
        drop(running);
        drop(other);
        assert!(t.reserve("c", 1, "m", 10).is_ok());
        drop(b);
    }

    #[test]
    fn expired_tickets_release_their_names() {
        let t = Tickets::new(Duration::from_millis(1), 0);
        let r = t.reserve("a", 1, "k", 10).unwrap();
        let (ticket, _) = t.issue_upload(r, plan("a", 1, "k")).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.redeem(&ticket).is_none());
        assert!(t.reserve("a", 2, "j", 10).is_ok());
    }
}
