//! Turning a frame into a request, or into a precise error.
//!
//! This is the server's classification of every inbound frame. It lives here,
//! beside the types, rather than in the server so it has no IO or server state
//! and can be exercised on its own (the fuzz targets in `fuzz/` drive it with
//! arbitrary bytes exactly as the server does).
//!
//! The fast path parses straight into [`Request`]. Only when that fails is the
//! frame looked at again to say exactly what is wrong (not UTF-8, not JSON,
//! not an object, no `type`, an unknown `type`, a bad field) and to recover
//! its `seq` for the error reply.

use serde_json::Value;

use super::{ClientMessage, ErrorReply, Request};
use crate::ErrorCode;

/// Parse one frame body into a request, or into the `error` reply the server
/// sends for it (code `malformed`, `invalid_utf8`, `missing_type`,
/// `unknown_type` or `invalid_field`, with the frame's `seq` when readable).
pub fn decode_request(body: &[u8]) -> Result<Request, ErrorReply> {
    match serde_json::from_slice::<Request>(body) {
        Ok(req) => Ok(req),
        Err(err) => Err(diagnose(body, &err)),
    }
}

fn diagnose(body: &[u8], err: &serde_json::Error) -> ErrorReply {
    if std::str::from_utf8(body).is_err() {
        return ErrorReply::new(None, ErrorCode::InvalidUtf8, "the frame is not valid UTF-8");
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return ErrorReply::new(
                None,
                ErrorCode::Malformed,
                format!("the frame is not valid JSON: {e}"),
            );
        }
    };
    let Some(obj) = value.as_object() else {
        return ErrorReply::new(
            None,
            ErrorCode::Malformed,
            "a frame must hold one JSON object",
        );
    };
    let seq = obj
        .get("seq")
        .and_then(Value::as_u64)
        .and_then(|s| u32::try_from(s).ok());
    let Some(kind) = obj.get("type").and_then(Value::as_str) else {
        return ErrorReply::new(
            seq,
            ErrorCode::MissingType,
            "the request has no \"type\" string",
        );
    };
    if !ClientMessage::TYPE_NAMES.contains(&kind) {
        let shown: String = kind.chars().take(40).collect();
        return ErrorReply::new(
            seq,
            ErrorCode::UnknownType,
            format!(
                "unknown request type {shown:?}; known types: {}",
                ClientMessage::TYPE_NAMES.join(", ")
            ),
        );
    }
    if seq.is_none() {
        return ErrorReply::new(
            None,
            ErrorCode::InvalidField,
            "\"seq\" must be a number from 0 to 4294967295",
        );
    }
    ErrorReply::new(
        seq,
        ErrorCode::InvalidField,
        format!("invalid {kind} request: {err}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &[u8]) -> (ErrorCode, Option<u32>) {
        let e = decode_request(body).unwrap_err();
        (e.code, e.seq)
    }

    #[test]
    fn valid_request_parses() {
        let r = decode_request(br#"{"type":"ping","seq":3}"#).unwrap();
        assert_eq!(r.seq, 3);
    }

    #[test]
    fn each_kind_of_bad_frame_has_its_code() {
        assert_eq!(code(b""), (ErrorCode::Malformed, None));
        assert_eq!(code(b"{not json"), (ErrorCode::Malformed, None));
        assert_eq!(code(b"[1,2]"), (ErrorCode::Malformed, None));
        assert_eq!(code(b"\"hi\""), (ErrorCode::Malformed, None));
        assert_eq!(
            code(b"{\"type\":\"say\",\"seq\":1,\"id\":\"a\",\"text\":\"\xff\"}"),
            (ErrorCode::InvalidUtf8, None)
        );
        assert_eq!(code(br#"{"seq":4}"#), (ErrorCode::MissingType, Some(4)));
        assert_eq!(
            code(br#"{"type":7,"seq":4}"#),
            (ErrorCode::MissingType, Some(4))
        );
        assert_eq!(
            code(br#"{"type":"dance","seq":5}"#),
            (ErrorCode::UnknownType, Some(5))
        );
        assert_eq!(
            code(br#"{"type":"say","seq":6,"id":"a"}"#),
            (ErrorCode::InvalidField, Some(6))
        );
        assert_eq!(
            code(br#"{"type":"say","seq":6,"id":"a","text":1}"#),
            (ErrorCode::InvalidField, Some(6))
        );
        assert_eq!(code(br#"{"type":"ping"}"#), (ErrorCode::InvalidField, None));
        assert_eq!(
            code(br#"{"type":"ping","seq":"1"}"#),
            (ErrorCode::InvalidField, None)
        );
        assert_eq!(
            code(br#"{"type":"ping","seq":4294967296}"#),
            (ErrorCode::InvalidField, None)
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(code(deep.as_bytes()).0, ErrorCode::Malformed);
        let deep_obj = format!(
            "{{\"type\":\"ping\",\"seq\":1,\"x\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(code(deep_obj.as_bytes()).0, ErrorCode::Malformed);
    }
}
