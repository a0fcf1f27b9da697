//! What every session shares: the configuration and the handles to the
//! server's tasks. Built once by [`crate::server`]; sessions and the
//! administrator read it. It names no cluster type: in a cluster, the parts
//! that reach other nodes plug in behind the core's own traits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chatroom_shared::message::Limits;
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::files::{Files, TicketsElsewhere};
use crate::hub::Hub;
use crate::password::PasswordHasher;
use crate::search::SearchIndex;
use crate::store::Store;
use crate::throttle::AddressThrottle;

/// The handles [`Ctx`] is made of.
pub struct Handles {
    /// The configuration.
    pub config: Config,
    /// The database pool.
    pub db: DatabaseConnection,
    /// The presence and fan-out hub.
    pub hub: Hub,
    /// The write-behind store.
    pub store: Store,
    /// bcrypt with bounded parallelism.
    pub hasher: PasswordHasher,
    /// Failed-login counts per address.
    pub throttle: AddressThrottle,
    /// The limits announced in `hello_ok`.
    pub limits: Limits,
    /// Shared files: their storage and transfer tickets.
    pub files: Files,
    /// The game task: invitations and games in play.
    pub games: crate::games::Desk,
    /// Request limiters of users who left, for their next login.
    pub limiters: crate::flood::UserLimiters,
    /// In a cluster: where tickets issued by other nodes are claimed.
    pub ticket_claims: Option<Arc<dyn TicketsElsewhere>>,
    /// The search index, unless searches scan (`--search-index false`, or it
    /// could not be opened).
    pub search: Option<SearchIndex>,
}

/// What every session shares: configuration and handles to the server's tasks.
pub struct Ctx {
    handles: Handles,
    next_session: AtomicU64,
}

impl Ctx {
    /// The shared context, numbering connections from `first_session`.
    pub fn new(handles: Handles, first_session: u64) -> Self {
        Self {
            handles,
            next_session: AtomicU64::new(first_session),
        }
    }

    /// A fresh id for a new connection.
    pub fn next_session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// What a data connection uses, taken from the shared handles.
    pub fn transfer(&self) -> crate::files::Transfer {
        crate::files::Transfer {
            store: self.files.store.clone(),
            db: self.db.clone(),
            hub: self.hub.clone(),
            write_timeout: self.config.write_timeout,
            idle_timeout: self.config.transfer_idle_timeout,
        }
    }
}

impl std::ops::Deref for Ctx {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.handles
    }
}
