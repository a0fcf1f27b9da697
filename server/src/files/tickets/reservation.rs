//! Upload names: reserving one before any byte moves (so two users cannot
//! upload the same name at once), the [`Reservation`] guard that releases it,
//! and what the uploads in progress hold against free space and a user's quota
//! and limit of uploads at once.

use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use super::{Hold, Inner, TicketError, Tickets, lock};

/// A reserved upload name; released when dropped (unless handed to a ticket).
#[derive(Debug)]
pub struct Reservation {
    pub(super) inner: Arc<Mutex<Inner>>,
    pub(super) name: String,
    pub(super) id: u64,
    pub(super) armed: bool,
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

impl Tickets {
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
}
