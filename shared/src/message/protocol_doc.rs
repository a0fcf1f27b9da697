//! docs/PROTOCOL.md's examples are real frames: every JSON object in a code
//! block that has a `"type"` parses as a request or a server message, and
//! writing it out again gives the same JSON, so a client written from the
//! document speaks the protocol this crate defines. (The golden tests freeze
//! the same forms from the other side.)

use serde_json::Value;

use super::*;

const DOC: &str = include_str!("../../../docs/PROTOCOL.md");

/// The frames shown in code blocks: (line number, JSON text).
fn examples() -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (i, line) in DOC.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        // Frames may follow an arrow or a speaker ("bob ←", "alice ->"), or
        // stand in a note "(bob receives {…})"; a hex dump ("00000000: …")
        // shows bytes, not a frame.
        let Some(start) = line.find("{\"type\"") else {
            continue;
        };
        let before = &line[..start];
        if before.contains(':') {
            continue;
        }
        let mut frame = line[start..].trim_end();
        if before.contains('(') {
            frame = frame.strip_suffix(')').unwrap_or(frame);
        }
        out.push((i + 1, frame));
    }
    out
}

/// Whether the example is shown cut short on purpose ("…" or "..." outside
/// strings).
fn abridged(text: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '…' | '.' if !in_string => return true,
            _ => {}
        }
    }
    false
}

/// Parse as a request or a server message and write it out again.
fn round_trip(v: &Value) -> Result<Value, String> {
    let kind = v["type"].as_str().unwrap_or_default();
    let as_request = serde_json::from_value::<Request>(v.clone())
        .map_err(|e| e.to_string())
        .and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string()));
    let as_server = serde_json::from_value::<ServerMessage>(v.clone())
        .map_err(|e| e.to_string())
        .and_then(|m| serde_json::to_value(m).map_err(|e| e.to_string()));
    match (as_request, as_server) {
        (Ok(r), _) if &r == v => Ok(r),
        (_, Ok(m)) if &m == v => Ok(m),
        (Ok(r), _) if ClientMessage::TYPE_NAMES.contains(&kind) => Ok(r),
        (_, Ok(m)) => Ok(m),
        (Err(a), Err(b)) => Err(format!("as a request: {a}; as a server message: {b}")),
        (Ok(r), Err(_)) => Ok(r),
    }
}

#[test]
fn every_example_frame_in_protocol_md_parses_and_round_trips() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (line, text) in examples() {
        if text.contains(r#""from":"bob","uid":2"#) {
            // §3.3 shows fields the server ignores: they are not written out.
            continue;
        }
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) if abridged(text) => continue,
            Err(e) => {
                failures.push(format!("line {line}: not JSON ({e}): {text}"));
                continue;
            }
        };
        match round_trip(&v) {
            Ok(back) if back == v => checked += 1,
            Ok(back) => failures.push(format!("line {line}: written out as {back}\n  doc: {text}")),
            Err(e) => failures.push(format!("line {line}: {e}\n  doc: {text}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 100, "only {checked} examples found");
}

#[test]
fn the_unknown_type_example_lists_every_request_type() {
    let example = examples()
        .into_iter()
        .find(|(_, t)| t.contains("\"unknown_type\""))
        .expect("§2.5 shows an unknown_type error");
    let shown: ErrorReply = match serde_json::from_str(example.1) {
        Ok(ServerMessage::Error(e)) => e,
        other => panic!("{other:?}"),
    };
    let real = match decode_request(br#"{"type":"dance","seq":5}"#) {
        Err(e) => e,
        Ok(r) => panic!("{r:?}"),
    };
    assert_eq!(shown, real, "PROTOCOL.md line {}", example.0);
}
