//! `hello_ok.limits`: every limit the server enforces that a client must
//! respect, so a client can keep within them up front instead of learning
//! them from refusals. Fields added after the first version are
//! `#[serde(default)]`: from an older server they read as 0, "not stated".

use serde::{Deserialize, Serialize};

/// Limits the server enforces, so clients can respect them up front.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest frame body (bytes) the server accepts from a client.
    pub max_frame_bytes: u32,
    /// Largest chat text in bytes (UTF-8).
    pub max_text_bytes: u32,
    /// Largest `history` page.
    pub max_history_page: u32,
    /// A connection that sends nothing for this long (milliseconds) is closed.
    pub idle_timeout_ms: u64,
    /// Send a `ping` when nothing else was sent for this long (milliseconds).
    pub ping_interval_ms: u64,
    /// Hello plus login must finish within this time after connecting (milliseconds).
    pub auth_timeout_ms: u64,
    /// A started frame must be complete within this time (milliseconds).
    pub frame_timeout_ms: u64,
    /// Wrong passwords allowed on one connection before it closes.
    pub max_login_attempts: u32,
    /// Uploads one user may have at once (tickets handed out plus data connections
    /// receiving); one more `upload_begin` is `too_many_uploads`. 0: no limit, as
    /// from a server older than this field.
    #[serde(default)]
    pub max_uploads_per_user: u32,
    /// Largest page of a listing (`files`, `groups`, `group_members`, `games`,
    /// `users`), and its size when a request names none. (Absent from servers
    /// of the time before paging: then the default.)
    #[serde(default = "default_max_list_page")]
    pub max_list_page: u32,
    /// A page of a listing ends before its entries pass this many bytes of JSON.
    #[serde(default = "default_max_list_page_bytes")]
    pub max_list_page_bytes: u32,
    /// Requests a second one connection may send on average (`--request-rate`);
    /// more are refused with `rate_limited`. 0: no limit (or an older server).
    #[serde(default)]
    pub request_rate: u32,
    /// Requests one connection may send at once after a quiet spell
    /// (`--request-burst`).
    #[serde(default)]
    pub request_burst: u32,
    /// `rate_limited` refusals in a row after which the connection closes.
    #[serde(default)]
    pub rate_limit_strikes: u32,
    /// Connections one address may hold at once; 0: no limit (or an older server).
    #[serde(default)]
    pub max_connections_per_address: u32,
    /// Connections one address may open a second on average; 0: no limit.
    #[serde(default)]
    pub connection_rate_per_address: u32,
    /// Connections one address may open at once after a quiet spell.
    #[serde(default)]
    pub connection_burst_per_address: u32,
    /// Items (replies, batches of events) the server queues for a client that
    /// does not read; one more and the client is dropped as too slow.
    #[serde(default)]
    pub outbound_queue: u32,
    /// Bytes the server queues for a client that does not read.
    #[serde(default)]
    pub outbound_bytes: u64,
    /// A client that does not take the server's bytes for this long is dropped.
    #[serde(default)]
    pub write_timeout_ms: u64,
    /// Every request is answered within this (stored or not, done or
    /// `internal`); a client may give up waiting after it. 0: not stated.
    #[serde(default)]
    pub request_timeout_ms: u64,
    /// Open groups one user may have created (`too_many_groups`).
    #[serde(default)]
    pub max_groups_per_user: u32,
    /// Words in a `search` or `history.text`; more is `invalid_field`.
    #[serde(default)]
    pub max_search_words: u32,
    /// Characters in one such word; longer is `invalid_field`.
    #[serde(default)]
    pub max_search_word_chars: u32,
    /// Missed messages delivered at login; older unread ones stay in the history.
    #[serde(default)]
    pub max_offline_delivery: u64,
    /// Largest shared file in bytes (`file_too_large`).
    #[serde(default)]
    pub max_file_size: u64,
    /// Bytes of shared files one user may have (`quota_exceeded`); 0: no limit.
    #[serde(default)]
    pub max_files_bytes_per_user: u64,
    /// A transfer ticket is void this long after it was handed out.
    #[serde(default)]
    pub transfer_ticket_ttl_ms: u64,
    /// A data connection that moves no byte for this long is closed.
    #[serde(default)]
    pub transfer_idle_timeout_ms: u64,
    /// A game invitation nobody accepts ends after this.
    #[serde(default)]
    pub game_invite_ttl_ms: u64,
    /// A player who does not move within this loses the game.
    #[serde(default)]
    pub game_move_timeout_ms: u64,
    /// A player who left a game in play may come back within this; then they forfeit.
    #[serde(default)]
    pub game_reconnect_grace_ms: u64,
}

fn default_max_list_page() -> u32 {
    crate::MAX_LIST_PAGE
}

fn default_max_list_page_bytes() -> u32 {
    crate::MAX_LIST_PAGE_BYTES
}

impl Default for Limits {
    /// The limits of a server run with its default settings.
    fn default() -> Self {
        Self {
            max_frame_bytes: crate::DEFAULT_MAX_CLIENT_FRAME as u32,
            max_text_bytes: crate::rules::text::DEFAULT_MAX_TEXT_BYTES as u32,
            max_history_page: 200,
            idle_timeout_ms: 60_000,
            ping_interval_ms: 20_000,
            auth_timeout_ms: 20_000,
            frame_timeout_ms: 10_000,
            max_login_attempts: 3,
            max_uploads_per_user: 4,
            max_list_page: crate::MAX_LIST_PAGE,
            max_list_page_bytes: crate::MAX_LIST_PAGE_BYTES,
            request_rate: 20,
            request_burst: 100,
            rate_limit_strikes: 20,
            max_connections_per_address: 32,
            connection_rate_per_address: 20,
            connection_burst_per_address: 200,
            outbound_queue: 1024,
            outbound_bytes: 8 * 1024 * 1024,
            write_timeout_ms: 10_000,
            request_timeout_ms: 11_000,
            max_groups_per_user: 5,
            max_search_words: crate::rules::search::MAX_SEARCH_WORDS as u32,
            max_search_word_chars: crate::rules::search::MAX_SEARCH_WORD_CHARS as u32,
            max_offline_delivery: 10_000,
            max_file_size: 1 << 30,
            max_files_bytes_per_user: 10 << 30,
            transfer_ticket_ttl_ms: 60_000,
            transfer_idle_timeout_ms: 30_000,
            game_invite_ttl_ms: 300_000,
            game_move_timeout_ms: 60_000,
            game_reconnect_grace_ms: 30_000,
        }
    }
}
