//! Framing: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
//!
//! Decoding is tokio-util's [`LengthDelimitedCodec`] with our own frame-size
//! limit checked against the length prefix *before* any buffer is reserved for
//! the body (the inner codec reserves the declared length up front, so this
//! check is what keeps a thousand idle half-frames from eating memory).
//!
//! The decoder also reports when a frame has started but not finished
//! ([`Decoded::FrameStarted`]), so the connection owner can start a deadline for
//! it without any clock in this crate.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use tokio_util::codec::{Decoder, LengthDelimitedCodec};

/// Size of the length prefix in bytes.
pub const HEADER_LEN: usize = 4;

/// What the decoder yields.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// One complete frame body (the JSON bytes, without the length prefix).
    Frame(BytesMut),
    /// The first bytes of a frame arrived but the frame is not complete yet.
    /// Yielded once per incomplete frame, so the reader can start a deadline.
    FrameStarted,
}

/// Why the byte stream can no longer be trusted. After any of these the
/// connection must be closed.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length prefix announced a frame larger than allowed.
    #[error("frame of {declared} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The length the peer announced.
        declared: u64,
        /// The configured limit.
        max: usize,
    },
    /// The underlying transport failed, or the stream ended inside a frame.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Decoder for length-prefixed JSON frames with a size limit.
#[derive(Debug)]
pub struct FrameCodec {
    inner: LengthDelimitedCodec,
    max: usize,
    in_frame: bool,
    /// The current frame's length prefix has been checked against `max` (and
    /// so consumed by `inner`). Separate from `in_frame`, which turns on as
    /// soon as the first byte arrives: a prefix split across reads is still
    /// checked once its fourth byte is there, so it is always `TooLarge`.
    head_checked: bool,
}

impl FrameCodec {
    /// A decoder that refuses frames longer than `max` bytes.
    pub fn new(max: usize) -> Self {
        let inner = LengthDelimitedCodec::builder()
            .big_endian()
            .length_field_length(HEADER_LEN)
            .max_frame_length(max)
            .new_codec();
        Self {
            inner,
            max,
            in_frame: false,
            head_checked: false,
        }
    }

    /// The frame-size limit of this decoder.
    pub fn max_frame(&self) -> usize {
        self.max
    }

    /// True while the bytes of an unfinished frame are buffered.
    pub fn in_frame(&self) -> bool {
        self.in_frame
    }
}

impl Decoder for FrameCodec {
    type Item = Decoded;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Decoded>, FrameError> {
        if !self.in_frame && src.is_empty() {
            return Ok(None);
        }
        // Checked once all four bytes are in, whether they came in one read or
        // in several (then the frame has already started).
        if !self.head_checked && src.len() >= HEADER_LEN {
            let declared = u64::from(u32::from_be_bytes([src[0], src[1], src[2], src[3]]));
            if declared > self.max as u64 {
                return Err(FrameError::TooLarge {
                    declared,
                    max: self.max,
                });
            }
            self.head_checked = true;
        }
        match self.inner.decode(src) {
            Ok(Some(frame)) => {
                self.in_frame = false;
                self.head_checked = false;
                Ok(Some(Decoded::Frame(frame)))
            }
            Ok(None) if self.in_frame => Ok(None),
            Ok(None) => {
                self.in_frame = true;
                Ok(Some(Decoded::FrameStarted))
            }
            Err(e) => Err(FrameError::Io(e)),
        }
    }
}

/// Why a message could not be encoded as a frame.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The body would be longer than [`crate::MAX_SERVER_FRAME`], the largest
    /// frame any peer must accept (PROTOCOL §2.3): nothing was written.
    #[error("a frame body over the limit of {max} bytes")]
    TooLarge {
        /// The limit that was passed.
        max: usize,
    },
    /// The message could not be serialized (never for the protocol's own types).
    #[error(transparent)]
    Json(serde_json::Error),
}

/// A writer that refuses to hold more than `max` bytes, so serializing an
/// oversized message stops as soon as it passes the limit instead of
/// building all of it first.
struct Capped<W> {
    inner: W,
    written: usize,
    max: usize,
    /// Set when a write was refused for passing `max`.
    over: bool,
}

impl<W: std::io::Write> std::io::Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written + buf.len() > self.max {
            self.over = true;
            return Err(std::io::Error::other("frame body over the limit"));
        }
        let n = self.inner.write(buf)?;
        self.written += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Append one message as a complete frame (length prefix included) to `buf`.
///
/// A body longer than [`crate::MAX_SERVER_FRAME`] is refused with
/// [`EncodeError::TooLarge`] and leaves `buf` as it was: no frame of ours is
/// ever larger than the protocol allows.
pub fn encode_frame_into<T: Serialize + ?Sized>(
    buf: &mut BytesMut,
    msg: &T,
) -> Result<(), EncodeError> {
    encode_frame_limited(buf, msg, crate::MAX_SERVER_FRAME)
}

