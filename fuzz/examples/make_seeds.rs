//! Writes the committed seed corpora, `fuzz/seeds/<target>/`.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example make_seeds` from the
//! repository root (it replaces the generated seeds; minimized crash inputs
//! added by hand under `seeds/<target>/crash-*` are kept).
//!
//! `frames` seeds are one control byte (see `fuzz_targets/frames.rs`) and a
//! byte stream: a valid request of every type (each checked to decode), bad
//! frames of every decoding error, and framing edge cases. `names` seeds are
//! plain strings: ordinary and edge-case user and file names.

use std::fs;
use std::path::Path;

use chatroom_shared::message::{ClientMessage, decode_request};
use chatroom_shared::{DEFAULT_MAX_CLIENT_FRAME, ErrorCode};

/// One request of every type, as a client sends it.
const REQUESTS: &[&str] = &[
    r#"{"type":"hello","seq":1,"version":1,"client":"chatroom-tui 0.1.0"}"#,
    r#"{"type":"register","seq":2,"name":"alice","password":"correct horse"}"#,
    r#"{"type":"login","seq":3,"name":"alice","password":"correct horse"}"#,
    r#"{"type":"resume","seq":4,"token":"3q2-7w"}"#,
    r#"{"type":"say","seq":5,"id":"c-1","text":"hello\nworld"}"#,
    r#"{"type":"history","seq":6,"before":120,"limit":50}"#,
    r#"{"type":"history","seq":7,"after":3,"to":{"kind":"group","group":"rust"},"before_ts":1767225600000,"after_ts":1,"from":"bob","text":"hi all"}"#,
    r#"{"type":"ping","seq":8}"#,
    r#"{"type":"quit","seq":9}"#,
    r#"{"type":"files","seq":10}"#,
    r#"{"type":"upload_begin","seq":11,"name":"report.pdf","size":1024,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","comment":"Q3"}"#,
    r#"{"type":"download_begin","seq":12,"file_id":7,"offset":512}"#,
    r#"{"type":"transfer","seq":13,"ticket":"t-0123456789abcdef"}"#,
    r#"{"type":"game_invite","seq":14}"#,
    r#"{"type":"game_cancel","seq":15,"game_id":1}"#,
    r#"{"type":"game_accept","seq":16,"game_id":1}"#,
    r#"{"type":"game_move","seq":17,"game_id":1,"cell":4}"#,
    r#"{"type":"game_resign","seq":18,"game_id":1}"#,
    r#"{"type":"game_watch","seq":19,"game_id":1}"#,
    r#"{"type":"game_unwatch","seq":20,"game_id":1}"#,
    r#"{"type":"games","seq":21}"#,
    r#"{"type":"stats","seq":22,"name":"bob"}"#,
    r#"{"type":"send","seq":23,"id":"c-2","to":{"kind":"user","user":"bob"},"text":"psst"}"#,
    r#"{"type":"send","seq":24,"id":"c-3","to":{"kind":"room"},"text":"hi all"}"#,
    r#"{"type":"group_create","seq":25,"name":"rustaceans","private":true,"comment":"crabs","full_history":true}"#,
    r#"{"type":"group_join","seq":26,"group":"rustaceans"}"#,
    r#"{"type":"group_leave","seq":27,"group":"rustaceans"}"#,
    r#"{"type":"group_members","seq":28,"group":"rustaceans"}"#,
    r#"{"type":"group_approve","seq":29,"group":"rustaceans","user":"bob"}"#,
    r#"{"type":"group_reject","seq":30,"group":"rustaceans","user":"carol"}"#,
    r#"{"type":"group_remove","seq":31,"group":"rustaceans","user":"dave"}"#,
    r#"{"type":"groups","seq":32}"#,
    r#"{"type":"read","seq":33,"to":{"kind":"group","group":"rustaceans"},"upto":42}"#,
    r#"{"type":"search","seq":34,"text":"lunch","before":99,"limit":20}"#,
    // Valid with extras: unknown fields, nulls, the largest seq, unicode.
    r#"{"type":"say","seq":4294967295,"id":"c-9","text":"Zoë 张伟 😀","from":"admin","uid":1}"#,
    r#"{"type":"history","seq":0,"before":null,"limit":null}"#,
    r#"{"seq":1,"type":"ping","type":"ping"}"#,
    r#"{"type":"register","seq":2,"name":"аdmin","password":"12345678"}"#,
    r#"{"type":"register","seq":2,"name":"al\u200bice","password":"12345678"}"#,
    r#"{"type":"upload_begin","seq":3,"name":"../../etc/passwd","size":1,"sha256":"00"}"#,
];

