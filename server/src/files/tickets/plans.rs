//! What a ticket allows: the plans `upload_begin` and `download_begin` check
//! and a data connection carries out, what redeeming a ticket grants, and the
//! plan as it crosses to another node of a cluster.

use chatroom_shared::message::FileInfo;

use super::Reservation;

/// What a checked `upload_begin` allows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UploadPlan {
    /// Uploader's account id.
    pub uid: i64,
    /// Uploader's name, for the shared file.
    pub uploader: String,
    /// The file's name.
    pub name: String,
    /// Total size in bytes.
    pub size: u64,
    /// Announced SHA-256 (lowercase hex).
    pub sha256: String,
    /// Uploader's comment.
    pub comment: Option<String>,
    /// Partial-upload key (see [`crate::files::store::partial_key`]).
    pub key: String,
    /// Bytes already stored in the partial upload; the client sends the rest.
    pub offset: u64,
}

/// What a checked `download_begin` allows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DownloadPlan {
    /// The file as listed.
    pub file: FileInfo,
    /// Where its content is stored.
    pub storage_key: String,
    /// First byte to send.
    pub offset: u64,
}

/// What a redeemed ticket lets a data connection do.
#[derive(Debug)]
pub enum Grant {
    /// Receive an upload; the name stays reserved while `reservation` lives.
    Upload(UploadPlan, Reservation),
    /// Send a file.
    Download(DownloadPlan),
}

/// A redeemed ticket's plan, handed to another node of a cluster that got the
/// data connection (see [`Tickets::hand_over`](super::Tickets::hand_over) and
/// [`Tickets::adopt`](super::Tickets::adopt)).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Plan {
    /// Receive an upload.
    Upload(UploadPlan),
    /// Send a file.
    Download(DownloadPlan),
}
