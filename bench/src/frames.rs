//! Cheap reading of the server's frames for load generators.
//!
//! A receiver in `fanout` sees hundreds of thousands of frames a second; parsing
//! each with serde would make the benchmark, not the server, the bottleneck.
//! These functions cut frames by their length prefix in place and look only at
//! the few bytes they need: the send timestamp at the end of a benchmark
//! `message` event (`…,"text":"t<micros>"}`) and the `seq` of a `say_ok`.

/// Size of the length prefix.
const HEADER: usize = 4;

/// What a frame is, as far as a load generator cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `message` event whose text is a benchmark timestamp (microseconds
    /// since the run's base instant).
    Stamped(u64),
    /// `say_ok` for this request `seq`.
    SayOk(u32),
    /// An `error` reply or event: worth a full parse.
    Error,
    /// A `user_left` event: worth a full parse (was someone dropped as too slow?).
    UserLeft,
    /// Anything else (presence events, other replies, others' messages).
    Other,
}

/// The complete frames at the start of `buf`: calls `each` with every body and
/// returns how many bytes they took (the caller drops them from its buffer).
/// Stops at the first incomplete frame; a frame larger than `max` is an error.
pub fn split(buf: &[u8], max: usize, mut each: impl FnMut(&[u8])) -> Result<usize, usize> {
    let mut at = 0;
    while buf.len() - at >= HEADER {
        let len = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
        if len > max {
            return Err(len);
        }
        if buf.len() - at - HEADER < len {
            break;
        }
        each(&buf[at + HEADER..at + HEADER + len]);
        at += HEADER + len;
    }
    Ok(at)
}

/// Classify one frame body by looking at a few bytes.
pub fn classify(body: &[u8]) -> Kind {
    const MESSAGE: &[u8] = br#"{"type":"message","#;
    const SAY_OK: &[u8] = br#"{"type":"say_ok","seq":"#;
    const ERROR: &[u8] = br#"{"type":"error""#;
    const USER_LEFT: &[u8] = br#"{"type":"user_left","#;
    if body.starts_with(MESSAGE) {
        stamp(body).map_or(Kind::Other, Kind::Stamped)
    } else if let Some(rest) = body.strip_prefix(SAY_OK) {
        leading_number(rest)
            .and_then(|n| u32::try_from(n).ok())
            .map_or(Kind::Other, Kind::SayOk)
    } else if body.starts_with(ERROR) {
        Kind::Error
    } else if body.starts_with(USER_LEFT) {
        Kind::UserLeft
    } else {
        Kind::Other
    }
}

/// The timestamp of a benchmark message event. The main room's events end with
/// the text (`"text":"t123"}`), so this reads backwards from the end; any other
/// layout falls back to a search for the text field.
fn stamp(body: &[u8]) -> Option<u64> {
    const FIELD: &[u8] = br#""text":"t"#;
    if let Some(inner) = body.strip_suffix(br#""}"#) {
        let digits = inner
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let (head, number) = inner.split_at(inner.len() - digits);
        if digits > 0 && head.ends_with(FIELD) {
            return leading_number(number);
        }
    }
    let at = body.windows(FIELD.len()).position(|w| w == FIELD)?;
    let rest = &body[at + FIELD.len()..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    // The text must be exactly `t<digits>`: a closing quote right after.
    (digits > 0 && rest.get(digits) == Some(&b'"'))
        .then(|| leading_number(rest))
        .flatten()
}

/// The decimal number at the start of `bytes` (at most 19 digits).
fn leading_number(bytes: &[u8]) -> Option<u64> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    Some(
        bytes[..digits]
            .iter()
            .fold(0u64, |n, b| n * 10 + u64::from(b - b'0')),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chatroom_shared::ServerMessage;
    use chatroom_shared::message::{ChatMessage, SayOk};

    fn encode(msg: &ServerMessage) -> Vec<u8> {
        chatroom_shared::encode_frame(msg).unwrap().to_vec()
    }

    fn message(text: &str) -> ServerMessage {
        ServerMessage::Message(ChatMessage {
            id: 42,
            ts: 1_767_225_600_000,
            kind: Default::default(),
            from: "bob".into(),
            text: text.into(),
            to: Default::default(),
        })
    }

    fn kinds(bytes: &[u8]) -> (Vec<Kind>, usize) {
        let mut out = Vec::new();
        let used = split(bytes, 1 << 20, |b| out.push(classify(b))).unwrap();
        (out, used)
    }

    #[test]
    fn stamped_message_event_yields_its_timestamp() {
        let (k, _) = kinds(&encode(&message("t123456789")));
        assert_eq!(k, [Kind::Stamped(123_456_789)]);
    }

    #[test]
    fn other_texts_are_not_stamped() {
        for text in ["hello", "t", "t12x", "xt12", "t1 2"] {
            let (k, _) = kinds(&encode(&message(text)));
            assert_eq!(k, [Kind::Other], "{text}");
        }
    }

    #[test]
    fn say_ok_yields_its_seq() {
        let ok = ServerMessage::SayOk(SayOk {
            seq: 77,
            id: "c-1".into(),
            message_id: 9,
            ts: 1,
        });
        let (k, _) = kinds(&encode(&ok));
        assert_eq!(k, [Kind::SayOk(77)]);
    }

    #[test]
    fn split_stops_at_an_incomplete_frame() {
        let mut bytes = encode(&message("t1"));
        let whole = bytes.len();
        bytes.extend_from_slice(&encode(&message("t2"))[..10]);
        let (k, used) = kinds(&bytes);
        assert_eq!(k, [Kind::Stamped(1)]);
        assert_eq!(used, whole);
    }

    #[test]
    fn split_refuses_an_oversized_frame() {
        assert_eq!(split(&[0, 0, 1, 0, b'{'], 16, |_| {}), Err(256));
    }
}
