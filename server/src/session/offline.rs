//! What a user missed, delivered right after `login_ok`.
//!
//! First the join requests waiting in the private groups they created, then every
//! message after their read position in each private group they belong to (from the
//! moment they joined, unless the group shows new members everything) and in each
//! direct-message conversation, oldest first, as ordinary `message` events (never the
//! user's own: what they sent counts as read). Nothing is
//! popped: the read position moves only when the client sends `read`, so a connection
//! that drops half-way gets the rest (and some again; clients drop repeated ids) at the
//! next login, also after a server restart. Public groups have no offline delivery.

use std::collections::HashMap;

use chatroom_shared::message::{GroupChange, Membership, ServerMessage};
use tracing::debug;

use super::{Reject, Session};
use crate::db::history::{self, Cursor, Filters, Scope, TargetKind};
use crate::db::{conversations, groups, reads};
use crate::group_notices::info;
use crate::history::to_chat_messages;

/// Rows read from the database at a time.
const PAGE: u64 = 500;

impl Session {
    /// Queue the pending join requests and the missed messages for user `me`.
    pub(super) async fn deliver_missed(&mut self, me: i64) -> Result<(), Reject> {
        let db = self.ctx.db.clone();
        // One query says whether there is anything to read: every group a
        // user made or joined left a relation row (rows are never deleted),
        // and a conversation with news has its peer's last message after the
        // read position. Most users have neither, and make no other query
        // here. A message stored after this query reaches the session live:
        // it joined the hub before.
        let news = conversations::news_of(&db, me).await?;
        let mine = if news.groups {
            groups::relations_of(&db, me).await?
        } else {
            HashMap::new()
        };
        if !mine.is_empty() {
            for (g, names) in groups::pending_for_creator(&db, me).await? {
                let members = groups::users_with(&db, g.id, groups::REL_MEMBER).await?;
                let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
                for name in names {
                    self.queue(&ServerMessage::GroupUpdate(
                        chatroom_shared::message::GroupUpdate {
                            group: info(&g, Membership::Member, count),
                            change: GroupChange::Requested,
                            user: Some(name),
                        },
                    ));
                }
            }
        }

        let budget = self.ctx.config.max_offline_delivery;
        let mut missed = Vec::new();
        // Private groups the user is a member of.
        let ids: Vec<i64> = mine
            .iter()
            .filter(|(_, r)| r.flag == groups::REL_MEMBER)
            .map(|(g, _)| *g)
            .collect();
        let found = groups::find_by_ids(&db, &ids).await?;
        let group_pos = if found.values().any(|g| g.private) {
            reads::positions(&db, me, TargetKind::Group).await?
        } else {
            HashMap::new()
        };
        // Closed groups too: their members still read them.
        for g in found.values().filter(|g| g.private) {
            let since = mine.get(&g.id).map(|r| r.since).filter(|_| !g.full_history);
            let scope = Scope::Group { id: g.id, since };
            let from = group_pos.get(&g.id).copied().unwrap_or(0);
            // What they wrote themselves is read: a client never gets its own
            // messages as events (it had the `say_ok`).
            let others = |m: &Missed| m.uid != Some(me);
            missed.extend(after(&db, &scope, &Filters::default(), from, budget, others).await?);
        }
        // Direct messages to the user, after the position of each conversation:
        // only the conversations with news are read (one row each tells), each
        // from its position on, so a login costs the unread messages, not the
        // inbox. Each brings at least one message, so at most `budget` of
        // them are read.
        let unread = if news.direct {
            conversations::unread_for(&db, me).await?
        } else {
            Vec::new()
        };
        for c in unread
            .into_iter()
            .take(usize::try_from(budget).unwrap_or(usize::MAX))
        {
            let from_peer = Filters {
                from: Some(c.peer),
                ..Filters::default()
            };
            missed.extend(
                after(
                    &db,
                    &Scope::Inbox { me },
                    &from_peer,
                    c.read_upto,
                    budget,
                    |_| true,
                )
                .await?,
            );
        }
        missed.sort_by_key(|m| m.id);
        missed.dedup_by_key(|m| m.id);
        missed.truncate(usize::try_from(budget).unwrap_or(usize::MAX));
        debug!(count = missed.len(), "delivering missed messages");
        for chunk in missed.chunks(usize::try_from(PAGE).unwrap_or(500)) {
            let rows = chunk.iter().map(|m| m.row.clone()).collect();
            for msg in to_chat_messages(&db, rows).await? {
                self.queue(&ServerMessage::Message(msg));
            }
            if self.flush().await.is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// A stored message with its sender's id.
#[derive(Debug, Clone)]
struct Missed {
    id: i64,
    uid: Option<i64>,
    row: history::StoredMessage,
}

/// The messages of `scope` narrowed by `filters` after id `from` that pass
/// `keep`, oldest first, at most `budget`.
async fn after(
    db: &sea_orm::DatabaseConnection,
    scope: &Scope,
    filters: &Filters,
    from: i64,
    budget: u64,
    keep: impl Fn(&Missed) -> bool,
) -> Result<Vec<Missed>, Reject> {
    let mut out = Vec::new();
    let mut cursor = from;
    loop {
        let (rows, more) = history::page(db, scope, filters, Cursor::After(cursor), PAGE).await?;
        let Some(last) = rows.last() else { break };
        cursor = last.id;
        out.extend(
            rows.into_iter()
                .map(|row| Missed {
                    id: row.id,
                    uid: row.uid,
                    row,
                })
                .filter(&keep),
        );
        if !more || out.len() as u64 >= budget {
            break;
        }
    }
    Ok(out)
}
