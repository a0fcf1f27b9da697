//! `frames`: arbitrary bytes from a client, read exactly as the server reads
//! them.
//!
//! Input: one control byte, then the byte stream. The control byte picks the
//! frame-size limit (bits 0-1) and the size of the pieces the stream arrives
//! in (bits 2-7: 1 to 64 bytes), so the same stream is also read in one piece
//! and the two readings must agree.
//!
//! Checked, besides "no panic":
//! - framing: the frames are exactly those of a straightforward reference
//!   reading of the stream; none is larger than the limit; a length prefix over
//!   the limit is always `FrameError::TooLarge` with the announced length (the
//!   server's `frame_too_large`), however the bytes were split; `FrameStarted`
//!   comes at most once per frame; buffered bytes mean `in_frame()`.
//! - decoding (`decode_request`, the server's path): the same body always gives
//!   the same result; a request re-encodes to a frame that decodes to the same
//!   request, with the body's `seq` and `type`; every failure has one of the
//!   five decoding codes, the one that matches what is wrong with the body, and
//!   a `seq` only when the body has that `seq`; the error reply the server
//!   would send encodes within the server's frame limit and reads back equal.
//! - dispatch: the pure rules each request's handler applies to its fields
//!   (names, file names, text, ids, the game board) hold their invariants.

#![no_main]

use bytes::BytesMut;
use chatroom_shared::codec::HEADER_LEN;
use chatroom_shared::message::{
    ClientMessage, ErrorReply, Request, ServerMessage, Target, decode_request,
};
use chatroom_shared::rules::file_name::MAX_FILE_NAME_BYTES;
use chatroom_shared::rules::names::{MAX_NAME_CHARS, MAX_NAME_KEY_BYTES};
use chatroom_shared::rules::text::DEFAULT_MAX_TEXT_BYTES;
use chatroom_shared::rules::{
    is_sha256_hex, name_key, validate_client_id, validate_file_name, validate_name,
    validate_password, validate_text,
};
use chatroom_shared::tictactoe::TicTacToe;
use chatroom_shared::{
    DEFAULT_MAX_CLIENT_FRAME, Decoded, ErrorCode, FrameCodec, FrameError, MAX_SERVER_FRAME,
    encode_frame,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tokio_util::codec::Decoder;

/// Frame-size limits to read with: the server's default and small ones that
/// inputs reach easily.
const LIMITS: [usize; 4] = [DEFAULT_MAX_CLIENT_FRAME, 4096, 64, 5];

fuzz_target!(|data: &[u8]| {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let max = LIMITS[usize::from(control & 3)];
    let piece = usize::from(control >> 2) + 1;

    let expected = reference(stream, max);
    let whole = read(stream, max, stream.len().max(1));
    let split = read(stream, max, piece);
    assert_eq!(whole.frames, expected.frames, "frames, read whole");
    assert_eq!(
        split.frames, expected.frames,
        "frames, read in {piece}-byte pieces"
    );
    expected.end.check(&whole.end);
    assert_eq!(split.end, whole.end, "end of a {piece}-byte-piece reading");

    for body in &whole.frames {
        classify(body);
    }
});

/// How a reading of the stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// Every byte was part of a complete frame (or the stream ended just after
    /// a length prefix: nothing is buffered then).
    Clean,
    /// A length prefix was over the limit.
    TooLarge { declared: u64, max: usize },
    /// The stream ended inside a frame.
    Io,
}

/// What the reference reading expects at the end.
#[derive(Debug)]
enum Expected {
    Clean,
    TooLarge {
        declared: u64,
        max: usize,
    },
    /// The stream ends inside a frame: the connection just ends (`Io` or, when
    /// nothing but the length prefix arrived, `Clean`); never an error code.
    Truncated,
}

impl Expected {
    fn check(&self, got: &End) {
        let ok = match self {
            Self::Clean => *got == End::Clean,
            Self::TooLarge { declared, max } => {
                *got == End::TooLarge {
                    declared: *declared,
                    max: *max,
                }
            }
            Self::Truncated => matches!(got, End::Io | End::Clean),
        };
        assert!(ok, "expected {self:?}, got {got:?}");
    }
}

struct Reading {
    frames: Vec<Vec<u8>>,
    end: End,
}

struct Reference {
    frames: Vec<Vec<u8>>,
    end: Expected,
}

/// The framing rules, read off the stream directly.
fn reference(stream: &[u8], max: usize) -> Reference {
    let mut frames = Vec::new();
    let mut rest = stream;
    loop {
        if rest.is_empty() {
            return Reference {
                frames,
                end: Expected::Clean,
            };
        }
        if rest.len() < HEADER_LEN {
            return Reference {
                frames,
                end: Expected::Truncated,
            };
        }
        let declared = u64::from(u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]));
        if declared > max as u64 {
            return Reference {
                frames,
                end: Expected::TooLarge { declared, max },
            };
        }
        let len = usize::try_from(declared).expect("at most max");
        let body = &rest[HEADER_LEN..];
        if body.len() < len {
            return Reference {
                frames,
                end: Expected::Truncated,
            };
        }
        frames.push(body[..len].to_vec());
        rest = &body[len..];
    }
}

