//! The chatroom wire protocol, with no IO of its own.
//!
//! Both the server and every client speak through the types in this crate, so
//! the protocol lives in exactly one place:
//!
//! - [`codec`]: framing (a 4-byte big-endian length, then one UTF-8 JSON
//!   object), the frame-size limit, and encoding a message once into shareable
//!   bytes.
//! - [`message`]: every request a client sends ([`message::ClientMessage`])
//!   and every reply and event the server sends ([`message::ServerMessage`]).
//! - [`error`]: the stable machine-readable error codes.
//! - [`fingerprint`]: how both sides write a TLS certificate's fingerprint.
//! - [`rules`]: pure validation rules shared by both sides (user names,
//!   passwords, chat text, client message ids), so a client can check input
//!   before sending it and the server enforces the very same rules.
//! - [`tictactoe`]: the game's rules, decided by the server and drawn by the
//!   client with the same code.
//!
//! `docs/PROTOCOL.md` at the root of the repository is the human description of
//! everything here; the golden-JSON tests in `message` keep the two in step.

pub mod codec;
pub mod error;
pub mod fingerprint;
pub mod message;
pub mod rules;
pub mod tictactoe;

pub use codec::{
    Decoded, EncodeError, FrameCodec, FrameError, encode_frame, encode_frame_into,
    encode_frame_limited,
};
pub use error::ErrorCode;
pub use fingerprint::fingerprint;
pub use message::{ClientMessage, Request, ServerMessage};

/// The protocol version this crate speaks. A client sends it in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;
/// The oldest protocol version a server built from this crate accepts.
pub const MIN_PROTOCOL_VERSION: u32 = 1;
/// The newest protocol version a server built from this crate accepts.
pub const MAX_PROTOCOL_VERSION: u32 = 1;
/// The TCP port a server listens on unless configured otherwise (from the TWTTALK seed).
pub const DEFAULT_PORT: u16 = 44302;
/// Default upper bound for frames a client sends to the server (64 KiB).
pub const DEFAULT_MAX_CLIENT_FRAME: usize = 64 * 1024;
/// Upper bound for frames the server sends; clients must accept frames up to this size.
pub const MAX_SERVER_FRAME: usize = 16 * 1024 * 1024;

/// The default, and the largest, number of entries in one page of a listing
/// (`files`, `groups`, `group_members`, `games`, `users`); a request's `limit`
/// is clamped to 1 ... this (PROTOCOL §3.4).
pub const MAX_LIST_PAGE: u32 = 500;
/// A page of a listing ends before its entries pass this many bytes of JSON
/// (an entry is never split: a page holds at least one), so a page stays far
/// below [`MAX_SERVER_FRAME`] whatever the length of names and comments.
pub const MAX_LIST_PAGE_BYTES: u32 = 1024 * 1024;

/// Milliseconds since the Unix epoch (UTC): the unit of every timestamp on the wire.
pub type UnixMillis = i64;
