//! Issuing tickets for checked uploads and downloads (at most
//! [`MAX_TICKETS`] outstanding) and redeeming them, once, on a data connection.

use std::sync::Arc;

use tokio::time::Instant;

use super::{
    DownloadPlan, Grant, Held, MAX_TICKETS, Pending, Reservation, TicketError, Tickets, UploadPlan,
    lock,
};

impl Tickets {
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
