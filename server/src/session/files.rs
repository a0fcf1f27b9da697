//! Shared files on the control connection: `upload_begin`, `download_begin`, and
//! `transfer`, which turns a fresh connection into a data connection (the listing,
//! `files`, is paged in `lists.rs`).
//!
//! Every check happens here, before any byte moves; what passed is written into a
//! one-time ticket (see `crate::files::tickets`) that the data connection redeems.

use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    DownloadBegin, DownloadReady, ServerMessage, Transfer, UploadBegin, UploadReady,
};
use chatroom_shared::rules::file_name::{is_sha256_hex, validate_file_name};
use chatroom_shared::rules::{TextError, validate_text};
use tracing::info;

use super::{Flow, Phase, Reject, Session};
use crate::db::files;
use crate::files::store::partial_key;
use crate::files::tickets::{DownloadPlan, TicketError, UploadPlan};
use crate::files::to_info;
use crate::time::now_ms;

fn ticket_error(e: TicketError) -> Reject {
    match e {
        TicketError::NameBusy => Reject::new(
            ErrorCode::FileExists,
            "a file of this name is being uploaded right now",
        ),
        TicketError::Full => Reject::new(
            ErrorCode::ServerBusy,
            "too many transfers are being prepared; try again soon",
        ),
        TicketError::TooManyUploads(max) => Reject::new(
            ErrorCode::TooManyUploads,
            format!(
                "you have {max} uploads running or waiting for their data connection, \
                 the most one may have at once; wait for one to finish"
            ),
        ),
    }
}

