//! Shared files: the messages of the file-transfer protocol.
//!
//! Metadata goes over the control connection (`files`, `upload_begin`,
//! `download_begin`, and the `file_shared` event). The bytes go over a
//! separate data connection to the same port, opened with a one-time ticket
//! (`transfer`), so a transfer never delays anybody's chat.

use serde::{Deserialize, Serialize};

use crate::UnixMillis;

/// A shared file as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Stable id (the `file_put_record` row).
    pub id: i64,
    /// The file's name (see [`crate::rules::file_name`]).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub sha256: String,
    /// Who shared it.
    pub uploader: String,
    /// The uploader's comment, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When it was shared.
    pub ts: UnixMillis,
}

/// `files`: one page of the shared files, oldest (lowest id) first.
///
/// Without `after`, the first page; with it, the files after that id. A client
/// of the time before paging sends neither field and gets the first page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Files {
    /// Only files with a larger id: the `next` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// Page size; absent means `limits.max_list_page`, and it is clamped to
    /// 1 ... `max_list_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `upload_begin`: ask to share a file. The server checks the name, the size
/// and the free space before any byte moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadBegin {
    /// The file's base name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of the whole content, 64 lowercase hex digits; checked at the end.
    pub sha256: String,
    /// A comment shown with the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `download_begin`: ask to download a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadBegin {
    /// The file's id.
    pub file_id: i64,
    /// Start at this byte (to resume an interrupted download).
    #[serde(default)]
    pub offset: u64,
}

/// `transfer`: the first and only request on a data connection (instead of
/// `hello`): the ticket from `upload_ready` or `download_ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// The one-time ticket.
    pub ticket: String,
}

/// Reply to `files`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileList {
    /// The request's `seq`.
    pub seq: u32,
    /// The page's files, oldest (lowest id) first.
    pub files: Vec<FileInfo>,
    /// More files follow: ask again with `after` = `next`. (Absent from
    /// servers of the time before paging, which sent every file at once.)
    #[serde(default)]
    pub has_more: bool,
    /// With `has_more`: the cursor for the next page (the last file's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// Reply to `upload_begin`: open a data connection with the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadReady {
    /// The request's `seq`.
    pub seq: u32,
    /// One-time ticket for `transfer`.
    pub ticket: String,
    /// Send the content from this byte on (non-zero when resuming).
    pub offset: u64,
    /// The ticket is void after this time.
    pub expires: UnixMillis,
}

/// Reply to `download_begin`: open a data connection with the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadReady {
    /// The request's `seq`.
    pub seq: u32,
    /// The file.
    pub file: FileInfo,
    /// One-time ticket for `transfer`.
    pub ticket: String,
    /// The content will start at this byte.
    pub offset: u64,
    /// The ticket is void after this time.
    pub expires: UnixMillis,
}

/// Which way the bytes flow on a data connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Client to server.
    Upload,
    /// Server to client.
    Download,
}

/// Reply to `transfer`: raw bytes follow on this connection, `length` of them,
/// from the client (upload) or from the server (download).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferReady {
    /// The request's `seq`.
    pub seq: u32,
    /// Which way.
    pub direction: Direction,
    /// The first byte's position in the file.
    pub offset: u64,
    /// How many raw bytes follow.
    pub length: u64,
}

/// After an upload's bytes: the file is stored and shared. Carries the
/// `transfer` request's `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferDone {
    /// The `transfer` request's `seq`.
    pub seq: u32,
    /// The shared file.
    pub file: FileInfo,
}

/// Event: someone shared a file ("[name] shared X (12.3 MiB)").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileShared {
    /// The file.
    pub file: FileInfo,
}

/// "12.3 MiB": a size for people.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(12_897_484), "12.3 MiB");
        assert_eq!(human_size(1 << 30), "1.0 GiB");
    }
}
