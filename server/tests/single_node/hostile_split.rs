//! The hostile suite: a byte stream of valid requests cut into pieces, at
//! every single point and at random, gets exactly the replies it gets in one
//! piece, and what it says is stored once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chatroom_shared::message::{ClientMessage, History, ServerMessage};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use testkit::client::{TestClient, all_history};
use testkit::hostile::{
    Pair, frame, hello, lo, login, ping, register, register_only, say, sqlite_server,
};

// ----- frames split at every byte boundary -----

/// A reply reduced to what must be the same whoever sends it and however its
/// bytes were cut: its type, its error code, and the user's own name replaced.
fn shape(m: &ServerMessage, me: &str) -> String {
    match m {
        ServerMessage::Error(e) => format!("error {}", e.code),
        ServerMessage::HelloOk(ok) => format!("hello_ok {}", serde_json::to_string(ok).unwrap()),
        ServerMessage::RegisterOk(ok) => format!("register_ok {}", ok.user.name.replace(me, "ME")),
        ServerMessage::LoginOk(ok) => format!("login_ok {}", ok.user.name.replace(me, "ME")),
        ServerMessage::SayOk(ok) => format!("say_ok {}", ok.id),
        other => serde_json::to_value(other).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_owned(),
    }
}

/// Send `stream` cut into `pieces` (a short pause between two, so that they
/// arrive in separate reads; if two merge, the case only gets easier) and
/// collect the replies to seqs `1..=last_seq`, by seq, shaped for `me`.
async fn replies_to_pieces(
    addr: SocketAddr,
    pieces: &[&[u8]],
    last_seq: u32,
    me: &str,
) -> BTreeMap<u32, String> {
    let mut c = TestClient::connect(addr).await;
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        c.send_raw(piece).await;
    }
    let mut out = BTreeMap::new();
    for seq in 1..=last_seq {
        out.insert(seq, shape(&c.reply_to(seq).await, me));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_and_say_stream_cut_at_every_byte_gets_the_replies_it_gets_whole() {
    let (server, _tdb) = sqlite_server(|_| {}).await;
    let mut pair = Pair::new(server.addr, lo(1), lo(1)).await;
    register_only(server.addr, "splitter").await;
    // The same length for every n: only the message's id and text change.
    let stream = |n: usize| {
        let mut s = frame(1, hello());
        s.extend(frame(2, login("splitter")));
        s.extend(frame(
            3,
            say(&format!("s-{n:04}"), &format!("split {n:04}")),
        ));
        s
    };
    let len = stream(0).len();
    let whole = replies_to_pieces(server.addr, &[&stream(9999)], 3, "splitter").await;
    let mut expected_texts = vec!["split 9999".to_owned()];
    for cut in 0..=len {
        let s = stream(cut);
        let mut want = whole.clone();
        want.insert(3, format!("say_ok s-{cut:04}"));
        let got = replies_to_pieces(server.addr, &[&s[..cut], &s[cut..]], 3, "splitter").await;
        assert_eq!(got, want, "cut after byte {cut} of {len}");
        expected_texts.push(format!("split {cut:04}"));
    }
    assert!(whole[&3].starts_with("say_ok"), "{whole:?}");

    // Every message was stored once and delivered once, in order.
    let stored: Vec<String> = all_history(&mut pair.bob)
        .await
        .into_iter()
        .filter(|m| m.from == "splitter")
        .map(|m| m.text)
        .collect();
    assert_eq!(stored, expected_texts);
    for text in &expected_texts {
        let m = pair.bob.next_message().await;
        assert_eq!(
            (m.from.as_str(), m.text.as_str()),
            ("splitter", text.as_str())
        );
    }
    let ack = pair.alice.say_ok("after", "after every cut").await;
    pair.acked.push((ack.message_id, "after every cut".into()));
    let next = pair.bob.next_message().await;
    assert_eq!(next.id, ack.message_id, "delivered twice: {next:?}");
    pair.still_chatting("every cut").await;
    pair.nothing_lost().await;
    server.stop().await;
}

/// One step after login in a random request stream.
#[derive(Debug, Clone)]
enum Step {
    Ping,
    Say(String),
}

fn step() -> impl Strategy<Value = Step> {
    let ch = prop::sample::select(vec!['a', 'z', ' ', '\n', '\t', 'é', '你', '👋', '"', '\\']);
    prop_oneof![
        Just(Step::Ping),
        prop::collection::vec(ch, 0..300)
            .prop_map(|cs| Step::Say(format!("t{}", cs.into_iter().collect::<String>()))),
    ]
}

/// The bytes of: `pings` pings, hello, register and login `name`, then `steps`.
/// Returns them, the last seq, and the texts said.
fn request_stream(name: &str, pings: u32, steps: &[Step]) -> (Vec<u8>, u32, Vec<String>) {
    let mut out = Vec::new();
    let mut seq = 0;
    let mut push = |body| {
        seq += 1;
        out.extend(frame(seq, body));
    };
    for _ in 0..pings {
        push(ping());
    }
    push(hello());
    push(register(name));
    push(login(name));
    let mut texts = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::Ping => push(ping()),
            Step::Say(text) => {
                push(say(&format!("c-{i}"), text));
                texts.push(text.clone());
            }
        }
    }
    (out, seq, texts)
}

