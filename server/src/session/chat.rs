//! Chat in every conversation: `say` (the main room), `send` (a group or a user),
//! `history`, `search` and `read`.
//!
//! A conversation named by the client is resolved here, once, into what the user may
//! do with it: the room is everyone's; a group must exist, and a private one is read
//! and written by members only (reading from the moment they joined unless the group
//! shows new members its whole history); a closed group stays readable, read-only,
//! for its members (history, search, read positions, offline delivery) and nothing
//! more can be sent to it; a direct message needs an existing user.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    History, HistoryPage, Read, ReadOk, Say, Search, SearchResults, Send, ServerMessage, Target,
};
use chatroom_shared::rules::{
    SearchTextError, TextError, name_key, search_words, validate_client_id, validate_text,
};

use super::{Flow, Reject, Session};
use crate::db::history::{self, Cursor, Filters, Scope, TargetKind};
use crate::db::{accounts, groups, reads};
use crate::history::to_chat_messages;
use crate::recipients;
use crate::search;
use crate::store::{Ack, Destination, StoreItem, TrySubmitError};
use crate::time::now_ms;
use tracing::{debug, warn};

/// What `server_busy` tells a sender to wait when the store queue is full: about
/// one retry of the writer's backoff while the database is away.
const STORE_BUSY_RETRY_MS: u64 = 1000;

/// A conversation the user may use, resolved.
pub(super) struct Conversation {
    /// The kind of conversation.
    pub kind: TargetKind,
    /// `chat_history.target_id` (the group, or the other user).
    pub id: i64,
    /// The conversation with its names as stored.
    pub target: Target,
    /// The messages the user may read in it.
    pub scope: Scope,
    /// For a group: whether the user is a member (may write).
    pub member: bool,
    /// False for a closed group: readable by its members, nothing more is sent.
    pub open: bool,
}

fn no_group(name: &str) -> Reject {
    Reject::new(
        ErrorCode::GroupNotFound,
        format!("no group is named {name:?}"),
    )
}

impl Session {
    /// Resolve `to` for the logged-in user, refusing what they may not read.
    pub(super) async fn conversation(&mut self, to: &Target) -> Result<Conversation, Reject> {
        let me = self.require_login()?.uid;
        let db = &self.ctx.db;
        match to {
            Target::Room => Ok(Conversation {
                kind: TargetKind::Room,
                id: 0,
                target: Target::Room,
                scope: Scope::Room,
                member: true,
                open: true,
            }),
            Target::Group { group } => {
                let g = groups::find_by_key(db, &name_key(group.trim()))
                    .await?
                    .ok_or_else(|| no_group(group))?;
                let rel = groups::relation(db, g.id, me).await?;
                let member = rel.is_some_and(|r| r.flag == groups::REL_MEMBER);
                if !g.is_open() && !member {
                    return Err(Reject::new(
                        ErrorCode::GroupClosed,
                        format!(
                            "the group {} is closed: only its members still read it",
                            g.name
                        ),
                    ));
                }
                let since = match (g.private, rel) {
                    (false, _) => None,
                    (true, Some(r)) if member => (!g.full_history).then_some(r.since),
                    (true, _) => {
                        return Err(Reject::new(
                            ErrorCode::Forbidden,
                            format!("{} is a private group: only its members read it", g.name),
                        ));
                    }
                };
                let open = g.is_open();
                Ok(Conversation {
                    kind: TargetKind::Group,
                    id: g.id,
                    target: Target::Group { group: g.name },
                    scope: Scope::Group { id: g.id, since },
                    member,
                    open,
                })
            }
            Target::User { user } => {
                let spelled = user.trim();
                let (id, name) = match self.peers.get(spelled) {
                    Some(peer) => peer,
                    None => {
                        let key = name_key(spelled);
                        let peer = accounts::find_by_key(db, &key).await?.ok_or_else(|| {
                            Reject::new(
                                ErrorCode::UserNotFound,
                                format!("no account is named {user:?}"),
                            )
                        })?;
                        self.peers.insert(spelled, peer.id, peer.name.clone());
                        (peer.id, peer.name)
                    }
                };
                Ok(Conversation {
                    kind: TargetKind::User,
                    id,
                    target: Target::User { user: name },
                    scope: Scope::Direct { me, peer: id },
                    member: true,
                    open: true,
                })
            }
        }
    }

