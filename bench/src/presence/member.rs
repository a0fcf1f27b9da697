//! One user of the `presence` crowd once its `login_ok` is in: it asks to
//! watch the first page of the online list if it is a watcher (as a terminal
//! client with the online pane on screen does), then reads everything the
//! server sends, counting frames and bytes by type without parsing them, and
//! pings within the keepalive. It tells the scenario when the marker message
//! reaches it: then it is online and chatting.

use std::sync::Arc;
use std::time::Instant;

use chatroom_shared::codec::HEADER_LEN;
use chatroom_shared::message::{ClientMessage, Ping, Request, WatchUsers};
use chatroom_shared::{Decoded, FrameCodec};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use crate::crowd::{Conn, LoginSeen, Parts};

/// The page a watcher asks for: what a terminal shows of the online list.
pub const WATCH_LIMIT: u32 = 100;

/// The server messages counted apart; the type is read from the frame's
/// first bytes (the server writes `type` first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The reply to the login.
    LoginOk,
    /// The reply to `watch_users` (a page of the online list).
    UserList,
    /// Coalesced changes of a watched window.
    Presence,
    /// One user came online (non-watchers, few online).
    UserJoined,
    /// One user went offline (non-watchers, few online).
    UserLeft,
    /// A chat message.
    Message,
    /// The reply to a ping.
    Pong,
    /// Anything else.
    Other,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 8] = [
        Kind::LoginOk,
        Kind::UserList,
        Kind::Presence,
        Kind::UserJoined,
        Kind::UserLeft,
        Kind::Message,
        Kind::Pong,
        Kind::Other,
    ];

    /// The wire name (`other` for the rest).
    pub fn name(self) -> &'static str {
        match self {
            Kind::LoginOk => "login_ok",
            Kind::UserList => "user_list",
            Kind::Presence => "presence",
            Kind::UserJoined => "user_joined",
            Kind::UserLeft => "user_left",
            Kind::Message => "message",
            Kind::Pong => "pong",
            Kind::Other => "other",
        }
    }

    /// The kind of a frame's JSON, from its leading `{"type":"..."`.
    pub fn of(body: &[u8]) -> Kind {
        let Some(rest) = body.strip_prefix(br#"{"type":""#) else {
            return Kind::Other;
        };
        let end = rest.iter().position(|&b| b == b'"').unwrap_or(0);
        let name = &rest[..end];
        Kind::ALL
            .into_iter()
            .find(|k| k.name().as_bytes() == name)
            .unwrap_or(Kind::Other)
    }

    fn index(self) -> usize {
        Kind::ALL.iter().position(|&k| k == self).unwrap_or(0)
    }
}

/// Frames and bytes (length prefix and JSON) received.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    /// Frames.
    pub frames: u64,
    /// Bytes.
    pub bytes: u64,
}

/// What a member sees on the way: the marker reaching it, or its connection
/// ending before that.
#[derive(Debug)]
pub enum Seen {
    /// The marker message arrived at this moment.
    Marked(Instant),
    /// The connection ended first, with why.
    Closed(String),
}

/// How a member runs.
#[derive(Clone)]
pub struct Plan {
    /// Whether it watches the first page of the online list.
    pub watch: bool,
    /// The marker's text, searched for in `message` frames.
    pub marker: Arc<[u8]>,
    /// Where it reports [`Seen`].
    pub seen: mpsc::Sender<Seen>,
    /// Ends it.
    pub stop: CancellationToken,
}

/// What one member received, from its `login_ok` until told to stop.
pub struct Member {
    /// Its `login_ok`.
    pub login: LoginSeen,
    /// Whether it sent `watch_users`.
    pub watched: bool,
    /// Frames and bytes by [`Kind`] (in [`Kind::ALL`] order).
    pub by_kind: [Tally; Kind::ALL.len()],
    /// Whether the marker reached it.
    pub marked: bool,
    /// Why the connection ended before the stop, if it did.
    pub closed: Option<String>,
    /// The open connection, closed when this is dropped (after the server
    /// stops, so it does not spend its last moments telling who left).
    _socket: Option<(FramedRead<OwnedReadHalf, FrameCodec>, OwnedWriteHalf)>,
}

