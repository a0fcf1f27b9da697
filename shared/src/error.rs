//! Stable, machine-readable error codes.
//!
//! Every `error` frame carries one of these (serialized in snake_case) plus a
//! human-readable message. Codes are part of the protocol: clients branch on
//! them, so a code is never renamed or reused for another meaning.

use serde::{Deserialize, Serialize};

/// Why a request failed, or why the server is closing the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::VariantArray))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not a JSON object (not JSON at all, or an array, number, ...).
    Malformed,
    /// The frame holds bytes that are not valid UTF-8.
    InvalidUtf8,
    /// The `type` field is missing or not a string.
    MissingType,
    /// The `type` names no request this server knows.
    UnknownType,
    /// A field is missing, has the wrong JSON type, or `seq` is missing.
    InvalidField,
    /// The length prefix exceeds the maximum frame size; the connection closes.
    FrameTooLarge,
    /// A frame started but did not finish in time; the connection closes.
    FrameTimeout,
    /// The client's protocol version is outside the server's range.
    VersionUnsupported,
    /// The server refuses connections from this address for now.
    AddressRefused,
    /// The first request must be `hello`.
    HelloRequired,
    /// `hello` was already sent on this connection.
    AlreadyHello,
    /// The request needs a logged-in session.
    LoginRequired,
    /// `register`, `login` or `resume` on a connection that is already logged in.
    AlreadyLoggedIn,
    /// Hello and login did not finish within the deadline; the connection closes.
    AuthTimeout,
    /// The user name breaks the name rules.
    InvalidName,
    /// The name (or one that looks the same, ignoring case) is taken.
    NameTaken,
    /// The password breaks the password rules (too short or too long).
    InvalidPassword,
    /// No account has this name.
    UserNotFound,
    /// The password is wrong; `attempts_left` says how many tries remain.
    WrongPassword,
    /// Too many failed logins from this address: `login` and `resume` are
    /// refused without checking until `retry_after_ms` has passed. (The last
    /// wrong password on one connection is `wrong_password` with
    /// `attempts_left` 0, after which the connection closes.)
    TooManyAttempts,
    /// The account is disabled (banned) by an administrator.
    AccountDisabled,
    /// The resume token is unknown, expired or revoked: log in with a password.
    InvalidToken,
    /// The chat text is empty or holds control characters other than newline and tab.
    InvalidText,
    /// The chat text is longer than the server allows.
    TextTooLong,
    /// The client message id is empty, too long, or holds control characters.
    InvalidMessageId,
    /// A history request names both `before` and `after`.
    InvalidCursor,
    /// Nothing came from the client within the keepalive time; the connection closes.
    IdleTimeout,
    /// Reserved: the client did not read its messages fast enough. (Today
    /// such a connection is closed without an error frame, since its socket
    /// is full; the others see `user_left` with reason `too_slow`.)
    SlowConsumer,
    /// The server is shutting down; the connection closes.
    ShuttingDown,
    /// Reserved: the server is overloaded; retry after `retry_after_ms`.
    ServerBusy,
    /// Too many requests too fast from this connection: the request was
    /// dropped; retry after `retry_after_ms`. A client that keeps on is
    /// disconnected (the last such error says so).
    RateLimited,
    /// Something went wrong inside the server; the request had no effect.
    Internal,
    /// The file name breaks the file-name rules.
    InvalidFileName,
    /// A file of that name is already shared (or being uploaded) in the room.
    FileExists,
    /// The file is larger than the server accepts.
    FileTooLarge,
    /// The server has not enough free space for the file.
    StorageFull,
    /// The uploader's stored files plus this upload would exceed the per-user quota.
    QuotaExceeded,
    /// No shared file has that id.
    FileNotFound,
    /// The `sha256` field is not 64 lowercase hex digits.
    InvalidChecksum,
    /// The transfer ticket is unknown, used or expired.
    InvalidTicket,
    /// The uploaded bytes do not match the announced SHA-256; nothing was shared.
    ChecksumMismatch,
    /// The data connection ended before all bytes arrived (the upload can be resumed).
    TransferIncomplete,
    /// No open or running game has that id (it may have ended).
    GameNotFound,
    /// Someone else accepted the invitation first.
    GameTaken,
    /// You cannot accept your own invitation.
    OwnGame,
    /// You are already playing a game, or already have an open invitation.
    AlreadyInGame,
    /// Only the two players may move or resign.
    NotAPlayer,
    /// It is the other player's turn.
    NotYourTurn,
    /// The cell already holds a mark.
    CellTaken,
    /// The cell is not 0 to 8.
    InvalidCell,
    /// The game is not in play (still open, or already over).
    GameNotInPlay,
    /// You may not do this: read, write or list a private group you are not a member of, or act as its creator when you are not.
    Forbidden,
    /// No group has that name.
    GroupNotFound,
    /// A group of that name exists (names are never reused).
    GroupExists,
    /// You already created as many open groups as allowed.
    TooManyGroups,
    /// The group is closed: nothing can be sent to it, and its history is no longer served.
    GroupClosed,
    /// You are already a member of the group (or your request is pending).
    AlreadyMember,
    /// Too many connections from this address; the connection closes.
    TooManyConnections,
    /// The user already has as many uploads as one may have at once (tickets
    /// handed out and data connections running): wait for one to end.
    TooManyUploads,
    /// Too many new connections from this address in a short time: wait
    /// `retry_after_ms`, then connect again; the connection closes.
    ConnectionRateLimited,
    /// The server speaks TLS only and the client sent plain bytes; sent as a
    /// plain frame before the close, so a plain client can say what is wrong.
    TlsRequired,
    /// The client message id of this `say` or `send` was used before by the same
    /// account for another message (other text or another conversation): it is not
    /// a retry, so it is neither acknowledged nor stored. Send it again with a new id.
    MessageIdReused,
    /// The server cannot store messages right now (its disk is full or its
    /// database is down): this message is not stored. Send it again, with the same
    /// id, after `retry_after_ms`.
    StorageUnavailable,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        // Exhaustive table kept next to the enum so `as_str` costs no allocation;
        // a test checks it against the serde names.
        match self {
            Self::Malformed => "malformed",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::MissingType => "missing_type",
            Self::UnknownType => "unknown_type",
            Self::InvalidField => "invalid_field",
            Self::FrameTooLarge => "frame_too_large",
            Self::FrameTimeout => "frame_timeout",
            Self::VersionUnsupported => "version_unsupported",
            Self::AddressRefused => "address_refused",
            Self::HelloRequired => "hello_required",
            Self::AlreadyHello => "already_hello",
            Self::LoginRequired => "login_required",
            Self::AlreadyLoggedIn => "already_logged_in",
            Self::AuthTimeout => "auth_timeout",
            Self::InvalidName => "invalid_name",
            Self::NameTaken => "name_taken",
            Self::InvalidPassword => "invalid_password",
            Self::UserNotFound => "user_not_found",
            Self::WrongPassword => "wrong_password",
            Self::TooManyAttempts => "too_many_attempts",
            Self::AccountDisabled => "account_disabled",
            Self::InvalidToken => "invalid_token",
            Self::InvalidText => "invalid_text",
            Self::TextTooLong => "text_too_long",
            Self::InvalidMessageId => "invalid_message_id",
            Self::InvalidCursor => "invalid_cursor",
            Self::IdleTimeout => "idle_timeout",
            Self::SlowConsumer => "slow_consumer",
            Self::ShuttingDown => "shutting_down",
            Self::ServerBusy => "server_busy",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::InvalidFileName => "invalid_file_name",
            Self::FileExists => "file_exists",
            Self::FileTooLarge => "file_too_large",
            Self::StorageFull => "storage_full",
            Self::QuotaExceeded => "quota_exceeded",
            Self::FileNotFound => "file_not_found",
            Self::InvalidChecksum => "invalid_checksum",
            Self::InvalidTicket => "invalid_ticket",
            Self::ChecksumMismatch => "checksum_mismatch",
            Self::TransferIncomplete => "transfer_incomplete",
            Self::GameNotFound => "game_not_found",
            Self::GameTaken => "game_taken",
            Self::OwnGame => "own_game",
            Self::AlreadyInGame => "already_in_game",
            Self::NotAPlayer => "not_a_player",
            Self::NotYourTurn => "not_your_turn",
            Self::CellTaken => "cell_taken",
            Self::InvalidCell => "invalid_cell",
            Self::GameNotInPlay => "game_not_in_play",
            Self::Forbidden => "forbidden",
            Self::GroupNotFound => "group_not_found",
            Self::GroupExists => "group_exists",
            Self::TooManyGroups => "too_many_groups",
            Self::GroupClosed => "group_closed",
            Self::AlreadyMember => "already_member",
            Self::TooManyConnections => "too_many_connections",
            Self::TooManyUploads => "too_many_uploads",
            Self::ConnectionRateLimited => "connection_rate_limited",
            Self::TlsRequired => "tls_required",
            Self::MessageIdReused => "message_id_reused",
            Self::StorageUnavailable => "storage_unavailable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code, for table tests: the enum's own list of its variants.
    pub(crate) const ALL: &[ErrorCode] = <ErrorCode as strum::VariantArray>::VARIANTS;

    #[test]
    fn as_str_matches_the_wire_name() {
        for code in ALL {
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(wire, serde_json::Value::String(code.as_str().to_owned()));
            let back: ErrorCode = serde_json::from_value(wire).unwrap();
            assert_eq!(back, *code);
        }
    }

    /// Clients are written from docs/PROTOCOL.md alone: its table of codes
    /// (§8) has a row for every code the server can send.
    #[test]
    fn every_code_has_a_row_in_protocol_md() {
        const DOC: &str = include_str!("../../docs/PROTOCOL.md");
        let missing: Vec<&str> = ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|name| !DOC.contains(&format!("\n| `{name}` |")))
            .collect();
        assert!(missing.is_empty(), "no row in PROTOCOL.md for {missing:?}");
    }

    #[test]
    fn every_code_has_a_wire_name_of_its_own() {
        let names: std::collections::HashSet<&str> = ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ALL.len());
    }
}
