//! The words of `search` and of `history`'s `text` filter: at most 8, each at most 64
//! characters, refused beyond that (never cut silently), and matched as the protocol
//! says (every word a substring, case ignored, `%` and `_` plain characters).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ChatMessage, ClientMessage, History, Search, ServerMessage};
use testkit::client::{TestClient, all_history, error_code};
use testkit::db::db_test;
use testkit::server::TestServer;

const EIGHT: &str = "alpha beta gamma delta epsilon zeta eta theta";

fn search(text: &str) -> ClientMessage {
    ClientMessage::Search(Search {
        text: text.into(),
        ..Default::default()
    })
}

fn history(text: &str) -> ClientMessage {
    ClientMessage::History(History {
        text: Some(text.into()),
        ..Default::default()
    })
}

/// The texts a `search` or `history` reply holds; panics on anything else.
fn found(reply: &ServerMessage) -> Vec<&str> {
    let messages: &[ChatMessage] = match reply {
        ServerMessage::SearchResults(r) => &r.messages,
        ServerMessage::HistoryPage(p) => &p.messages,
        other => panic!("expected messages, got {other:?}"),
    };
    messages.iter().map(|m| m.text.as_str()).collect()
}

db_test!(
    more_than_eight_words_or_a_word_over_64_characters_are_refused,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        alice.say_ok("a1", EIGHT).await;

        // Eight words: every one must occur, and they do.
        for ask in [search(EIGHT), history(EIGHT)] {
            assert_eq!(found(&alice.request(ask).await), [EIGHT]);
        }
        // A ninth word that occurs nowhere: refused, not ignored.
        let nine = format!("{EIGHT} nowhere");
        for ask in [search(&nine), history(&nine)] {
            let reply = alice.request(ask).await;
            assert_eq!(error_code(&reply), ErrorCode::InvalidField, "{reply:?}");
            let ServerMessage::Error(e) = reply else {
                unreachable!()
            };
            assert!(e.message.contains('8'), "names the limit: {}", e.message);
        }
        // A word of 64 characters is a word; one of 65 is refused, not cut.
        let long = "é".repeat(64);
        for ask in [search(&long), history(&long)] {
            assert_eq!(found(&alice.request(ask).await), Vec::<&str>::new());
        }
        let longer = format!("{long}x");
        for ask in [search(&longer), history(&format!("alpha {longer}"))] {
            let reply = alice.request(ask).await;
            assert_eq!(error_code(&reply), ErrorCode::InvalidField, "{reply:?}");
        }

        // Nothing else changed: the connection goes on, nothing was stored.
        alice.say_ok("a2", "still here").await;
        let texts: Vec<String> = all_history(&mut alice)
            .await
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, [EIGHT, "still here"]);
        server.stop().await;
    }
);

db_test!(
    a_word_is_found_as_typed_whatever_its_letters_and_ascii_case_is_ignored,
    |tdb| async {
        let server = TestServer::start(tdb.url()).await;
        let (mut alice, _) = TestClient::user(server.addr, "alice").await;
        let text = "ÉCOLE Ünïcode 50%_off";
        alice.say_ok("a1", text).await;
        alice.say_ok("a2", "50 percent off").await;
        // The word exactly as in the text, non-ASCII capitals included.
        for word in ["ÉCOLE", "Ünïcode", "COLE", "50%_off", "%_", "Ü"] {
            for ask in [search(word), history(word)] {
                assert_eq!(found(&alice.request(ask).await), [text], "{word}");
            }
        }
        // ASCII letters in any case, on every database.
        for word in ["cole", "ÜNïCODE", "50%_OFF"] {
            assert_eq!(found(&alice.request(search(word)).await), [text], "{word}");
        }
        // `%` and `_` are characters, not wildcards.
        assert_eq!(
            found(&alice.request(search("50_")).await),
            Vec::<&str>::new()
        );
        server.stop().await;
    }
);
