//! What server nodes say to each other over NATS: one JSON envelope per NATS
//! message, naming the node it comes from.
//!
//! Events for clients travel as the very frames the origin encoded (their JSON
//! carried raw, not parsed into protocol types and encoded again), so every
//! node sends its sessions byte-identical events.

use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use chatroom_shared::UnixMillis;
use chatroom_shared::message::{GameView, Kicked, LeaveReason};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::delivery::{Audience, Event, Thread};
use crate::files::tickets::Plan;
use crate::games::Request;
use crate::games::table::{Answer, Player, Snapshot};

/// One NATS message between nodes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The node that sent it (nodes ignore their own messages).
    pub from: String,
    /// What it says.
    pub body: Body,
}

/// A session somewhere in the cluster: which node, which connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionKey {
    /// The node holding the connection.
    pub node: String,
    /// The connection's id on that node.
    pub session: u64,
}

/// A user logged in on another node, as presence needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteUser {
    /// Account id.
    pub uid: i64,
    /// Display name.
    pub name: String,
    /// Peer address (for the admin's `/users`).
    pub addr: SocketAddr,
    /// Login time.
    pub since: UnixMillis,
    /// The connection's id on its node.
    pub session: u64,
}

/// One event for clients, as it crosses between nodes.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireEvent {
    /// The frame's JSON (without its length prefix).
    pub frame: Box<RawValue>,
    /// The stored message id, when the event is a stored message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
    /// Who receives it.
    pub to: Audience,
}

/// Messages one node committed in one batch (or a part of a large batch),
/// numbered among everything that node has published since it started.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredBatch {
    /// When the publishing node started (its number sequence is this run's).
    pub started: UnixMillis,
    /// The node's count of published batches, this one included: a receiver
    /// that sees a number skipped knows a batch went missing.
    pub seq: u64,
    /// The lowest message id of the batch.
    pub first: i64,
    /// The highest.
    pub last: i64,
    /// Its events, in id order.
    pub events: Vec<WireEvent>,
    /// Its conversations: their ids and where they follow on.
    pub threads: Vec<Thread>,
}

/// What a node has published so far: sent every heartbeat, so a receiver
/// notices a lost batch even when nothing follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tail {
    /// When the publishing node started.
    pub started: UnixMillis,
    /// Its count of published batches.
    pub seq: u64,
    /// The highest message id of the last one.
    pub last: i64,
}

/// What a node says.
#[derive(Debug, Serialize, Deserialize)]
pub enum Body {
    /// Stored messages, to be delivered in order on every node.
    Stored(StoredBatch),
    /// How far the sending node's stored batches go.
    Tail(Tail),
    /// Events that are not stored (file shares, game events, group notices):
    /// deliver now, each to its audience.
    Publish(Vec<WireEvent>),
    /// A user logged in on the sending node.
    Join {
        /// The sender's presence version after this change.
        version: u64,
        /// Who.
        user: RemoteUser,
        /// The session this login takes over, when the node knew of one.
        replaces: Option<SessionKey>,
    },
    /// A user's session on the sending node ended.
    Leave {
        /// The sender's presence version after this change.
        version: u64,
        /// Account id.
        uid: i64,
        /// Which connection.
        session: u64,
        /// Why.
        reason: LeaveReason,
    },
    /// The sending node is alive.
    Heartbeat {
        /// Its presence version.
        version: u64,
        /// When it started (the oldest live node runs the games).
        started: UnixMillis,
    },
    /// The sending node is shutting down: its users are leaving now.
    Stopping,
    /// Ask a node for its whole presence table.
    SnapshotRequest {
        /// The node asked.
        node: String,
    },
    /// A node's whole presence table, in parts of at most
    /// [`super::presence::USERS_PER_PART`] users.
    Snapshot {
        /// Which part this is, from 0.
        #[serde(default)]
        part: u32,
        /// How many parts the table has (0 read as 1).
        #[serde(default)]
        parts: u32,
        /// Its presence version.
        version: u64,
        /// When it started.
        started: UnixMillis,
        /// Everyone logged in on it.
        users: Vec<RemoteUser>,
    },
    /// Game requests to the node that owns the game table, and its answers.
    Game(GameMessage),
    /// Transfer tickets claimed from the node that issued them.
    Ticket(TicketMessage),
    /// The administrator of some node disconnects this account.
    Kick {
        /// Account id.
        uid: i64,
        /// What the user is told.
        kicked: Kicked,
    },
}

