//! Search through the index (issue 18 §1): words found in every script, with
//! case and width folded; the same pages as the scan it replaces, whether a
//! message is still in memory or committed; a private group's cut-off and
//! other users' direct messages kept out; a damaged index, or one made for
//! another database, built again from the history.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::message::{
    ClientMessage, GroupCreate, History, Search, SearchResults, Send, ServerMessage, Target,
};
use testkit::client::{TestClient, gref, group, member_ref, user};
use testkit::db::db_test;
use testkit::server::TestServer;

fn search(text: &str, before: Option<i64>, limit: u32) -> ClientMessage {
    ClientMessage::Search(Search {
        text: text.into(),
        before,
        limit: Some(limit),
    })
}

async fn results(c: &mut TestClient, req: ClientMessage) -> SearchResults {
    match c.request(req).await {
        ServerMessage::SearchResults(r) => r,
        other => panic!("expected search_results, got {other:?}"),
    }
}

/// Every result of a search, newest first, paged `limit` at a time: (id, text).
async fn all_found(c: &mut TestClient, text: &str, limit: u32) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let r = results(c, search(text, before, limit)).await;
        assert!(r.messages.len() <= limit as usize);
        for w in r.messages.windows(2) {
            assert!(w[0].id > w[1].id, "newest first: {:?}", r.messages);
        }
        out.extend(r.messages.iter().map(|m| (m.id, m.text.clone())));
        match (r.has_more, r.messages.last()) {
            (true, Some(last)) => before = Some(last.id),
            (true, None) => panic!("has_more with an empty page"),
            (false, _) => return out,
        }
    }
}

fn texts(found: &[(i64, String)]) -> Vec<&str> {
    found.iter().map(|(_, t)| t.as_str()).collect()
}

async fn flush(server: &TestServer) {
    server
        .search
        .as_ref()
        .expect("the tests' servers search through the index")
        .flush()
        .await;
}

/// What each search must find (newest first) in the texts `CORPUS` sends in order.
const CORPUS: &[&str] = &[
    "我们的数据库很大",
    "ﾃﾞｰﾀを見る",
    "データベース",
    "ROCKET launch at noon",
    "ＲＯＣＫＥＴ in full width",
    "a rock, a sock, a cket and a rocke", // every gram of "rocket", not the word
    "École ouverte",
    "ecole sans accent",
    "50%_off today",
    "500 off yesterday",
    "ΝΙΚΟΣ wrote",
    "νικος again",
];

fn expected(word: &str) -> Vec<&'static str> {
    let cases: &[(&str, &[&str])] = &[
        ("数据", &["我们的数据库很大"]),
        ("データ", &["データベース", "ﾃﾞｰﾀを見る"]),
        (
            "rocket",
            &["ＲＯＣＫＥＴ in full width", "ROCKET launch at noon"],
        ),
        (
            "ROCK",
            &[
                "a rock, a sock, a cket and a rocke",
                "ＲＯＣＫＥＴ in full width",
                "ROCKET launch at noon",
            ],
        ),
        ("école", &["École ouverte"]),
        ("50%_", &["50%_off today"]),
        ("%", &["50%_off today"]),
        ("νικοσ", &["νικος again", "ΝΙΚΟΣ wrote"]),
        ("rocket noon", &["ROCKET launch at noon"]),
        ("nowhere", &[]),
    ];
    cases
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, t)| t.to_vec())
        .unwrap()
}

const WORDS: &[&str] = &[
    "数据",
    "データ",
    "rocket",
    "ROCK",
    "école",
    "50%_",
    "%",
    "νικοσ",
    "rocket noon",
    "nowhere",
];

