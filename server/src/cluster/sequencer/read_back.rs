//! Reading back from the database what did not arrive over NATS: one
//! conversation's messages after the last one delivered here, encoded as the
//! node that stored them encoded them, each for the same audience.

use std::collections::HashMap;

use chatroom_shared::message::{Announcement, ServerMessage};
use sea_orm::{DatabaseConnection, DbErr};

use crate::db::clocks;
use crate::db::history::{self, Cursor, Filters, Placed, Scope};
use crate::delivery::{Audience, Committed, Conversation, Event, Thread};
use crate::outbox::encode_event;
use crate::recipients;

/// Rows per query of a read-back.
const PAGE: u64 = 500;

/// The messages of `c` with ids `after+1..=upto`, as a batch that follows on
/// from `after` (so it is delivered at once); `None` when there are none.
pub async fn conversation(
    db: &DatabaseConnection,
    c: Conversation,
    after: i64,
    upto: i64,
) -> Result<Option<Committed>, DbErr> {
    let scope = Scope::from(c);
    let mut rows = Vec::new();
    let mut from = after;
    while from < upto {
        let (page, more) =
            history::page(db, &scope, &Filters::default(), Cursor::After(from), PAGE).await?;
        let Some(newest) = page.last().map(|m| m.id) else {
            break;
        };
        rows.extend(page.into_iter().filter(|m| m.id <= upto));
        if !more {
            break;
        }
        from = newest;
    }
    if rows.is_empty() {
        return Ok(None);
    }
    // The group's members once, not once per message.
    let members = match c {
        Conversation::Group(g) => recipients::group_members(db, g).await?,
        _ => Vec::new(),
    };
    let senders: Vec<(Option<i64>, i64)> = rows.iter().map(|r| (r.uid, r.target_id)).collect();
    let messages = crate::history::to_chat_messages(db, rows).await?;
    let mut events = Vec::with_capacity(messages.len());
    let mut ids = Vec::with_capacity(messages.len());
    for (m, (sender, target)) in messages.into_iter().zip(senders) {
        let id = m.id;
        let (frame, to) = match sender {
            None => (
                encode_event(&ServerMessage::Announcement(Announcement {
                    id,
                    ts: m.ts,
                    text: m.text,
                })),
                Audience::EVERYONE,
            ),
            Some(uid) => {
                let to = match c {
                    Conversation::Room => Audience::all_but(uid),
                    Conversation::Group(_) => Audience::Only(recipients::all_but(&members, &[uid])),
                    Conversation::Direct(..) => Audience::direct(uid, target),
                };
                (encode_event(&ServerMessage::Message(m)), to)
            }
        };
        ids.push(id);
        events.push(Event {
            frame,
            message_id: Some(id),
            to,
        });
    }
    Ok(Some(Committed {
        first: ids[0],
        last: ids[ids.len() - 1],
        events,
        threads: vec![Thread {
            conversation: c,
            prev: after,
            ids,
        }],
    }))
}

/// The conversations holding stored ids `after+1..=upto` (`None`: any), each
/// with its newest id among them, and the highest id found (`after` if none).
pub async fn conversations_in(
    db: &DatabaseConnection,
    after: i64,
    upto: Option<i64>,
) -> Result<(Vec<(Conversation, i64)>, i64), DbErr> {
    let mut newest: HashMap<Conversation, i64> = HashMap::new();
    let mut from = after;
    loop {
        let rows = history::placed(db, from, upto, 10 * PAGE).await?;
        let Some(last) = rows.last().map(|p| p.id) else {
            break;
        };
        for Placed {
            id,
            target_kind,
            target_id,
            uid,
        } in rows
        {
            let c = clocks::conversation(target_kind, target_id, uid);
            let n = newest.entry(c).or_insert(id);
            *n = (*n).max(id);
        }
        from = last;
    }
    let mut found: Vec<(Conversation, i64)> = newest.into_iter().collect();
    found.sort_unstable();
    Ok((found, from))
}