    /// `say`: a message to the main room.
    pub(super) async fn say(&mut self, seq: u32, m: Say) -> Result<Flow, Reject> {
        self.ctx.config.faults.on_say(&m.text);
        let me = self.require_login()?.uid;
        self.submit_chat(seq, m.id, m.text, Destination::room(me))
            .await
    }

    /// `send`: a message to any conversation the user may write to.
    pub(super) async fn send(&mut self, seq: u32, m: Send) -> Result<Flow, Reject> {
        let me = self.require_login()?.uid;
        let c = self.conversation(&m.to).await?;
        if c.kind == TargetKind::Group {
            if !c.open {
                let name = match &c.target {
                    Target::Group { group } => group.as_str(),
                    _ => "the group",
                };
                return Err(Reject::new(
                    ErrorCode::GroupClosed,
                    format!(
                        "the group {name} is closed: nothing more can be sent to it; \
                             its history stays readable"
                    ),
                ));
            }
            if !c.member {
                return Err(Reject::new(
                    ErrorCode::Forbidden,
                    "only members write to a group; join it first",
                ));
            }
        }
        let to = Destination {
            audience: recipients::of_message(&self.ctx.db, c.kind, c.id, me).await?,
            kind: c.kind,
            id: c.id,
            target: c.target,
        };
        self.submit_chat(seq, m.id, m.text, to).await
    }

    /// Queue the message for storage; the store acknowledges it (`say_ok`) and
    /// delivers it once it is committed.
    async fn submit_chat(
        &mut self,
        seq: u32,
        id: String,
        text: String,
        to: Destination,
    ) -> Result<Flow, Reject> {
        let max = self.ctx.config.max_message_len;
        let l = self.require_login()?;
        if !validate_client_id(&id) {
            return Err(Reject::new(
                ErrorCode::InvalidMessageId,
                "the message id must be 1 to 64 bytes without control characters",
            ));
        }
        validate_text(&text, max).map_err(|e| match e {
            TextError::TooLong { .. } => Reject::new(ErrorCode::TextTooLong, e.to_string()),
            TextError::Empty | TextError::ControlChar(_) => {
                Reject::new(ErrorCode::InvalidText, e.to_string())
            }
        })?;
        if let Some(wait) = self.ctx.store.unavailable_for() {
            debug!("the store is failing; a message was refused with storage_unavailable");
            return Err(Reject::storage_unavailable(wait));
        }
        let Some(outbox) = l.ack_sender.upgrade() else {
            // The hub already dropped this session; the loop closes it next.
            return Ok(Flow::Continue);
        };
        let item = StoreItem::Chat {
            uid: l.uid,
            to,
            name: l.name.clone(),
            client_id: id,
            text,
            ts: now_ms(),
            ack: Ack {
                outbox,
                session_id: self.id,
                seq,
            },
        };
        match self.ctx.store.try_submit(item) {
            Ok(()) => Ok(Flow::Continue),
            Err(TrySubmitError::Full) => {
                warn!("the store queue is full; a message was refused with server_busy");
                let mut r = Reject::new(
                    ErrorCode::ServerBusy,
                    "the server cannot store messages right now; send it again shortly",
                );
                r.reply.retry_after_ms = Some(STORE_BUSY_RETRY_MS);
                Err(r)
            }
            Err(TrySubmitError::Stopped) => Err(Reject::new(
                ErrorCode::ShuttingDown,
                "the server is shutting down",
            )),
        }
    }