// Found as the protocol says in every script, while the messages are only in
// memory (just acknowledged) and again once committed; history's text filter
// means the same.
db_test!(
    words_are_found_in_every_script_before_and_after_a_commit,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        drop(TestClient::user(server.addr, "bob").await);
        for (i, text) in CORPUS.iter().enumerate() {
            alice.say_ok(&format!("c{i}"), text).await;
        }
        for stage in ["in memory", "committed"] {
            if stage == "committed" {
                flush(&server).await;
            }
            for word in WORDS {
                for limit in [1, 2, 50] {
                    let found = all_found(&mut alice, word, limit).await;
                    assert_eq!(
                        texts(&found),
                        expected(word),
                        "{stage}: {word:?}, pages of {limit}"
                    );
                }
                for from in [None, Some("ALICE"), Some("bob")] {
                    let page = alice
                        .request(ClientMessage::History(History {
                            text: Some((*word).into()),
                            from: from.map(str::to_owned),
                            ..Default::default()
                        }))
                        .await;
                    let ServerMessage::HistoryPage(page) = page else {
                        panic!("{page:?}")
                    };
                    let mut got: Vec<&str> =
                        page.messages.iter().map(|m| m.text.as_str()).collect();
                    got.reverse();
                    let want = if from == Some("bob") {
                        Vec::new()
                    } else {
                        expected(word)
                    };
                    assert_eq!(got, want, "{stage}: history text {word:?} from {from:?}");
                }
            }
        }
        server.stop().await;
    }
);

/// A group request that must succeed.
async fn ok(c: &mut TestClient, req: ClientMessage) {
    let reply = c.request(req).await;
    assert!(!matches!(reply, ServerMessage::Error(_)), "{reply:?}");
}

async fn send(c: &mut TestClient, id: &str, to: Target, text: &str) {
    let reply = c
        .request(ClientMessage::Send(Send {
            id: id.into(),
            to,
            text: text.into(),
        }))
        .await;
    assert!(matches!(reply, ServerMessage::SayOk(_)), "{reply:?}");
}

// Through the committed index as through memory: a member of a private group
// finds only what was sent after they joined; nobody finds another pair's
// direct messages or a private group they are not in.
db_test!(
    the_index_shows_each_user_only_what_they_may_read,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let addr = server.addr;
        let (mut alice, _) = TestClient::user(addr, "alice").await;
        let (mut bob, _) = TestClient::user(addr, "bob").await;
        let (mut carol, _) = TestClient::user(addr, "carol").await;
        ok(
            &mut alice,
            ClientMessage::GroupCreate(GroupCreate {
                name: "vault".into(),
                private: true,
                comment: None,
                full_history: false,
            }),
        )
        .await;
        send(&mut alice, "v1", group("vault"), "zephyr before bob").await;
        send(&mut alice, "d1", user("carol"), "zephyr for carol").await;
        send(&mut alice, "r1", Target::Room, "zephyr in the room").await;
        flush(&server).await;
        ok(&mut bob, ClientMessage::GroupJoin(gref("vault"))).await;
        ok(
            &mut alice,
            ClientMessage::GroupApprove(member_ref("vault", "bob")),
        )
        .await;
        // The cut-off is a send time in milliseconds: the next message is later.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        send(&mut alice, "v2", group("vault"), "zephyr after bob").await;
        for stage in ["in memory", "committed"] {
            if stage == "committed" {
                flush(&server).await;
            }
            let for_bob = all_found(&mut bob, "zephyr", 50).await;
            assert_eq!(
                texts(&for_bob),
                ["zephyr after bob", "zephyr in the room"],
                "{stage}"
            );
            let for_carol = all_found(&mut carol, "zephyr", 50).await;
            assert_eq!(
                texts(&for_carol),
                ["zephyr in the room", "zephyr for carol"],
                "{stage}"
            );
            let for_alice = all_found(&mut alice, "ZEPHYR", 50).await;
            assert_eq!(
                texts(&for_alice),
                [
                    "zephyr after bob",
                    "zephyr in the room",
                    "zephyr for carol",
                    "zephyr before bob"
                ],
                "{stage}"
            );
        }
        server.stop().await;
    }
);

/// The texts of a generated history: words from a small vocabulary, so that
/// searches find many messages and pages cut through them.
fn generated(n: usize) -> Vec<String> {
    const VOCABULARY: &[&str] = &[
        "alpha",
        "beta",
        "gamma",
        "delta",
        "rocket",
        "launch",
        "noon",
        "数据库",
        "ROCK",
        "ok",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            let mut words = Vec::new();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                words.push(VOCABULARY[(seed % VOCABULARY.len() as u64) as usize]);
            }
            words.join(" ")
        })
        .collect()
}

