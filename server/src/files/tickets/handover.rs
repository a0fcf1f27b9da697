//! A ticket redeemed on another node of a cluster, which got its data
//! connection: this node hands the plan over, that node adopts it.

use super::{Grant, Plan, TicketError, Tickets, lock};

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