/// [`encode_frame_into`] with another limit than the protocol's.
pub fn encode_frame_limited<T: Serialize + ?Sized>(
    buf: &mut BytesMut,
    msg: &T,
    max: usize,
) -> Result<(), EncodeError> {
    let start = buf.len();
    buf.put_u32(0);
    let mut writer = Capped {
        inner: buf.writer(),
        written: 0,
        max: max.min(u32::MAX as usize),
        over: false,
    };
    let result = serde_json::to_writer(&mut writer, msg);
    let over = writer.over;
    let buf = writer.inner.into_inner();
    if let Err(e) = result {
        buf.truncate(start);
        return Err(if over {
            EncodeError::TooLarge { max }
        } else {
            EncodeError::Json(e)
        });
    }
    // Within `max`, which is at most u32::MAX.
    let body_len = u32::try_from(buf.len() - start - HEADER_LEN).unwrap_or(u32::MAX);
    buf[start..start + HEADER_LEN].copy_from_slice(&body_len.to_be_bytes());
    Ok(())
}

/// Encode one message as a complete frame (length prefix included), refusing
/// a body over [`crate::MAX_SERVER_FRAME`] as [`encode_frame_into`] does.
///
/// The result is cheap to clone, so a broadcast is encoded once and the same
/// bytes are queued for every recipient.
pub fn encode_frame<T: Serialize + ?Sized>(msg: &T) -> Result<Bytes, EncodeError> {
    let mut buf = BytesMut::with_capacity(128);
    encode_frame_into(&mut buf, msg)?;
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn decodes_a_whole_frame_without_a_started_notice() {
        let mut codec = FrameCodec::new(64);
        let mut src = BytesMut::from(&frame(b"{}")[..]);
        assert_eq!(
            codec.decode(&mut src).unwrap(),
            Some(Decoded::Frame(BytesMut::from(&b"{}"[..])))
        );
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert!(!codec.in_frame());
    }

    #[test]
    fn partial_frame_reports_started_once_then_completes() {
        let mut codec = FrameCodec::new(64);
        let bytes = frame(b"{\"a\":1}");
        let mut src = BytesMut::from(&bytes[..3]);
        assert_eq!(codec.decode(&mut src).unwrap(), Some(Decoded::FrameStarted));
        assert!(codec.in_frame());
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        src.extend_from_slice(&bytes[3..6]);
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        src.extend_from_slice(&bytes[6..]);
        assert_eq!(
            codec.decode(&mut src).unwrap(),
            Some(Decoded::Frame(BytesMut::from(&b"{\"a\":1}"[..])))
        );
        assert!(!codec.in_frame());
    }

    #[test]
    fn oversized_prefix_is_refused_before_reserving() {
        let mut codec = FrameCodec::new(64);
        let mut src = BytesMut::from(&[0xFF, 0xFF, 0xFF, 0xFF][..]);
        match codec.decode(&mut src) {
            Err(FrameError::TooLarge { declared, max }) => {
                assert_eq!(declared, 0xFFFF_FFFF);
                assert_eq!(max, 64);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(src.capacity() < 1024, "no buffer reserved for the body");
    }

    #[test]
    fn oversized_prefix_arriving_a_byte_at_a_time_is_refused_too() {
        let mut codec = FrameCodec::new(64);
        let mut src = BytesMut::new();
        for (i, byte) in 65u32.to_be_bytes().into_iter().enumerate() {
            src.extend_from_slice(&[byte]);
            let got = codec.decode(&mut src);
            if i < 3 {
                assert!(
                    matches!(got, Ok(Some(Decoded::FrameStarted) | None)),
                    "{got:?}"
                );
            } else {
                assert!(
                    matches!(
                        got,
                        Err(FrameError::TooLarge {
                            declared: 65,
                            max: 64
                        })
                    ),
                    "{got:?}"
                );
            }
        }
    }

    #[test]
    fn a_body_starting_like_a_huge_prefix_is_not_taken_for_one() {
        // The body's first bytes are 0xFF...: once the prefix is checked they
        // are body, also when they arrive apart from it.
        let mut codec = FrameCodec::new(64);
        let bytes = frame(&[0xFF; 8]);
        let mut src = BytesMut::from(&bytes[..4]);
        assert_eq!(codec.decode(&mut src).unwrap(), Some(Decoded::FrameStarted));
        src.extend_from_slice(&bytes[4..]);
        assert_eq!(
            codec.decode(&mut src).unwrap(),
            Some(Decoded::Frame(BytesMut::from(&[0xFF; 8][..])))
        );
    }

    #[test]
    fn oversized_prefix_split_across_reads_is_still_too_large() {
        // Found by the `frames` fuzz target: the check used to run only before
        // the first byte of a frame, so a prefix arriving in two reads got
        // the inner codec's I/O error, and the client no `frame_too_large`.
        let mut codec = FrameCodec::new(64);
        let mut src = BytesMut::from(&[0x00, 0x01][..]);
        assert_eq!(codec.decode(&mut src).unwrap(), Some(Decoded::FrameStarted));
        src.extend_from_slice(&[0x00, 0x01]);
        match codec.decode(&mut src) {
            Err(FrameError::TooLarge { declared, max }) => {
                assert_eq!(declared, 0x0001_0001);
                assert_eq!(max, 64);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        // The same split for a frame within the limit still decodes, and the
        // next frame's prefix is checked again.
        let mut codec = FrameCodec::new(64);
        let mut src = BytesMut::from(&[0x00, 0x00][..]);
        assert_eq!(codec.decode(&mut src).unwrap(), Some(Decoded::FrameStarted));
        src.extend_from_slice(&[0x00, 0x02, b'{', b'}', 0x00, 0x00, 0x01]);
        assert_eq!(
            codec.decode(&mut src).unwrap(),
            Some(Decoded::Frame(BytesMut::from(&b"{}"[..])))
        );
        assert_eq!(codec.decode(&mut src).unwrap(), Some(Decoded::FrameStarted));
        src.extend_from_slice(&[0x00]);
        assert!(matches!(
            codec.decode(&mut src),
            Err(FrameError::TooLarge {
                declared: 256,
                max: 64
            })
        ));
    }

    #[test]
    fn max_is_accepted_and_max_plus_one_refused() {
        let mut codec = FrameCodec::new(8);
        let mut ok = BytesMut::from(&frame(&[b'x'; 8])[..]);
        assert!(matches!(codec.decode(&mut ok), Ok(Some(Decoded::Frame(f))) if f.len() == 8));
        let mut bad = BytesMut::from(&frame(&[b'x'; 9])[..]);
        assert!(matches!(
            codec.decode(&mut bad),
            Err(FrameError::TooLarge { declared: 9, .. })
        ));
    }

    #[test]
    fn zero_length_frame_is_an_empty_frame() {
        let mut codec = FrameCodec::new(8);
        let mut src = BytesMut::from(&[0, 0, 0, 0][..]);
        assert_eq!(
            codec.decode(&mut src).unwrap(),
            Some(Decoded::Frame(BytesMut::new()))
        );
    }

    #[test]
    fn every_split_point_yields_the_same_frames() {
        let mut stream = frame(b"{\"type\":\"ping\",\"seq\":1}");
        stream.extend(frame(b"{}"));
        stream.extend(frame(b"[1,2,3]"));
        for split in 0..=stream.len() {
            let mut codec = FrameCodec::new(1024);
            let mut src = BytesMut::new();
            let mut frames = Vec::new();
            for chunk in [&stream[..split], &stream[split..]] {
                src.extend_from_slice(chunk);
                while let Some(d) = codec.decode(&mut src).unwrap() {
                    if let Decoded::Frame(f) = d {
                        frames.push(f.to_vec());
                    }
                }
            }
            assert_eq!(
                frames,
                vec![
                    b"{\"type\":\"ping\",\"seq\":1}".to_vec(),
                    b"{}".to_vec(),
                    b"[1,2,3]".to_vec()
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn encode_frame_prefixes_the_json_length() {
        let bytes = encode_frame(&serde_json::json!({"type": "pong"})).unwrap();
        let body = br#"{"type":"pong"}"#;
        assert_eq!(&bytes[..4], &(body.len() as u32).to_be_bytes());
        assert_eq!(&bytes[4..], body);
    }

    #[test]
    fn a_body_over_the_server_frame_limit_is_refused() {
        // A JSON string of n characters is a body of n + 2 bytes.
        let at_limit = "x".repeat(crate::MAX_SERVER_FRAME - 2);
        let frame = encode_frame(&at_limit).unwrap();
        assert_eq!(frame.len(), HEADER_LEN + crate::MAX_SERVER_FRAME);
        let over = "x".repeat(crate::MAX_SERVER_FRAME - 1);
        let mut buf = BytesMut::from(&b"xy"[..]);
        assert!(matches!(
            encode_frame_into(&mut buf, &over),
            Err(EncodeError::TooLarge { max }) if max == crate::MAX_SERVER_FRAME
        ));
        assert_eq!(&buf[..], b"xy", "nothing of the refused frame is left");
        assert!(matches!(
            encode_frame(&over),
            Err(EncodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_smaller_limit_refuses_one_byte_more() {
        let mut buf = BytesMut::new();
        encode_frame_limited(&mut buf, "abcdef", 8).unwrap();
        assert_eq!(&buf[..], b"\0\0\0\x08\"abcdef\"");
        let mut buf = BytesMut::new();
        assert!(matches!(
            encode_frame_limited(&mut buf, "abcdefg", 8),
            Err(EncodeError::TooLarge { max: 8 })
        ));
        assert!(buf.is_empty());
    }

    #[test]
    fn a_message_that_cannot_be_serialized_is_a_json_error() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1);
        let mut buf = BytesMut::new();
        assert!(matches!(
            encode_frame_limited(&mut buf, &map, 64),
            Err(EncodeError::Json(_))
        ));
        assert!(buf.is_empty());
    }

    #[test]
    fn encode_into_appends_after_existing_bytes() {
        let mut buf = BytesMut::from(&b"xy"[..]);
        encode_frame_into(&mut buf, &serde_json::json!([1])).unwrap();
        assert_eq!(&buf[..], b"xy\0\0\0\x03[1]");
    }
}