const QUERIES: &[&str] = &[
    "rocket",
    "rock noon",
    "数据",
    "a",
    "ok beta",
    "gamma delta alpha",
    "ket",
];

// The index gives the same pages as the scan it replaces (and answers with
// while it builds), where their meanings agree (ASCII case, CJK): the same
// server's history searched with the index and then, restarted with
// `--search-index false`, by scanning.
db_test!(
    the_index_and_the_scan_give_the_same_pages,
    |tdb| async move {
        let server = TestServer::start(tdb.url()).await;
        let config = server.config.clone();
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        for (i, text) in generated(300).iter().enumerate() {
            alice.say_ok(&format!("g{i}"), text).await;
            if i == 150 {
                flush(&server).await;
            }
        }
        let mut with_index = Vec::new();
        for q in QUERIES {
            for limit in [7, 200] {
                with_index.push(all_found(&mut alice, q, limit).await);
            }
        }
        drop(alice);
        server.stop().await;

        let mut scanning = config;
        scanning.search_index = false;
        let server = TestServer::start_config(scanning).await;
        assert!(server.search.is_none());
        let (mut alice, _) = TestClient::existing(server.addr, "alice").await;
        let mut i = 0;
        for q in QUERIES {
            for limit in [7, 200] {
                let scanned = all_found(&mut alice, q, limit).await;
                assert_eq!(with_index[i], scanned, "{q:?} in pages of {limit}");
                assert!(
                    !scanned.is_empty() || *q == "nowhere",
                    "{q:?} finds something"
                );
                i += 1;
            }
        }
        server.stop().await;
    }
);

// A damaged index is built again from the history at the next start; and an
// index made for another database is not used for this one.
db_test!(
    a_damaged_or_foreign_index_is_built_again,
    |tdb| async move {
        let data = tempfile::tempdir().unwrap();
        let server =
            TestServer::start_with(tdb.url(), |c| c.data_dir = data.path().to_owned()).await;
        let config = server.config.clone();
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        for i in 0..40 {
            alice
                .say_ok(&format!("m{i}"), &format!("quasar number {i}"))
                .await;
        }
        drop(alice);
        server.stop().await;

        let dir = config.data_dir.join(chatroom_server::search::DIR);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e != "lock") || path.ends_with("meta.json") {
                std::fs::write(&path, b"\x00garbage").unwrap();
            }
        }
        let server = TestServer::start_config(config.clone()).await;
        let (mut alice, _) = TestClient::existing(server.addr, "alice").await;
        let found = all_found(&mut alice, "quasar", 15).await;
        assert_eq!(found.len(), 40, "{found:?}");
        assert_eq!(found[0].1, "quasar number 39");
        // The operator sees it built again, and how large it is.
        flush(&server).await;
        let report = chatroom_server::console::execute(
            &server.admin,
            chatroom_server::console::Command::SearchIndex,
        )
        .await;
        assert!(
            report.starts_with("search index: ready; 40 messages in it, "),
            "{report}"
        );
        assert!(
            report.ends_with(" KiB on disk") || report.ends_with(" MiB on disk"),
            "{report}"
        );
        drop(alice);
        server.stop().await;

        // The same data directory with a new, empty database (SQLite's file is
        // named by the URL): the index goes further than the database, so it is
        // built again, and finds nothing of the other database.
        if tdb.url().starts_with("sqlite") {
            let mut other = config;
            other.database_url = Some(chatroom_server::db::sqlite_url_for(&other.data_dir));
            let server = TestServer::start_config(other).await;
            let (mut bob, _) = TestClient::user(server.addr, "bob").await;
            bob.say_ok("b1", "quasar of the new database").await;
            let found = all_found(&mut bob, "quasar", 15).await;
            assert_eq!(texts(&found), ["quasar of the new database"]);
            server.stop().await;
        }
    }
);