/// Read `stream` through the server's decoder, `piece` bytes at a time, then
/// end it the way `FramedRead` does (`decode_eof` until it yields nothing).
fn read(stream: &[u8], max: usize, piece: usize) -> Reading {
    let mut codec = FrameCodec::new(max);
    assert_eq!(codec.max_frame(), max);
    let mut src = BytesMut::new();
    let mut frames = Vec::new();
    let mut started = false;
    let mut take = |item: Decoded, codec: &FrameCodec, frames: &mut Vec<Vec<u8>>| match item {
        Decoded::Frame(body) => {
            assert!(
                body.len() <= max,
                "a frame of {} bytes over {max}",
                body.len()
            );
            assert!(!codec.in_frame(), "in_frame() after a whole frame");
            frames.push(body.to_vec());
            started = false;
        }
        Decoded::FrameStarted => {
            assert!(!started, "FrameStarted twice for one frame");
            assert!(codec.in_frame(), "FrameStarted but not in_frame()");
            started = true;
        }
    };
    let fail = |e: FrameError| match e {
        FrameError::TooLarge {
            declared,
            max: limit,
        } => {
            assert_eq!(limit, max);
            assert!(declared > max as u64, "TooLarge for {declared} <= {max}");
            End::TooLarge {
                declared,
                max: limit,
            }
        }
        FrameError::Io(_) => End::Io,
    };
    for chunk in stream.chunks(piece) {
        src.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut src) {
                Ok(Some(item)) => take(item, &codec, &mut frames),
                Ok(None) => {
                    assert!(
                        src.is_empty() || codec.in_frame(),
                        "bytes buffered but not in_frame()"
                    );
                    break;
                }
                Err(e) => {
                    return Reading {
                        frames,
                        end: fail(e),
                    };
                }
            }
        }
    }
    // A frame and a notice at most, then the end: more means a loop.
    for _ in 0..3 {
        match codec.decode_eof(&mut src) {
            Ok(Some(item)) => take(item, &codec, &mut frames),
            Ok(None) => {
                return Reading {
                    frames,
                    end: End::Clean,
                };
            }
            Err(e) => {
                return Reading {
                    frames,
                    end: fail(e),
                };
            }
        }
    }
    panic!("decode_eof keeps yielding items");
}

/// One frame body through the server's decoding, and the checks on its result.
fn classify(body: &[u8]) {
    let decoded = decode_request(body);
    assert_eq!(decoded, decode_request(body), "decoding is deterministic");
    let utf8 = std::str::from_utf8(body).is_ok();
    let value: Option<Value> = serde_json::from_slice(body).ok();
    let object = value.as_ref().and_then(Value::as_object);
    let body_seq = object
        .and_then(|o| o.get("seq"))
        .and_then(Value::as_u64)
        .and_then(|s| u32::try_from(s).ok());
    let body_type = object.and_then(|o| o.get("type")).and_then(Value::as_str);
    match decoded {
        Ok(req) => {
            assert!(utf8, "a request from a body that is not UTF-8");
            assert!(
                object.is_some(),
                "a request from a body that is not an object"
            );
            assert_eq!(body_seq, Some(req.seq), "the request's seq is the body's");
            assert_eq!(body_type, Some(req.body.type_name()), "type");
            assert!(ClientMessage::TYPE_NAMES.contains(&req.body.type_name()));
            round_trip(&req);
            dispatch(&req);
        }
        Err(reply) => {
            use ErrorCode as E;
            match reply.code {
                E::InvalidUtf8 => assert!(!utf8, "invalid_utf8 for UTF-8"),
                E::Malformed => assert!(utf8 && object.is_none(), "malformed for an object"),
                E::MissingType => assert!(object.is_some() && body_type.is_none()),
                E::UnknownType => assert!(
                    body_type.is_some_and(|t| !ClientMessage::TYPE_NAMES.contains(&t)),
                    "unknown_type for {body_type:?}"
                ),
                E::InvalidField => assert!(
                    body_type.is_some_and(|t| ClientMessage::TYPE_NAMES.contains(&t)),
                    "invalid_field for {body_type:?}"
                ),
                other => panic!("decoding failed with the code {other}"),
            }
            match reply.code {
                E::InvalidUtf8 | E::Malformed => assert_eq!(reply.seq, None),
                _ => assert_eq!(reply.seq, body_seq, "the error's seq is the body's"),
            }
            check_reply(reply);
        }
    }
}