/// Game traffic between nodes.
#[derive(Debug, Serialize, Deserialize)]
pub enum GameMessage {
    /// A user's game request, for the owner.
    Request {
        /// Matches the answer to the question.
        id: u64,
        /// The owner.
        to: String,
        /// Who asks.
        who: Player,
        /// What.
        request: Request,
    },
    /// A page of the open invitations and games, please.
    List {
        /// Matches the answer.
        id: u64,
        /// The owner.
        to: String,
        /// Only games with larger ids.
        #[serde(default)]
        after: Option<i64>,
        /// At most this many (all when absent: a node from before paging asks so).
        #[serde(default)]
        limit: Option<usize>,
    },
    /// The owner's answer to a request.
    Answer {
        /// The question's id.
        id: u64,
        /// The node that asked.
        to: String,
        /// The answer.
        answer: Answer,
    },
    /// The owner's answer to a list.
    Listed {
        /// The question's id.
        id: u64,
        /// The node that asked.
        to: String,
        /// The games.
        games: Vec<GameView>,
    },
    /// A session logged in or ended (a player's reconnect grace).
    Presence {
        /// The owner.
        to: String,
        /// Account id.
        uid: i64,
        /// The session (unique across the cluster).
        session: u64,
        /// Logged in (true) or ended.
        online: bool,
    },
    /// The owner's whole table, after a change: for whoever takes it over.
    Table {
        /// The table.
        snapshot: Snapshot,
    },
}

/// Ticket traffic between nodes.
#[derive(Debug, Serialize, Deserialize)]
pub enum TicketMessage {
    /// Whoever holds this ticket: hand it over.
    Claim {
        /// Matches the answer to the question.
        id: u64,
        /// The ticket, as the client sent it.
        ticket: String,
    },
    /// The redeemed ticket's plan, for the node that claimed it.
    HandedOver {
        /// The claim's id.
        id: u64,
        /// The node that claimed it.
        to: String,
        /// What the ticket allows.
        plan: Plan,
    },
}

/// A frame's JSON, for the wire. `None` for a frame that is not JSON (never
/// made by this server; such an event is not forwarded).
pub fn raw(frame: &Bytes) -> Option<Box<RawValue>> {
    let json = frame.get(chatroom_shared::codec::HEADER_LEN..)?;
    serde_json::from_slice(json).ok()
}

/// The frame clients are sent for JSON received from another node.
pub fn frame(raw: &RawValue) -> Bytes {
    let json = raw.get().as_bytes();
    let mut buf = BytesMut::with_capacity(chatroom_shared::codec::HEADER_LEN + json.len());
    buf.put_u32(u32::try_from(json.len()).unwrap_or(u32::MAX));
    buf.put_slice(json);
    buf.freeze()
}

impl WireEvent {
    /// An event for the wire; `None` when its frame is not JSON.
    pub fn from_event(e: &Event) -> Option<Self> {
        Some(Self {
            frame: raw(&e.frame)?,
            message_id: e.message_id,
            to: e.to.clone(),
        })
    }

    /// Back to an event on the receiving node.
    pub fn into_event(self) -> Event {
        Event {
            frame: frame(&self.frame),
            message_id: self.message_id,
            to: self.to,
        }
    }
}

#[cfg(test)]
mod tests {
    use chatroom_shared::message::{ServerMessage, UserJoined};

    use super::*;
    use crate::outbox::encode_event;

    #[test]
    fn a_frame_crosses_the_wire_byte_for_byte() {
        let original = encode_event(&ServerMessage::UserJoined(UserJoined {
            name: "zoë \"quoted\" \u{1F600}".into(),
            ts: 42,
        }));
        let sent = [Audience::all_but(3), Audience::Only(vec![1, 2])].map(|to| Event {
            frame: original.clone(),
            message_id: Some(7),
            to,
        });
        let env = Envelope {
            from: "n1".into(),
            body: Body::Publish(sent.iter().filter_map(WireEvent::from_event).collect()),
        };
        let json = serde_json::to_vec(&env).unwrap();
        let back: Envelope = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.from, "n1");
        let Body::Publish(events) = back.body else {
            panic!("not a publish")
        };
        let got: Vec<Event> = events.into_iter().map(WireEvent::into_event).collect();
        assert_eq!(got.len(), 2);
        for (got, sent) in got.iter().zip(&sent) {
            assert_eq!(got.frame, original);
            assert_eq!((got.message_id, &got.to), (Some(7), &sent.to));
        }
    }

    #[test]
    fn a_frame_that_is_not_json_is_not_forwarded() {
        assert!(raw(&Bytes::from_static(b"\0\0\0\x02{x")).is_none());
        assert!(raw(&Bytes::from_static(b"\0\0")).is_none());
    }
}
