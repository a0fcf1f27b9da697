//! A data connection: a new TCP connection to the server whose first and
//! only request is `transfer` with a one-time ticket (no `hello`). The reply
//! `transfer_ready` says which way `length` raw bytes flow from `offset`.

use std::time::Duration;

use chatroom_shared::message::{
    ClientMessage, Direction, Request, ServerMessage, Transfer, TransferReady,
};
use chatroom_shared::{FrameCodec, MAX_SERVER_FRAME};
use tokio::io::AsyncWriteExt as _;
use tokio_util::codec::FramedRead;
use tracing::debug;

use super::TransferError;
use crate::net::connection::{Frames, read_message};
use crate::net::dial::{Transport, WriteHalf};

/// How long connecting and the `transfer_ready` reply may take.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The `seq` of the one request on a data connection.
pub(crate) const TRANSFER_SEQ: u32 = 1;

/// An open data connection after `transfer_ready`.
#[derive(Debug)]
pub(crate) struct DataConn {
    /// The reading side; bytes it has buffered after the reply belong to the
    /// file (see `FramedRead::into_parts`).
    pub(crate) frames: Frames,
    /// The writing side.
    pub(crate) writer: WriteHalf,
    /// The server's `transfer_ready`.
    pub(crate) ready: TransferReady,
}

/// Connect to `server`, present `ticket`, and wait for `transfer_ready` in
/// the expected direction.
pub(crate) async fn open(
    server: &str,
    transport: &Transport,
    ticket: &str,
    direction: Direction,
) -> Result<DataConn, TransferError> {
    let dialed = transport.dial(server, READY_TIMEOUT).await.map_err(|e| {
        TransferError::Broken(format!("cannot open a data connection to {server}: {e}"))
    })?;
    let (read, mut writer) = tokio::io::split(dialed.stream);
    let mut frames = FramedRead::new(read, FrameCodec::new(MAX_SERVER_FRAME));
    let request = Request {
        seq: TRANSFER_SEQ,
        body: ClientMessage::Transfer(Transfer {
            ticket: ticket.to_owned(),
        }),
    };
    let frame = chatroom_shared::encode_frame(&request)
        .map_err(|e| TransferError::Broken(format!("cannot encode the request: {e}")))?;
    writer
        .write_all(&frame)
        .await
        .map_err(TransferError::io("sending the ticket failed"))?;
    let reply = tokio::time::timeout(READY_TIMEOUT, read_message(&mut frames))
        .await
        .map_err(|_| TransferError::Broken("the server did not answer the ticket in time".into()))?
        .map_err(|e| TransferError::Broken(format!("reading the ticket's answer failed: {e}")))?;
    match reply {
        Some(ServerMessage::TransferReady(ready)) if ready.direction == direction => {
            debug!(
                offset = ready.offset,
                length = ready.length,
                "data connection ready"
            );
            Ok(DataConn {
                frames,
                writer,
                ready,
            })
        }
        Some(ServerMessage::TransferReady(ready)) => Err(TransferError::Broken(format!(
            "the server offered a transfer the other way ({:?})",
            ready.direction
        ))),
        Some(ServerMessage::Error(e)) => Err(TransferError::Refused(e)),
        Some(other) => Err(TransferError::Broken(format!(
            "unexpected answer to the ticket: {}",
            format!("{other:?}").chars().take(120).collect::<String>()
        ))),
        None => Err(TransferError::Broken(
            "the server closed the data connection".into(),
        )),
    }
}

/// Read one frame after an upload's bytes: `transfer_done` or an error.
pub(crate) async fn finish_upload(
    frames: &mut Frames,
) -> Result<chatroom_shared::message::TransferDone, TransferError> {
    match read_message(frames).await {
        Ok(Some(ServerMessage::TransferDone(done))) => Ok(done),
        Ok(Some(ServerMessage::Error(e))) => Err(TransferError::Refused(e)),
        Ok(Some(other)) => Err(TransferError::Broken(format!(
            "unexpected answer after the upload: {}",
            format!("{other:?}").chars().take(120).collect::<String>()
        ))),
        Ok(None) => Err(TransferError::Broken(
            "the server closed the connection before confirming the upload".into(),
        )),
        Err(e) => Err(TransferError::Broken(format!(
            "reading the upload's confirmation failed: {e}"
        ))),
    }
}