/// `bytes` cut into pieces of the given lengths, repeated as needed.
fn cut<'a>(bytes: &'a [u8], lengths: &[usize]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = bytes;
    for &n in lengths.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

#[test]
fn random_cuts_of_a_request_stream_get_the_replies_it_gets_whole() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server, tdb) = rt.block_on(sqlite_server(|_| {}));
    let addr = server.addr;
    // Shared with the (`Fn`) test-case closure.
    let pair = tokio::sync::Mutex::new(rt.block_on(Pair::new(addr, lo(1), lo(1))));
    let case = AtomicU32::new(0);
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (
        0u32..3,
        prop::collection::vec(step(), 0..10),
        prop::collection::vec(prop_oneof![3 => 1usize..8, 1 => 8usize..200], 1..40),
    );
    let result = runner.run(&strategy, |(pings, steps, lengths)| {
        let n = case.fetch_add(1, Ordering::Relaxed);
        // Two accounts per case (shrinking repeats cases): one sends the stream
        // whole, the other cut; their names have the same length.
        let (whole_name, cut_name) = (format!("w{n:05}"), format!("c{n:05}"));
        let (whole_bytes, last, texts) = request_stream(&whole_name, pings, &steps);
        let (cut_bytes, _, _) = request_stream(&cut_name, pings, &steps);
        let pieces = cut(&cut_bytes, &lengths);
        rt.block_on(async {
            let whole = replies_to_pieces(addr, &[&whole_bytes], last, &whole_name).await;
            let got = replies_to_pieces(addr, &pieces, last, &cut_name).await;
            prop_assert_eq!(&got, &whole, "{} pieces", pieces.len());
            prop_assert!(
                whole.values().all(|r| !r.starts_with("error")),
                "{:?}",
                whole
            );
            // What was said is stored once, in order.
            let page = match pair
                .lock()
                .await
                .alice
                .request(ClientMessage::History(History {
                    from: Some(cut_name.clone()),
                    ..Default::default()
                }))
                .await
            {
                ServerMessage::HistoryPage(p) => p.messages,
                other => return Err(TestCaseError::fail(format!("history: {other:?}"))),
            };
            let stored: Vec<String> = page.into_iter().map(|m| m.text).collect();
            prop_assert_eq!(stored, texts);
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    rt.block_on(async {
        let mut pair = pair.into_inner();
        pair.still_chatting("the random cuts").await;
        pair.nothing_lost().await;
        server.stop().await;
        tdb.drop_db().await;
    });
}
