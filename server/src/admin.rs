//! What the administrator can do: announce, list users and groups, kick, ban, unban,
//! close a group, stop.
//!
//! The console parses lines into calls on [`Admin`]; tests call it directly.

use std::sync::Arc;

use chatroom_shared::message::Kicked;
use chatroom_shared::rules::{TextError, name_key, validate_text};
use sea_orm::DbErr;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::ctx::Ctx;
use crate::db::{accounts, groups, tokens};
use crate::hub::OnlineEntry;
use crate::store::StoreItem;
use crate::time::now_ms;
use crate::untrusted::untrusted;

/// Why an admin action failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No account has that name.
    #[error("no account is named {}", untrusted(.0))]
    UnknownUser(String),
    /// The account exists but is not online.
    #[error("{} is not online", untrusted(.0))]
    NotOnline(String),
    /// The announcement text breaks the text rules.
    #[error("{0}")]
    InvalidText(#[from] TextError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// No group has that name.
    #[error("no group is named {}", untrusted(.0))]
    UnknownGroup(String),
    /// The group is already closed.
    #[error("the group {} is already closed", untrusted(.0))]
    GroupClosed(String),
    /// The server is shutting down.
    #[error("the server is shutting down")]
    Stopped,
    /// The database does not take writes now (disk full, database down).
    #[error("the database cannot store it now (disk full or database down); try again in {}s", .0.as_secs().max(1))]
    StorageUnavailable(std::time::Duration),
}

/// A group as the administrator's `/groups` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Name.
    pub name: String,
    /// Creator's name.
    pub creator: String,
    /// Private or public.
    pub private: bool,
    /// Members now.
    pub members: u32,
}

/// Handle for administrator actions. Cheap to clone.
#[derive(Clone)]
pub struct Admin {
    ctx: Arc<Ctx>,
    shutdown: CancellationToken,
}

impl Admin {
    pub(crate) fn new(ctx: Arc<Ctx>, shutdown: CancellationToken) -> Self {
        Self { ctx, shutdown }
    }

    /// Store an announcement and send it to everyone online ("Admin: text").
    /// Returns its chat-history id once it is stored and sent.
    pub async fn announce(&self, text: &str) -> Result<i64, AdminError> {
        validate_text(text, self.ctx.config.max_message_len)?;
        let (done, rx) = oneshot::channel();
        self.ctx
            .store
            .submit(StoreItem::Announcement {
                text: text.to_owned(),
                ts: now_ms(),
                done,
            })
            .await
            .map_err(|_| AdminError::Stopped)?;
        let id = rx
            .await
            .map_err(|_| AdminError::Stopped)?
            .map_err(|e| match e {
                crate::store::StoreError::Stopped => AdminError::Stopped,
                crate::store::StoreError::Unavailable { retry_after } => {
                    AdminError::StorageUnavailable(retry_after)
                }
            })?;
        info!(id, "announcement sent");
        Ok(id)
    }

    /// Everyone online, with their addresses.
    pub async fn users(&self) -> Result<Vec<OnlineEntry>, AdminError> {
        self.ctx.hub.online().await.map_err(|_| AdminError::Stopped)
    }

    async fn account(&self, name: &str) -> Result<crate::db::entity::base_info::Model, AdminError> {
        accounts::find_by_key(&self.ctx.db, &name_key(name))
            .await?
            .ok_or_else(|| AdminError::UnknownUser(name.to_owned()))
    }

    /// Disconnect a user; they get `kicked`, everyone else `user_left`.
    pub async fn kick(&self, name: &str, reason: Option<String>) -> Result<(), AdminError> {
        let account = self.account(name).await?;
        let kicked = Kicked {
            reason,
            banned: false,
        };
        match self.ctx.hub.remove(account.id, kicked).await {
            Ok(true) => {
                info!(user = %untrusted(&account.name), "kicked");
                Ok(())
            }
            Ok(false) => Err(AdminError::NotOnline(account.name)),
            Err(_) => Err(AdminError::Stopped),
        }
    }

    /// Disable an account: it cannot log in, its resume tokens are revoked,
    /// and it is disconnected if online. Returns whether it was online.
    pub async fn ban(&self, name: &str) -> Result<bool, AdminError> {
        let account = self.account(name).await?;
        accounts::set_flag(&self.ctx.db, account.id, accounts::FLAG_DISABLED).await?;
        tokens::revoke_all(&self.ctx.db, account.id).await?;
        let kicked = Kicked {
            reason: Some("banned by the administrator".into()),
            banned: true,
        };
        let online = self
            .ctx
            .hub
            .remove(account.id, kicked)
            .await
            .map_err(|_| AdminError::Stopped)?;
        info!(user = %untrusted(&account.name), online, "banned");
        Ok(online)
    }

    /// Enable a banned account again.
    pub async fn unban(&self, name: &str) -> Result<(), AdminError> {
        let account = self.account(name).await?;
        accounts::set_flag(&self.ctx.db, account.id, accounts::FLAG_NORMAL).await?;
        info!(user = %untrusted(&account.name), "unbanned");
        Ok(())
    }

    /// Every open group.
    pub async fn groups(&self) -> Result<Vec<GroupEntry>, AdminError> {
        let db = &self.ctx.db;
        let list: Vec<_> = groups::list_for(db, 0)
            .await?
            .into_iter()
            .filter(|g| g.is_open())
            .collect();
        let ids: Vec<i64> = list.iter().map(|g| g.id).collect();
        let counts = groups::member_counts(db, &ids).await?;
        Ok(list
            .into_iter()
            .map(|g| GroupEntry {
                members: counts.get(&g.id).copied().unwrap_or(0),
                name: g.name,
                creator: g.creator_name,
                private: g.private,
            })
            .collect())
    }

    /// Close a group: nothing more can be sent to it, its members still read it; they are told.
    pub async fn close_group(&self, name: &str) -> Result<(), AdminError> {
        let db = &self.ctx.db;
        let mut g = groups::find_by_key(db, &name_key(name))
            .await?
            .ok_or_else(|| AdminError::UnknownGroup(name.to_owned()))?;
        if !groups::close(db, g.id, groups::FLAG_CLOSED_BY_ADMIN).await? {
            return Err(AdminError::GroupClosed(g.name));
        }
        g.flag = groups::FLAG_CLOSED_BY_ADMIN;
        info!(group = %untrusted(&g.name), "group closed by the administrator");
        crate::group_notices::tell_members(
            db,
            &self.ctx.hub,
            &g,
            chatroom_shared::message::GroupChange::Closed,
            None,
            &[],
        )
        .await?;
        Ok(())
    }

    /// The search index's state and size (`None`: searches scan).
    pub fn search_index(&self) -> Option<crate::search::Size> {
        self.ctx
            .search
            .as_ref()
            .map(crate::search::SearchIndex::size)
    }

    /// Write a consistent copy of the SQLite database to `to`, with the list
    /// of shared files to copy beside it (see [`crate::backup`]).
    pub async fn backup(
        &self,
        to: &std::path::Path,
    ) -> Result<crate::backup::Backup, crate::backup::BackupError> {
        let backup = crate::backup::sqlite(&self.ctx.db, self.ctx.files.store.root(), to).await?;
        info!(
            path = %untrusted(&backup.database.to_string_lossy()),
            bytes = backup.bytes,
            files = backup.files,
            "backup written"
        );
        Ok(backup)
    }

    /// Start a graceful shutdown.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }
}