/// Bodies the server refuses, with the code it answers.
const BAD: &[(&[u8], ErrorCode)] = &[
    (b"", ErrorCode::Malformed),
    (b"{not json", ErrorCode::Malformed),
    (b"[1,2]", ErrorCode::Malformed),
    (b"\"hi\"", ErrorCode::Malformed),
    (b"null", ErrorCode::Malformed),
    (
        b"{\"type\":\"say\",\"seq\":1,\"id\":\"a\",\"text\":\"\xff\"}",
        ErrorCode::InvalidUtf8,
    ),
    (
        b"\xef\xbb\xbf{\"type\":\"ping\",\"seq\":1}",
        ErrorCode::Malformed,
    ),
    (br#"{"seq":4}"#, ErrorCode::MissingType),
    (br#"{"type":7,"seq":4}"#, ErrorCode::MissingType),
    (br#"{"type":"dance","seq":5}"#, ErrorCode::UnknownType),
    (
        br#"{"type":"say","seq":6,"id":"a"}"#,
        ErrorCode::InvalidField,
    ),
    (
        br#"{"type":"say","seq":6,"id":"a","text":1}"#,
        ErrorCode::InvalidField,
    ),
    (br#"{"type":"ping"}"#, ErrorCode::InvalidField),
    (br#"{"type":"ping","seq":"1"}"#, ErrorCode::InvalidField),
    (
        br#"{"type":"ping","seq":4294967296}"#,
        ErrorCode::InvalidField,
    ),
    (br#"{"type":"ping","seq":-1}"#, ErrorCode::InvalidField),
    (br#"{"type":"ping","seq":1.0}"#, ErrorCode::InvalidField),
    (
        br#"{"type":"game_move","seq":7,"game_id":1,"cell":256}"#,
        ErrorCode::InvalidField,
    ),
    (
        br#"{"type":"send","seq":8,"id":"x","to":{"kind":"planet"},"text":"hi"}"#,
        ErrorCode::InvalidField,
    ),
    (
        br#"{"type":"history","seq":9,"to":{"group":"g"}}"#,
        ErrorCode::InvalidField,
    ),
];

fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = u32::try_from(body.len())
        .expect("small")
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(body);
    v
}

/// Control byte: frame-size limit `limit` (0: 64 KiB, 1: 4 KiB, 2: 64, 3: 5)
/// and arrival in pieces of `piece` bytes (1 to 64).
fn control(limit: u8, piece: u8) -> u8 {
    assert!(limit < 4 && (1..=64).contains(&piece));
    ((piece - 1) << 2) | limit
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).expect("write a seed");
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let frames = root.join("frames");
    let names = root.join("names");
    for dir in [&frames, &names] {
        fs::create_dir_all(dir).expect("seed directory");
        for entry in fs::read_dir(dir).expect("list seeds") {
            let path = entry.expect("entry").path();
            let generated = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with("crash-"));
            if generated {
                fs::remove_file(path).expect("remove an old seed");
            }
        }
    }

    // frames: every request type, alone, each arriving in different pieces.
    let mut seen = Vec::new();
    let mut all = Vec::new();
    for (i, json) in REQUESTS.iter().enumerate() {
        let req = decode_request(json.as_bytes()).expect("a seed request decodes");
        seen.push(req.body.type_name());
        let piece = u8::try_from(i % 64).expect("small") + 1;
        let mut seed = vec![control(0, piece)];
        seed.extend(frame(json.as_bytes()));
        write(
            &frames,
            &format!("req-{i:02}-{}", req.body.type_name()),
            &seed,
        );
        all.extend(frame(json.as_bytes()));
    }
    for name in ClientMessage::TYPE_NAMES {
        assert!(seen.contains(name), "no seed for {name}");
    }
    for (i, (body, code)) in BAD.iter().enumerate() {
        let err = decode_request(body).expect_err("a bad seed is refused");
        assert_eq!(err.code, *code, "{}", String::from_utf8_lossy(body));
        let mut seed = vec![control(0, 3)];
        seed.extend(frame(body));
        write(&frames, &format!("bad-{i:02}-{code}"), &seed);
    }
    // A session's worth of requests pipelined, whole and in odd pieces.
    let mut session = vec![control(0, 64)];
    session.extend(&all);
    write(&frames, "pipelined-whole", &session);
    let mut session = vec![control(0, 7)];
    session.extend(&all);
    write(&frames, "pipelined-7", &session);

    // Framing edge cases.
    let max = u32::try_from(DEFAULT_MAX_CLIENT_FRAME).expect("small");
    let edge: Vec<(&str, u8, Vec<u8>)> = vec![
        ("empty-stream", control(0, 1), Vec::new()),
        ("empty-frame", control(0, 1), vec![0, 0, 0, 0]),
        ("partial-header", control(0, 1), vec![0, 0]),
        ("header-only", control(0, 1), vec![0, 0, 0, 9]),
        (
            "partial-body",
            control(0, 2),
            b"\0\0\0\x10{\"type\"".to_vec(),
        ),
        ("max-header", control(0, 1), max.to_be_bytes().to_vec()),
        (
            "max-plus-one",
            control(0, 1),
            (max + 1).to_be_bytes().to_vec(),
        ),
        ("all-ones-header", control(0, 2), vec![0xff; 4]),
        (
            "http-request",
            control(0, 5),
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        (
            "tls-client-hello",
            control(0, 3),
            vec![
                0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
            ],
        ),
        ("small-limit-ok", control(3, 1), frame(b"[1,2]")),
        ("small-limit-over", control(3, 1), frame(b"{\"a\":1}")),
        ("limit-64-split", control(2, 2), {
            let mut v = frame(br#"{"type":"ping","seq":1}"#);
            v.extend(frame(&[b' '; 65]));
            v
        }),
    ];
    for (name, ctl, bytes) in edge {
        let mut seed = vec![ctl];
        seed.extend(bytes);
        write(&frames, &format!("edge-{name}"), &seed);
    }
    let deep = format!(
        "{{\"type\":\"ping\",\"seq\":1,\"x\":{}{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let mut seed = vec![control(0, 64)];
    seed.extend(frame(deep.as_bytes()));
    write(&frames, "edge-nested-json", &seed);
    let mut seed = vec![control(0, 64)];
    seed.extend(frame(
        format!("{}{}", "[".repeat(129), "]".repeat(129)).as_bytes(),
    ));
    write(&frames, "edge-nested-array", &seed);

    // names: user names and file names (each seed is checked as both).
    let name_seeds: &[(&str, &str)] = &[
        ("ascii", "alice"),
        ("mixed", "Bob_42"),
        ("han", "张伟"),
        ("hangul", "김민수"),
        ("kana", "さくら"),
        ("nfc", "Zoë"),
        ("nfd", "Zoe\u{0308}"),
        ("apostrophe", "o'neil"),
        ("one-char", "a"),
        (
            "max-chars",
            "字字字字字字字字字字字字字字字字字字字字字字字字字字字字字字字字",
        ),
        (
            "too-many-chars",
            "字字字字字字字字字字字字字字字字字字字字字字字字字字字字字字字字字",
        ),
        ("empty", ""),
        ("space", "al ice"),
        ("tab", "al\tice"),
        ("nul", "al\0ice"),
        ("escape", "al\u{1b}[2Jice"),
        ("zero-width-space", "al\u{200b}ice"),
        ("zero-width-joiner", "al\u{200d}ice"),
        ("bom", "\u{feff}alice"),
        ("rtl-override", "al\u{202e}ecilA"),
        ("ideographic-space", "al\u{3000}ice"),
        ("hangul-filler", "al\u{3164}ice"),
        ("variation-selector", "al\u{fe0f}ice"),
        ("private-use", "al\u{e000}ice"),
        ("reserved", "admin"),
        ("reserved-upper", "ADMIN"),
        ("cyrillic-a-admin", "Аdmin"),
        ("fullwidth-admin", "ａｄｍｉｎ"),
        ("cyrillic-alice", "аlice"),
        ("dotless-i", "alıce"),
        ("sharp-s", "Straße"),
        ("turkish-dotted-i", "İstanbul"),
        (
            "ligature-expands",
            "\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}",
        ),
        (
            "ligature-too-long",
            "\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}\u{fdfa}",
        ),
        ("emoji", "😀😀"),
        ("combining-stack", "a\u{0301}\u{0302}\u{0303}\u{0304}"),
        ("greek-omicron", "bοb"),
        ("file-report", "report.pdf"),
        ("file-photo", "照片 2026.jpg"),
        ("file-dotfile", ".bashrc"),
        ("file-inner-dots", "x..y"),
        ("file-drive", "C:"),
        ("file-dot", "."),
        ("file-dotdot", ".."),
        ("file-traversal", "../../etc/passwd"),
        ("file-backslash-traversal", "..\\..\\windows\\system32"),
        ("file-absolute", "/etc/passwd"),
        ("file-drive-path", "C:\\x"),
        ("file-padded", " a.txt "),
        ("file-newline", "a\nb.txt"),
        ("file-nul", "a.txt\0.png"),
        ("file-255-bytes", &"n".repeat(255)),
        ("file-256-bytes", &"é".repeat(128)),
        ("file-trailing-dot", "name."),
        ("file-nbsp-padded", "\u{a0}a.txt"),
        ("file-rtl-extension", "invoice\u{202e}fdp.exe"),
    ];
    for (name, text) in name_seeds {
        write(&names, name, text.as_bytes());
    }
    write(&names, "invalid-utf8", b"al\xffice");
    println!(
        "wrote {} frames seeds and {} names seeds under {}",
        fs::read_dir(&frames).expect("list").count(),
        fs::read_dir(&names).expect("list").count(),
        root.display()
    );
}