    /// `history`: one page of a conversation, narrowed by the request's filters.
    pub(super) async fn history(&mut self, seq: u32, m: History) -> Result<Flow, Reject> {
        self.require_login()?;
        let cursor = match (m.before, m.after) {
            (Some(_), Some(_)) => {
                return Err(Reject::new(
                    ErrorCode::InvalidCursor,
                    "give either before or after, not both",
                ));
            }
            (Some(b), None) => Cursor::Before(b),
            (None, Some(a)) => Cursor::After(a),
            (None, None) => Cursor::Latest,
        };
        let c = self.conversation(&m.to).await?;
        let from_key = m.from.as_deref().map(|name| name_key(name.trim()));
        let from = match &from_key {
            None => None,
            Some(key) => Some(
                accounts::find_by_key(&self.ctx.db, key)
                    .await?
                    .map_or(-1, |a| a.id),
            ),
        };
        let filters = Filters {
            before_ts: m.before_ts,
            after_ts: m.after_ts,
            from,
            words: words(m.text.as_deref().unwrap_or_default())?,
        };
        let limit = self.page_limit(m.limit);
        let db = &self.ctx.db;
        let index = self.ctx.search.as_ref();
        let (rows, has_more) = search::page(
            index,
            db,
            &c.scope,
            &filters,
            from_key.as_deref(),
            cursor,
            limit,
        )
        .await?;
        let messages = to_chat_messages(db, rows).await?;
        self.queue(&ServerMessage::HistoryPage(HistoryPage {
            seq,
            messages,
            has_more,
        }));
        Ok(Flow::Continue)
    }

    fn page_limit(&self, asked: Option<u32>) -> u64 {
        let max = self.ctx.config.max_history_page.max(1);
        u64::from(asked.unwrap_or(max).clamp(1, max))
    }

    /// `search`: every message the user may read that holds all the words, newest
    /// first.
    pub(super) async fn search(&mut self, seq: u32, m: Search) -> Result<Flow, Reject> {
        let me = self.require_login()?.uid;
        let words = words(&m.text)?;
        if words.is_empty() {
            return Err(Reject::new(
                ErrorCode::InvalidText,
                "give at least one word to search for",
            ));
        }
        let db = &self.ctx.db;
        let mine = groups::relations_of(db, me).await?;
        let mut readable = Vec::new();
        // Closed groups too: `list_for` keeps those the user was a member of.
        for g in groups::list_for(db, me).await? {
            let rel = mine.get(&g.id).filter(|r| r.flag == groups::REL_MEMBER);
            match (g.private, rel) {
                (false, _) => readable.push((g.id, None)),
                (true, Some(r)) => readable.push((g.id, (!g.full_history).then_some(r.since))),
                (true, None) => {}
            }
        }
        let scope = Scope::Readable {
            me,
            groups: readable,
        };
        let cursor = m.before.map_or(Cursor::Latest, Cursor::Before);
        let limit = self.page_limit(m.limit);
        let index = self.ctx.search.as_ref();
        let filters = Filters {
            words,
            ..Filters::default()
        };
        let (rows, has_more) =
            search::page(index, db, &scope, &filters, None, cursor, limit).await?;
        let mut messages = to_chat_messages(db, rows).await?;
        messages.reverse();
        self.queue(&ServerMessage::SearchResults(SearchResults {
            seq,
            messages,
            has_more,
        }));
        Ok(Flow::Continue)
    }

    /// `read`: move the user's read position in a conversation forward, at most to the
    /// newest message they may read there: a position beyond it would pass over the
    /// messages still to come, and silence the conversation's offline delivery for good.
    pub(super) async fn read(&mut self, seq: u32, m: Read) -> Result<Flow, Reject> {
        let me = self.require_login()?.uid;
        if m.upto < 0 {
            return Err(Reject::new(
                ErrorCode::InvalidField,
                "upto is a message id: 0 or more",
            ));
        }
        let c = self.conversation(&m.to).await?;
        let db = &self.ctx.db;
        let newest = history::newest_id(db, &c.scope).await?;
        let upto = reads::advance(db, me, c.kind, c.id, m.upto.min(newest)).await?;
        self.queue(&ServerMessage::ReadOk(ReadOk {
            seq,
            to: c.target,
            upto,
        }));
        Ok(Flow::Continue)
    }
}

/// The words of a search text (`search.text`, `history.text`); more than 8, or one
/// over 64 characters, is `invalid_field` (cutting them would widen the search
/// without the client knowing).
fn words(text: &str) -> Result<Vec<String>, Reject> {
    search_words(text)
        .map(|words| words.into_iter().map(str::to_owned).collect())
        .map_err(|e: SearchTextError| Reject::new(ErrorCode::InvalidField, e.to_string()))
}
