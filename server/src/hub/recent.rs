//! The main room's newest messages as this node delivered them, so a login's
//! `login_ok.recent` needs no database read.
//!
//! A restart under ten thousand users is ten thousand logins in a few
//! seconds, and each one read the room's latest page from the database. The
//! hub sees every room message it delivers here, in id order (a single
//! node's writer commits in id order; in a cluster the room is one
//! conversation, delivered in its order), so it keeps the newest
//! `--history-count` of them. A join copies them in the same step that puts
//! the session in the table: what was delivered before is in the copy, what
//! comes after is in the session's outbox, and nothing falls between.
//!
//! Until the server reads the room's latest page once at start ([`Recent::prime`])
//! the hub answers a join with no copy and the session reads the database as
//! before. In a cluster, room messages may be delivered before that read
//! (another node commits meanwhile): priming merges both by id.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use chatroom_shared::message::{ChatMessage, MessageKind, ServerMessage, Target};

use crate::delivery::{Audience, Event};
use crate::history::ADMIN_NAME;

/// One room message: its id and its event frame, decoded once, by the first
/// login that needs it (the hub task never parses a frame).
#[derive(Debug)]
pub struct Line {
    id: i64,
    frame: Bytes,
    decoded: OnceLock<Option<ChatMessage>>,
}

impl Line {
    /// A room message read from the database.
    pub fn from_message(m: ChatMessage) -> Arc<Self> {
        Arc::new(Self {
            id: m.id,
            frame: Bytes::new(),
            decoded: OnceLock::from(Some(m)),
        })
    }

    /// The message's id.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The message as `login_ok.recent` lists it (none if its frame is not a
    /// room message, which the hub never keeps).
    pub fn message(&self) -> Option<ChatMessage> {
        self.decoded.get_or_init(|| decode(&self.frame)).clone()
    }
}

/// A room event's frame as the chat message it carries: a user's message,
/// or an announcement (which `login_ok.recent` lists as a message of kind
/// `announcement` from "Admin", as the history does).
fn decode(frame: &[u8]) -> Option<ChatMessage> {
    let body = frame.get(chatroom_shared::codec::HEADER_LEN..)?;
    match serde_json::from_slice::<ServerMessage>(body).ok()? {
        ServerMessage::Message(m) if m.to == Target::Room => Some(m),
        ServerMessage::Announcement(a) => Some(ChatMessage {
            id: a.id,
            ts: a.ts,
            kind: MessageKind::Announcement,
            from: ADMIN_NAME.to_owned(),
            text: a.text,
            to: Target::Room,
        }),
        _ => None,
    }
}

/// The newest room messages delivered here, at most `cap`.
#[derive(Debug, Default)]
pub struct Recent {
    cap: usize,
    lines: VecDeque<Arc<Line>>,
    primed: bool,
}

impl Recent {
    /// Keep the newest `cap` room messages (`--history-count`).
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            lines: VecDeque::new(),
            primed: false,
        }
    }

    /// Note the room messages among delivered `events`: stored messages for
    /// everyone (group and direct messages go to some accounts only; file
    /// shares, presence and game events are not stored).
    pub fn delivered(&mut self, events: &[Event]) {
        for e in events {
            let (Some(id), Audience::Everyone { .. }) = (e.message_id, &e.to) else {
                continue;
            };
            if self.lines.back().is_some_and(|l| l.id >= id) {
                continue;
            }
            self.lines.push_back(Arc::new(Line {
                id,
                frame: e.frame.clone(),
                decoded: OnceLock::new(),
            }));
            if self.lines.len() > self.cap {
                self.lines.pop_front();
            }
        }
    }

    /// The room's latest page as read from the database at start: merged by
    /// id with what was delivered meanwhile, the newest `cap` kept. From now
    /// on joins get a copy.
    pub fn prime(&mut self, read: Vec<Arc<Line>>) {
        let mut all: Vec<Arc<Line>> = self.lines.drain(..).chain(read).collect();
        all.sort_by_key(|l| l.id);
        all.dedup_by_key(|l| l.id);
        let skip = all.len().saturating_sub(self.cap);
        self.lines = all.into_iter().skip(skip).collect();
        self.primed = true;
    }

    /// A copy for a join, oldest first; none until primed.
    pub fn copy(&self) -> Option<Vec<Arc<Line>>> {
        self.primed.then(|| self.lines.iter().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use chatroom_shared::message::Announcement;

    use super::*;
    use crate::outbox::encode_event;

    fn said(id: i64) -> ChatMessage {
        ChatMessage {
            id,
            ts: id * 10,
            kind: MessageKind::Message,
            from: "alice".into(),
            text: format!("m{id}"),
            to: Target::Room,
        }
    }

    fn room(id: i64) -> Event {
        Event {
            frame: encode_event(&ServerMessage::Message(said(id))),
            message_id: Some(id),
            to: Audience::all_but(1),
        }
    }

    fn ids(r: &Recent) -> Vec<i64> {
        r.copy().unwrap().iter().map(|l| l.id()).collect()
    }

    #[test]
    fn keeps_the_newest_room_messages_and_nothing_else() {
        let mut r = Recent::new(3);
        r.delivered(&[room(1), room(2)]);
        assert!(r.copy().is_none(), "no copy before the start's read");
        r.prime(Vec::new());
        let direct = Event {
            frame: encode_event(&ServerMessage::Message(ChatMessage {
                to: Target::User { user: "bob".into() },
                ..said(3)
            })),
            message_id: Some(3),
            to: Audience::Only(vec![2]),
        };
        let shared = Event::new(Bytes::from_static(b"x"), Audience::EVERYONE);
        r.delivered(&[direct, shared, room(4), room(4), room(5)]);
        assert_eq!(ids(&r), [2, 4, 5], "newest three, once each");
        let got: Vec<ChatMessage> = r
            .copy()
            .unwrap()
            .iter()
            .filter_map(|l| l.message())
            .collect();
        assert_eq!(got, [said(2), said(4), said(5)]);
    }

    #[test]
    fn an_announcement_is_listed_as_the_history_lists_it() {
        let mut r = Recent::new(5);
        r.prime(Vec::new());
        r.delivered(&[Event {
            frame: encode_event(&ServerMessage::Announcement(Announcement {
                id: 7,
                ts: 70,
                text: "maintenance".into(),
            })),
            message_id: Some(7),
            to: Audience::EVERYONE,
        }]);
        let m = r.copy().unwrap()[0].message().unwrap();
        assert_eq!(
            m,
            crate::history::to_chat_message(crate::db::history::StoredMessage {
                id: 7,
                send_time: 70,
                text: "maintenance".into(),
                level: crate::db::history::LEVEL_ADMIN,
                sender: None,
                uid: None,
                target_kind: crate::db::history::TargetKind::Room,
                target_id: 0,
            })
        );
    }

    #[test]
    fn priming_merges_the_read_with_what_came_meanwhile() {
        let mut r = Recent::new(4);
        r.delivered(&[room(5), room(6)]);
        let read = (2..=5).map(|id| Line::from_message(said(id))).collect();
        r.prime(read);
        assert_eq!(ids(&r), [3, 4, 5, 6]);
        r.delivered(&[room(6), room(7)]);
        assert_eq!(ids(&r), [4, 5, 6, 7]);
    }
}