/// A request, encoded as a client does, is read back by the server unchanged.
fn round_trip(req: &Request) {
    let frame = encode_frame(req).expect("a request encodes");
    let mut src = BytesMut::from(&frame[..]);
    let mut codec = FrameCodec::new(MAX_SERVER_FRAME);
    let Ok(Some(Decoded::Frame(body))) = codec.decode(&mut src) else {
        panic!("an encoded request is not one frame");
    };
    assert!(src.is_empty(), "bytes left after an encoded request");
    assert_eq!(
        decode_request(&body).as_ref(),
        Ok(req),
        "re-encoded request"
    );
}

/// The `error` frame the server sends for an undecodable request.
fn check_reply(reply: ErrorReply) {
    assert!(!reply.message.is_empty());
    assert_eq!(reply.attempts_left, None);
    assert_eq!(reply.retry_after_ms, None);
    let msg = ServerMessage::Error(reply);
    let frame = encode_frame(&msg).expect("an error reply encodes");
    assert!(frame.len() - HEADER_LEN <= MAX_SERVER_FRAME);
    let back: ServerMessage =
        serde_json::from_slice(&frame[HEADER_LEN..]).expect("a client reads the error back");
    assert_eq!(back, msg);
}

/// The pure checks each request's handler applies to its fields.
fn dispatch(req: &Request) {
    match &req.body {
        ClientMessage::Register(m) => {
            user_name(&m.name);
            let _ = validate_password(&m.password);
        }
        ClientMessage::Login(m) => lookup(&m.name),
        ClientMessage::Say(m) => message(&m.id, &m.text),
        ClientMessage::Send(m) => {
            message(&m.id, &m.text);
            target(&m.to);
        }
        ClientMessage::History(m) => {
            target(&m.to);
            if let Some(from) = &m.from {
                lookup(from);
            }
        }
        ClientMessage::UploadBegin(m) => {
            file_name(&m.name);
            let hex = is_sha256_hex(&m.sha256);
            assert_eq!(
                hex,
                m.sha256.len() == 64
                    && m.sha256.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
            );
            if let Some(c) = &m.comment {
                text(c);
            }
        }
        ClientMessage::GroupCreate(m) => {
            user_name(&m.name);
            if let Some(c) = &m.comment {
                text(c);
            }
        }
        ClientMessage::GroupJoin(m) | ClientMessage::GroupLeave(m) => lookup(&m.group),
        ClientMessage::GroupMembers(m) => lookup(&m.group),
        ClientMessage::GroupApprove(m)
        | ClientMessage::GroupReject(m)
        | ClientMessage::GroupRemove(m) => {
            lookup(&m.group);
            lookup(&m.user);
        }
        ClientMessage::Stats(m) => {
            if let Some(n) = &m.name {
                lookup(n);
            }
        }
        ClientMessage::GameMove(m) => {
            let mut game = TicTacToe::new();
            let mark = game.turn().expect("a new game has a turn");
            assert_eq!(game.play(mark, m.cell).is_ok(), m.cell < 9);
        }
        _ => {}
    }
}

/// A name being registered (an account or a group).
fn user_name(raw: &str) {
    if let Ok(name) = validate_name(raw) {
        let chars = name.chars().count();
        assert!((1..=MAX_NAME_CHARS).contains(&chars));
        assert!(!name.chars().any(|c| c.is_whitespace() || c.is_control()));
        assert!(name_key(&name).len() <= MAX_NAME_KEY_BYTES);
        assert_eq!(name_key(&name), name_key(raw));
        assert_eq!(validate_name(&name).as_deref(), Ok(name.as_str()));
    }
}

/// A name being looked up (`login`, a target, a group).
fn lookup(raw: &str) {
    let key = name_key(raw.trim());
    assert!(
        key.len() <= raw.len() * 64 + 64,
        "a key grows without bound"
    );
}

fn target(to: &Target) {
    match to {
        Target::Room => {}
        Target::Group { group } => lookup(group),
        Target::User { user } => lookup(user),
    }
}

fn message(id: &str, body: &str) {
    let ok = validate_client_id(id);
    assert_eq!(
        ok,
        !id.is_empty() && id.len() <= 64 && !id.chars().any(char::is_control)
    );
    text(body);
}

fn text(t: &str) {
    if validate_text(t, DEFAULT_MAX_TEXT_BYTES).is_ok() {
        assert!(t.len() <= DEFAULT_MAX_TEXT_BYTES);
        assert!(!t.trim().is_empty());
        assert!(!t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
    }
}

fn file_name(name: &str) {
    if validate_file_name(name).is_ok() {
        assert!(!name.is_empty() && name.len() <= MAX_FILE_NAME_BYTES);
        assert!(!name.contains(['/', '\\']));
        assert!(name != "." && name != "..");
        assert!(!name.chars().any(char::is_control));
    }
}