fn expires(ttl: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

impl Session {
    /// `upload_begin`: check name, checksum, comment, size and space, reserve the name,
    /// and hand out a ticket (with the resume offset if a partial upload exists).
    pub(super) async fn upload_begin(&mut self, seq: u32, m: UploadBegin) -> Result<Flow, Reject> {
        let l = self.require_login()?;
        let (uid, uploader) = (l.uid, l.name.clone());
        let config = &self.ctx.config;
        validate_file_name(&m.name)
            .map_err(|e| Reject::new(ErrorCode::InvalidFileName, e.to_string()))?;
        if !is_sha256_hex(&m.sha256) {
            return Err(Reject::new(
                ErrorCode::InvalidChecksum,
                "sha256 must be 64 lowercase hex digits",
            ));
        }
        let comment = m.comment.filter(|c| !c.is_empty());
        if let Some(c) = &comment {
            validate_text(c, config.max_message_len).map_err(|e| match e {
                TextError::TooLong { .. } => Reject::new(ErrorCode::TextTooLong, e.to_string()),
                _ => Reject::new(ErrorCode::InvalidText, e.to_string()),
            })?;
        }
        if m.size > config.max_file_size {
            return Err(Reject::new(
                ErrorCode::FileTooLarge,
                format!(
                    "the file has {} bytes; this server accepts at most {}",
                    m.size, config.max_file_size
                ),
            ));
        }
        let key = partial_key(uid, &m.name, m.size, &m.sha256);
        let fs = &self.ctx.files;
        // Reserve first, then look in the database: an upload finishing meanwhile
        // records its name before it releases its reservation, so we see it.
        let reservation = fs
            .tickets
            .reserve(&m.name, uid, &key, m.size)
            .map_err(ticket_error)?;
        if files::name_exists(&self.ctx.db, &m.name).await? {
            return Err(Reject::new(
                ErrorCode::FileExists,
                format!("a file named {:?} is already shared", m.name),
            ));
        }
        if config.max_files_bytes_per_user > 0 {
            // Uploads in progress first, then the records: one finishing meanwhile is
            // recorded before it lets go of its reservation, so it is counted at least
            // once (perhaps twice, which only errs on the safe side).
            let running = fs.tickets.in_progress_of(uid, &reservation);
            let stored = files::stored_bytes_of(&self.ctx.db, uid).await?;
            let used = stored.saturating_add(running);
            let quota = config.max_files_bytes_per_user;
            if used.saturating_add(m.size) > quota {
                return Err(Reject::new(
                    ErrorCode::QuotaExceeded,
                    format!(
                        "you have {used} bytes of files stored or being uploaded; with \
                         {} more you would pass your quota of {quota}",
                        m.size
                    ),
                ));
            }
        }
        let mut offset = fs
            .store
            .partial_len(&key)
            .await
            .map_err(|e| Reject::internal("reading the partial upload", &e))?;
        if offset > m.size {
            offset = 0;
        }
        let available = fs
            .store
            .available_space()
            .map_err(|e| Reject::internal("checking the free space", &e))?;
        let usable = available
            .saturating_sub(config.min_free_space)
            .saturating_sub(fs.tickets.claimed_by_others(&reservation));
        if m.size - offset > usable {
            return Err(Reject::new(
                ErrorCode::StorageFull,
                format!(
                    "the server has room for {usable} more bytes, not {}",
                    m.size - offset
                ),
            ));
        }
        let plan = UploadPlan {
            uid,
            uploader: uploader.to_string(),
            name: m.name,
            size: m.size,
            sha256: m.sha256,
            comment,
            key,
            offset,
        };
        let (ticket, _) = fs
            .tickets
            .issue_upload(reservation, plan)
            .map_err(ticket_error)?;
        self.queue(&ServerMessage::UploadReady(UploadReady {
            seq,
            ticket,
            offset,
            expires: expires(fs.tickets.ttl()),
        }));
        Ok(Flow::Continue)
    }

    /// `download_begin`: find the file, check the offset, hand out a ticket.
    pub(super) async fn download_begin(
        &mut self,
        seq: u32,
        m: DownloadBegin,
    ) -> Result<Flow, Reject> {
        self.require_login()?;
        let Some(stored) = files::find_by_id(&self.ctx.db, m.file_id).await? else {
            return Err(Reject::new(
                ErrorCode::FileNotFound,
                format!("no shared file has id {}", m.file_id),
            ));
        };
        if m.offset > stored.size {
            return Err(Reject::new(
                ErrorCode::InvalidField,
                format!(
                    "offset {} is past the end of the file ({} bytes)",
                    m.offset, stored.size
                ),
            ));
        }
        let file = to_info(&stored);
        let plan = DownloadPlan {
            file: file.clone(),
            storage_key: stored.storage_key,
            offset: m.offset,
        };
        let tickets = &self.ctx.files.tickets;
        let (ticket, _) = tickets.issue_download(plan).map_err(ticket_error)?;
        self.queue(&ServerMessage::DownloadReady(DownloadReady {
            seq,
            file,
            ticket,
            offset: m.offset,
            expires: expires(tickets.ttl()),
        }));
        Ok(Flow::Continue)
    }

    /// `transfer`: only as the first request of a connection. A valid ticket makes this
    /// a data connection (served once the request loop ends); any other closes it. In
    /// a cluster, a ticket another node issued is claimed from it.
    pub(super) async fn transfer(&mut self, seq: u32, m: Transfer) -> Result<Flow, Reject> {
        if !matches!(self.phase, Phase::Connected) {
            return Err(Reject::new(
                ErrorCode::AlreadyHello,
                "transfer must be the first request on a new connection",
            ));
        }
        let tickets = &self.ctx.files.tickets;
        let mut grant = tickets.redeem(&m.ticket);
        if grant.is_none()
            && let Some(claims) = &self.ctx.ticket_claims
            && let Some(plan) = claims.claim(&m.ticket).await
        {
            match tickets.adopt(plan) {
                Ok(g) => grant = Some(g),
                Err(e) => return Err(ticket_error(e).closing()),
            }
        }
        let Some(grant) = grant else {
            return Err(Reject::new(
                ErrorCode::InvalidTicket,
                "the ticket is unknown, used or expired; ask again; closing",
            )
            .closing());
        };
        info!("data connection");
        self.data = Some((seq, grant));
        Ok(Flow::End(None))
    }
}