impl Member {
    /// Everything received.
    pub fn total(&self) -> Tally {
        self.by_kind.iter().fold(Tally::default(), |a, t| Tally {
            frames: a.frames + t.frames,
            bytes: a.bytes + t.bytes,
        })
    }

    fn count(&mut self, kind: Kind, bytes: usize) {
        let t = &mut self.by_kind[kind.index()];
        t.frames += 1;
        t.bytes += bytes as u64;
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

async fn write(writer: &mut OwnedWriteHalf, seq: u32, body: ClientMessage) -> anyhow::Result<()> {
    let frame = chatroom_shared::encode_frame(&Request { seq, body })?;
    writer.write_all(&frame).await?;
    Ok(())
}

/// Run one logged-in member until `plan.stop`.
pub async fn follow(conn: Conn, plan: Plan) -> Member {
    let login = conn.login_seen().unwrap_or_default();
    let Parts {
        mut reader,
        mut writer,
        mut seq,
        ping_every,
    } = conn.into_parts();
    let mut member = Member {
        login,
        watched: false,
        by_kind: [Tally::default(); Kind::ALL.len()],
        marked: false,
        closed: None,
        _socket: None,
    };
    member.count(Kind::LoginOk, login.bytes);
    let fail = |member: &mut Member, why: String| {
        if !member.marked {
            let _ = plan.seen.try_send(Seen::Closed(why.clone()));
        }
        member.closed = Some(why);
    };
    if plan.watch {
        seq += 1;
        let watch = ClientMessage::WatchUsers(WatchUsers {
            after: None,
            limit: Some(WATCH_LIMIT),
        });
        if let Err(e) = write(&mut writer, seq, watch).await {
            fail(&mut member, format!("sending watch_users: {e:#}"));
            return member;
        }
        member.watched = true;
    }
    let start = tokio::time::Instant::now();
    let mut ping = tokio::time::interval_at(start + ping_every, ping_every);
    loop {
        tokio::select! {
            () = plan.stop.cancelled() => break,
            frame = reader.next() => match frame {
                Some(Ok(Decoded::Frame(body))) => {
                    let kind = Kind::of(&body);
                    member.count(kind, HEADER_LEN + body.len());
                    if kind == Kind::Message && !member.marked && contains(&body, &plan.marker) {
                        member.marked = true;
                        let _ = plan.seen.try_send(Seen::Marked(Instant::now()));
                    }
                }
                Some(Ok(Decoded::FrameStarted)) => {}
                Some(Err(e)) => {
                    fail(&mut member, format!("reading: {e}"));
                    return member;
                }
                None => {
                    fail(&mut member, "the server closed the connection".into());
                    return member;
                }
            },
            _ = ping.tick() => {
                seq = seq.wrapping_add(1);
                if let Err(e) = write(&mut writer, seq, ClientMessage::Ping(Ping {})).await {
                    fail(&mut member, format!("sending a ping: {e:#}"));
                    return member;
                }
            }
        }
    }
    member._socket = Some((reader, writer));
    member
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_kind_is_read_from_its_leading_type() {
        assert_eq!(
            Kind::of(br#"{"type":"presence","online_count":3}"#),
            Kind::Presence
        );
        assert_eq!(Kind::of(br#"{"type":"message","id":1}"#), Kind::Message);
        assert_eq!(Kind::of(br#"{"type":"game_invite"}"#), Kind::Other);
        assert_eq!(Kind::of(br#"{"seq":1,"type":"pong"}"#), Kind::Other);
    }

    #[test]
    fn the_marker_is_found_anywhere_in_a_frame() {
        assert!(contains(br#"{"text":"mark-12"}"#, b"mark-12"));
        assert!(!contains(br#"{"text":"mark-1"}"#, b"mark-12"));
        assert!(!contains(b"abc", b""));
    }
}
