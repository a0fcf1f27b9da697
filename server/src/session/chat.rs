//! Chat in the main room: `say` and `history`.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{History, HistoryPage, Say, ServerMessage};
use chatroom_shared::rules::{TextError, validate_client_id, validate_text};

use super::{Flow, Reject, Session};
use crate::db::history;
use crate::history::to_chat_message;
use crate::store::{Ack, StoreItem};
use crate::time::now_ms;

impl Session {
    /// Queue the message for storage; the store acknowledges it (`say_ok`)
    /// and delivers it to the others once it is committed.
    pub(super) async fn say(&mut self, seq: u32, m: Say) -> Result<Flow, Reject> {
        let max = self.ctx.config.max_message_len;
        let l = self.require_login()?;
        if !validate_client_id(&m.id) {
            return Err(Reject::new(
                ErrorCode::InvalidMessageId,
                "the message id must be 1 to 64 bytes without control characters",
            ));
        }
        validate_text(&m.text, max).map_err(|e| match e {
            TextError::TooLong { .. } => Reject::new(ErrorCode::TextTooLong, e.to_string()),
            TextError::Empty | TextError::ControlChar(_) => {
                Reject::new(ErrorCode::InvalidText, e.to_string())
            }
        })?;
        let Some(outbox) = l.ack_sender.upgrade() else {
            // The hub already dropped this session; the loop closes it next.
            return Ok(Flow::Continue);
        };
        let item = StoreItem::Chat {
            uid: l.uid,
            name: l.name.clone(),
            client_id: m.id,
            text: m.text,
            ts: now_ms(),
            ack: Ack {
                outbox,
                session_id: self.id,
                seq,
            },
        };
        self.ctx
            .store
            .submit(item)
            .await
            .map_err(|_| Reject::new(ErrorCode::ShuttingDown, "the server is shutting down"))?;
        Ok(Flow::Continue)
    }

    pub(super) async fn history(&mut self, seq: u32, m: History) -> Result<Flow, Reject> {
        self.require_login()?;
        let cursor = match (m.before, m.after) {
            (Some(_), Some(_)) => {
                return Err(Reject::new(
                    ErrorCode::InvalidCursor,
                    "give either before or after, not both",
                ));
            }
            (Some(b), None) => history::Cursor::Before(b),
            (None, Some(a)) => history::Cursor::After(a),
            (None, None) => history::Cursor::Latest,
        };
        let max = self.ctx.config.max_history_page.max(1);
        let limit = m.limit.unwrap_or(max).clamp(1, max);
        let (rows, has_more) = history::room_page(&self.ctx.db, cursor, u64::from(limit)).await?;
        self.queue(&ServerMessage::HistoryPage(HistoryPage {
            seq,
            messages: rows.into_iter().map(to_chat_message).collect(),
            has_more,
        }));
        Ok(Flow::Continue)
    }
}
