//! The database layer (`chatroom_server::db`) against real databases: every test runs on
//! SQLite, and on PostgreSQL / MySQL when `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` are set.

#![allow(clippy::unwrap_used)]

use chatroom_server::db::{
    self,
    accounts::{self, FLAG_DISABLED, FLAG_NORMAL, InsertAccountError, NewAccount},
    entity::session_token,
    history::{self, Cursor, LEVEL_ADMIN, LEVEL_USER, NewChatRow, TargetKind},
    tokens,
};
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, SqlErr, TransactionTrait,
};
use testkit::db::{Backend, TestDb, db_test};

const TABLES: [&str; 5] = [
    "base_info",
    "chat_history",
    "file_put_record",
    "game_record",
    "session_token",
];

fn account(name: &str) -> NewAccount<'_> {
    NewAccount {
        name,
        name_key: name,
        password_hash: "$2b$12$abcdefghijklmnopqrstuuv0123456789012345678901234567890",
        address: "127.0.0.1",
        now: 1_700_000_000_000,
    }
}

async fn register(db: &DatabaseConnection, name: &str) -> i64 {
    accounts::insert_account(db, account(name))
        .await
        .unwrap()
        .id
}

async fn assert_tables(db: &DatabaseConnection, present: bool) {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        assert_eq!(manager.has_table(table).await.unwrap(), present, "{table}");
    }
}

db_test!(
    migrations_apply_on_fresh_db_and_rerun_is_noop,
    |tdb| async move {
        let conn = tdb.connect().await;
        let all = Migrator::migrations().len();
        assert_eq!(
            Migrator::get_pending_migrations(&conn).await.unwrap().len(),
            all
        );
        db::migrate(&conn).await.unwrap();
        assert!(
            Migrator::get_pending_migrations(&conn)
                .await
                .unwrap()
                .is_empty()
        );
        assert_tables(&conn, true).await;
        register(&conn, "alice").await;

        db::migrate(&conn).await.unwrap();
        assert_eq!(
            Migrator::get_applied_migrations(&conn).await.unwrap().len(),
            all
        );
        assert!(
            accounts::find_by_key(&conn, "alice")
                .await
                .unwrap()
                .is_some()
        );
    }
);

// The rekey migration (8) recomputes stale look-alike keys with the current
// rules; a row whose new key another row already holds keeps its old one.
db_test!(
    stale_name_keys_are_recomputed_unless_taken,
    |tdb| async move {
        use chatroom_shared::rules::name_key;
        let conn = tdb.connect().await;
        Migrator::up(&conn, Some(7)).await.unwrap();
        let insert = |name: &'static str, key: &'static str| {
            let conn = conn.clone();
            async move {
                let a = NewAccount {
                    name_key: key,
                    ..account(name)
                };
                accounts::insert_account(&conn, a).await.unwrap().id
            }
        };
        let stale = insert("Ana", "Ana").await;
        let greek = name_key("νικος");
        let current = accounts::insert_account(
            &conn,
            NewAccount {
                name_key: &greek,
                ..account("νικος")
            },
        )
        .await
        .unwrap()
        .id;
        let clash = insert("ΝΙΚΟΣ", "stale-ΝΙΚΟΣ").await;
        assert_eq!(name_key("ΝΙΚΟΣ"), greek, "the two look alike now");

        db::migrate(&conn).await.unwrap();
        let ana = accounts::find_by_key(&conn, &name_key("Ana"))
            .await
            .unwrap();
        assert_eq!(ana.map(|a| a.id), Some(stale));
        let nikos = accounts::find_by_key(&conn, &greek).await.unwrap();
        assert_eq!(nikos.map(|a| a.id), Some(current));
        let kept = accounts::find_by_key(&conn, "stale-ΝΙΚΟΣ").await.unwrap();
        assert_eq!(kept.map(|a| a.id), Some(clash), "kept its old key");
    }
);

db_test!(migrations_roll_back_and_reapply, |tdb| async move {
    let conn = tdb.connect_migrated().await;
    Migrator::down(&conn, None).await.unwrap();
    assert_tables(&conn, false).await;
    db::migrate(&conn).await.unwrap();
    assert_tables(&conn, true).await;
});

// Nodes of a cluster started together against a fresh PostgreSQL or MySQL
// database: every one migrates without an error, and each migration is applied once.
// (SQLite is never shared by nodes.)
db_test!(
    servers: nodes_starting_together_migrate_a_fresh_database_once,
    |tdb| async move {
        let mut starts = Vec::new();
        for _ in 0..4 {
            let db = tdb.connect().await;
            starts.push(tokio::spawn(async move {
                chatroom_server::db::migrate(&db).await
            }));
        }
        for start in starts {
            start.await.unwrap().unwrap();
        }
        let db = tdb.connect().await;
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        assert_eq!(applied.len(), Migrator::migrations().len());
        assert!(
            Migrator::get_pending_migrations(&db)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

db_test!(same_name_key_twice_is_name_taken, |tdb| async move {
    let conn = tdb.connect_migrated().await;
    let first = accounts::insert_account(&conn, account("alice"))
        .await
        .unwrap();
    assert_eq!(first.name, "alice");
    assert_eq!(first.name_key, b"alice");
    assert_eq!((first.login_count, first.flag), (0, FLAG_NORMAL));
    let again = accounts::insert_account(&conn, account("alice")).await;
    assert!(
        matches!(again, Err(InsertAccountError::NameTaken)),
        "{again:?}"
    );
});

db_test!(
    keys_differing_only_in_case_or_accent_are_distinct,
    |tdb| async move {
        // name_key is binary, so no collation (MySQL's *_ci) may merge these.
        let conn = tdb.connect_migrated().await;
        for key in ["bob", "BOB", "bób", "bob "] {
            accounts::insert_account(&conn, account(key)).await.unwrap();
        }
        let found = accounts::find_by_key(&conn, "BOB").await.unwrap().unwrap();
        assert_eq!(found.name_key, b"BOB");
    }
);

db_test!(
    fifty_concurrent_registrations_of_one_name_create_one_account,
    |tdb| async move {
        let conn = tdb.connect_migrated().await;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..50i64 {
            let conn = conn.clone();
            set.spawn(async move {
                let address = format!("10.0.0.{i}");
                let a = NewAccount {
                    address: &address,
                    now: i,
                    ..account("racer")
                };
                accounts::insert_account(&conn, a).await
            });
        }
        let (mut ok, mut taken) = (0, 0);
        while let Some(res) = set.join_next().await {
            match res.unwrap() {
                Ok(_) => ok += 1,
                Err(InsertAccountError::NameTaken) => taken += 1,
                Err(e) => panic!("unexpected error: {e:?}"),
            }
        }
        assert_eq!((ok, taken), (1, 49));
        let rows = db::entity::base_info::Entity::find()
            .all(&conn)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
    }
);

db_test!(find_by_key_and_id, |tdb| async move {
    let conn = tdb.connect_migrated().await;
    let id = register(&conn, "carol").await;
    let by_key = accounts::find_by_key(&conn, "carol")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_key.id, id);
    assert_eq!(by_key.address, "127.0.0.1");
    assert_eq!(by_key.register_time, 1_700_000_000_000);
    assert_eq!(accounts::find_by_id(&conn, id).await.unwrap(), Some(by_key));
    assert!(
        accounts::find_by_key(&conn, "dave")
            .await
            .unwrap()
            .is_none()
    );
    assert!(accounts::find_by_id(&conn, id + 1).await.unwrap().is_none());
});

db_test!(set_flag_bans_and_reports_missing_rows, |tdb| async move {
    let conn = tdb.connect_migrated().await;
    let id = register(&conn, "erin").await;
    assert!(accounts::set_flag(&conn, id, FLAG_DISABLED).await.unwrap());
    // Setting the same value again still finds the row (MySQL reports matched rows).
    assert!(accounts::set_flag(&conn, id, FLAG_DISABLED).await.unwrap());
    let row = accounts::find_by_id(&conn, id).await.unwrap().unwrap();
    assert_eq!(row.flag, FLAG_DISABLED);
    assert!(
        !accounts::set_flag(&conn, id + 1, FLAG_DISABLED)
            .await
            .unwrap()
    );
});

db_test!(record_login_increments_login_count, |tdb| async move {
    let conn = tdb.connect_migrated().await;
    let id = register(&conn, "frank").await;
    assert!(
        accounts::record_login(&conn, id, "10.1.1.1", 5_000)
            .await
            .unwrap()
    );
    assert!(
        accounts::record_login(&conn, id, "10.2.2.2", 6_000)
            .await
            .unwrap()
    );
    let row = accounts::find_by_id(&conn, id).await.unwrap().unwrap();
    assert_eq!(row.login_count, 2);
    assert_eq!(row.last_address.as_deref(), Some("10.2.2.2"));
    assert_eq!(row.last_login_time, Some(6_000));
    assert!(!accounts::record_login(&conn, id + 1, "x", 1).await.unwrap());
});

async fn token_ids(conn: &DatabaseConnection, uid: i64) -> Vec<i64> {
    session_token::Entity::find()
        .filter(session_token::Column::Uid.eq(uid))
        .order_by_asc(session_token::Column::Id)
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect()
}

db_test!(
    tokens_find_touch_expire_revoke_and_prune,
    |tdb| async move {
        let conn = tdb.connect_migrated().await;
        let uid = register(&conn, "gina").await;
        let other = register(&conn, "hank").await;
        let hash = [7u8; 32];
        tokens::insert_token(&conn, uid, &hash, 1_000, 2_000)
            .await
            .unwrap();

        let found = tokens::find_valid(&conn, &hash, 1_500)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.uid, found.token_hash.as_slice()), (uid, &hash[..]));
        assert_eq!((found.created_time, found.last_used_time), (1_000, 1_000));
        assert!(
            tokens::find_valid(&conn, &hash, 2_000)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            tokens::find_valid(&conn, &[8u8; 32], 1_500)
                .await
                .unwrap()
                .is_none()
        );
        // With its account, in one query, by the same rules.
        let (token, account) = tokens::find_valid_with_account(&conn, &hash, 1_500)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (token.id, account.id, account.name.as_str()),
            (found.id, uid, "gina")
        );
        for (hash, now) in [(hash, 2_000), ([8u8; 32], 1_500)] {
            assert!(
                tokens::find_valid_with_account(&conn, &hash, now)
                    .await
                    .unwrap()
                    .is_none()
            );
        }

        assert!(tokens::touch(&conn, found.id, 1_600).await.unwrap());
        let touched = tokens::find_valid(&conn, &hash, 1_700)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(touched.last_used_time, 1_600);
        assert!(!tokens::touch(&conn, found.id + 100, 1_600).await.unwrap());

        let dup = tokens::insert_token(&conn, other, &hash, 1_000, 9_000)
            .await
            .unwrap_err();
        assert!(matches!(
            dup.sql_err(),
            Some(SqlErr::UniqueConstraintViolation(_))
        ));

        // Four more for `uid`, and an expired one for `other`.
        for i in 1..=4u8 {
            tokens::insert_token(&conn, uid, &[i; 32], 1_000 + i64::from(i), 9_000)
                .await
                .unwrap();
        }
        tokens::insert_token(&conn, other, &[9u8; 32], 1_000, 1_200)
            .await
            .unwrap();
        let before = token_ids(&conn, uid).await;
        assert_eq!(before.len(), 5);
        let deleted = tokens::prune(&conn, uid, 2, 1_500).await.unwrap();
        assert_eq!(deleted, 4);
        assert_eq!(token_ids(&conn, uid).await, before[3..].to_vec());
        assert!(token_ids(&conn, other).await.is_empty());
        assert_eq!(tokens::prune(&conn, uid, 2, 1_500).await.unwrap(), 0);

        assert_eq!(tokens::revoke_all(&conn, uid).await.unwrap(), 2);
        assert!(token_ids(&conn, uid).await.is_empty());
        assert_eq!(tokens::revoke_all(&conn, uid).await.unwrap(), 0);
    }
);

/// 1200 main-room rows (every 100th an admin announcement, every 3rd user row with a
/// client message id) and three direct messages after them.
fn history_rows(alice: i64, bob: i64) -> Vec<NewChatRow> {
    let mut rows: Vec<NewChatRow> = (1..=1200i64)
        .map(|id| {
            let admin = id % 100 == 0;
            NewChatRow {
                id,
                text: format!("message {id}"),
                send_time: 1_000_000 + id,
                level: if admin { LEVEL_ADMIN } else { LEVEL_USER },
                uid: (!admin).then_some(if id % 2 == 0 { bob } else { alice }),
                target_kind: TargetKind::Room,
                target_id: 0,
                client_msg_id: (!admin && id % 3 == 0).then(|| format!("c{id}")),
            }
        })
        .collect();
    rows.extend((1201..=1203).map(|id| NewChatRow {
        id,
        text: format!("dm {id}"),
        send_time: 1_000_000 + id,
        level: LEVEL_USER,
        uid: Some(alice),
        target_kind: TargetKind::User,
        target_id: bob,
        client_msg_id: None,
    }));
    rows
}

fn ids(page: &[history::StoredMessage]) -> Vec<i64> {
    page.iter().map(|m| m.id).collect()
}

db_test!(history_batches_pages_and_client_ids, |tdb| async move {
    let conn = tdb.connect_migrated().await;
    assert_eq!(history::max_id(&conn).await.unwrap(), 0);
    assert_eq!(
        history::room_page(&conn, Cursor::Latest, 10).await.unwrap(),
        (vec![], false)
    );
    let alice = register(&conn, "alice").await;
    let bob = register(&conn, "bob").await;
    let rows = history_rows(alice, bob);

    // A rolled-back batch leaves nothing behind.
    let txn = conn.begin().await.unwrap();
    history::insert_rows(&txn, &rows[..700]).await.unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(history::count_room(&conn).await.unwrap(), 0);

    let txn = conn.begin().await.unwrap();
    history::insert_rows(&txn, &rows).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(history::count_room(&conn).await.unwrap(), 1200);
    assert_eq!(history::max_id(&conn).await.unwrap(), 1203);

    let range = |a: i64, b: i64| (a..=b).collect::<Vec<_>>();
    let (page, more) = history::room_page(&conn, Cursor::Latest, 50).await.unwrap();
    assert_eq!((ids(&page), more), (range(1151, 1200), true));
    let (page, more) = history::room_page(&conn, Cursor::Before(1151), 50)
        .await
        .unwrap();
    assert_eq!((ids(&page), more), (range(1101, 1150), true));
    let (page, more) = history::room_page(&conn, Cursor::Before(51), 50)
        .await
        .unwrap();
    assert_eq!((ids(&page), more), (range(1, 50), false));
    let (page, more) = history::room_page(&conn, Cursor::Before(31), 50)
        .await
        .unwrap();
    assert_eq!((ids(&page), more), (range(1, 30), false));
    let (page, more) = history::room_page(&conn, Cursor::After(0), 10)
        .await
        .unwrap();
    assert_eq!((ids(&page), more), (range(1, 10), true));
    let (page, more) = history::room_page(&conn, Cursor::After(1149), 50)
        .await
        .unwrap();
    assert_eq!((ids(&page), more), (range(1150, 1199), true));
    let (page, more) = history::room_page(&conn, Cursor::After(1150), 50)
        .await
        .unwrap();
    assert_eq!((ids(&page), more), (range(1151, 1200), false));
    let (page, more) = history::room_page(&conn, Cursor::After(1200), 50)
        .await
        .unwrap();
    assert_eq!((ids(&page), more), (vec![], false));

    let (page, _) = history::room_page(&conn, Cursor::Before(102), 3)
        .await
        .unwrap();
    let [m99, m100, m101] = &page[..] else {
        panic!("{page:?}")
    };
    assert_eq!(m99.sender.as_deref(), Some("alice"));
    assert_eq!(
        (m99.text.as_str(), m99.send_time),
        ("message 99", 1_000_099)
    );
    assert_eq!(
        (m99.level, m101.sender.as_deref()),
        (LEVEL_USER, Some("alice"))
    );
    assert_eq!((m100.sender.as_deref(), m100.level), (None, LEVEL_ADMIN));

    let expected: Vec<_> = rows
        .iter()
        .rev()
        .filter_map(|r| {
            Some(history::ClientMessage {
                id: r.id,
                ts: r.send_time,
                uid: r.uid?,
                client_id: r.client_msg_id.clone()?,
                target_kind: r.target_kind,
                target_id: r.target_id,
                text: r.text.clone(),
            })
        })
        .collect();
    assert_eq!(expected[0].id, 1197);
    let newest = history::recent_client_messages(&conn, None, 5)
        .await
        .unwrap();
    assert_eq!(newest, expected[..5]);
    // The next page starts below the last one.
    let below = history::recent_client_messages(&conn, Some(newest[4].id), 3)
        .await
        .unwrap();
    assert_eq!(below, expected[5..8]);
});

db_test!(foreign_keys_are_enforced, |tdb| async move {
    let conn = tdb.connect_migrated().await;
    let row = NewChatRow {
        id: 1,
        text: "ghost".into(),
        send_time: 1,
        level: LEVEL_USER,
        uid: Some(424_242),
        target_kind: TargetKind::Room,
        target_id: 0,
        client_msg_id: None,
    };
    let err = history::insert_rows(&conn, &[row]).await.unwrap_err();
    assert!(
        matches!(
            err.sql_err(),
            Some(SqlErr::ForeignKeyConstraintViolation(_))
        ),
        "{err:?}"
    );
});

/// One PRAGMA's value on one connection, as text.
async fn pragma(c: &mut sea_orm::sqlx::SqliteConnection, name: &str) -> String {
    use sea_orm::sqlx::{self, Row};
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
        .fetch_one(c)
        .await
        .unwrap();
    row.try_get::<String, _>(0)
        .or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pragmas_are_set_on_every_pooled_connection() {
    let tdb = TestDb::create(Backend::Sqlite).await;
    let conn = tdb.connect_migrated().await;
    let pool = conn.get_sqlite_connection_pool();
    // Hold several connections at once so the pool has to open all of them.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(pool.acquire().await.unwrap());
    }
    for c in &mut held {
        assert_eq!(pragma(c, "journal_mode").await, "wal");
        assert_eq!(pragma(c, "synchronous").await, "2");
        assert_eq!(pragma(c, "foreign_keys").await, "1");
        assert_eq!(pragma(c, "busy_timeout").await, "5000");
    }
    drop(held);
    tdb.drop_db().await;
}

// Positions stored beyond the newest message before `read` was clamped (an
// `upto` of 2^63-1 silenced a conversation's offline delivery for good) are
// brought back to the newest message id by a migration; others stay.
db_test!(
    a_migration_brings_positions_beyond_the_newest_message_back,
    |tdb| async move {
        let conn = tdb.connect_migrated().await;
        let alice = register(&conn, "alice").await;
        let bob = register(&conn, "bob").await;
        let rows: Vec<NewChatRow> = (1..=3)
            .map(|id| NewChatRow {
                id,
                text: format!("m{id}"),
                send_time: id,
                level: LEVEL_USER,
                uid: Some(bob),
                target_kind: history::TargetKind::User,
                target_id: alice,
                client_msg_id: None,
            })
            .collect();
        history::insert_rows(&conn, &rows).await.unwrap();
        db::reads::advance(&conn, alice, history::TargetKind::User, bob, i64::MAX)
            .await
            .unwrap();
        db::reads::advance(&conn, bob, history::TargetKind::User, alice, 2)
            .await
            .unwrap();
        // As a database from before the migration: undo it (and those after
        // it), then apply them.
        let all = Migrator::migrations();
        let at = all
            .iter()
            .position(|m| m.name() == "m20261206_000010_clamp_read_positions")
            .unwrap();
        let undo = u32::try_from(all.len() - at).unwrap();
        Migrator::down(&conn, Some(undo)).await.unwrap();
        db::migrate(&conn).await.unwrap();
        let alice_pos = db::reads::positions(&conn, alice, history::TargetKind::User)
            .await
            .unwrap();
        assert_eq!(alice_pos.get(&bob), Some(&3));
        let bob_pos = db::reads::positions(&conn, bob, history::TargetKind::User)
            .await
            .unwrap();
        assert_eq!(bob_pos.get(&alice), Some(&2), "a sound position stays");
    }
);

// A direct conversation is read as its two directions (each one index range)
// and merged: pages hold both sides in id order, never a third user's
// messages, and say rightly whether more follow, going back and forth; a
// note to self is one direction, listed once.
db_test!(
    a_direct_conversation_pages_both_directions_in_order,
    |tdb| async move {
        let conn = tdb.connect_migrated().await;
        let alice = register(&conn, "alice").await;
        let bob = register(&conn, "bob").await;
        let carol = register(&conn, "carol").await;
        // ids 1..=30: alice→bob, bob→alice, carol→bob by id % 3; then two notes
        // to self.
        let who = [(alice, bob), (bob, alice), (carol, bob)];
        let mut rows: Vec<NewChatRow> = (1..=30)
            .map(|id| {
                let (from, to) = who[usize::try_from(id % 3).unwrap()];
                NewChatRow {
                    id,
                    text: format!("m{id}"),
                    send_time: id,
                    level: LEVEL_USER,
                    uid: Some(from),
                    target_kind: history::TargetKind::User,
                    target_id: to,
                    client_msg_id: None,
                }
            })
            .collect();
        for id in [31, 32] {
            rows.push(NewChatRow {
                id,
                text: format!("note {id}"),
                send_time: id,
                level: LEVEL_USER,
                uid: Some(alice),
                target_kind: history::TargetKind::User,
                target_id: alice,
                client_msg_id: None,
            });
        }
        history::insert_rows(&conn, &rows).await.unwrap();
        let pair: Vec<i64> = (1..=30).filter(|id| id % 3 != 2).collect();
        let scope = history::Scope::Direct {
            me: alice,
            peer: bob,
        };
        let ids = |page: &[history::StoredMessage]| page.iter().map(|m| m.id).collect::<Vec<_>>();
        let filters = history::Filters::default();

        let (latest, more) = history::page(&conn, &scope, &filters, Cursor::Latest, 5)
            .await
            .unwrap();
        assert_eq!(ids(&latest), pair[pair.len() - 5..]);
        assert!(more);
        let (older, _) = history::page(&conn, &scope, &filters, Cursor::Before(latest[0].id), 100)
            .await
            .unwrap();
        assert_eq!(ids(&older), pair[..pair.len() - 5]);
        let (newer, more) = history::page(&conn, &scope, &filters, Cursor::After(older[2].id), 4)
            .await
            .unwrap();
        assert_eq!(ids(&newer), pair[3..7]);
        assert!(more);
        let (last, more) = history::page(&conn, &scope, &filters, Cursor::After(pair[15]), 10)
            .await
            .unwrap();
        assert_eq!(ids(&last), pair[16..]);
        assert!(!more);
        assert_eq!(history::newest_id(&conn, &scope).await.unwrap(), 30);

        let notes = history::Scope::Direct {
            me: alice,
            peer: alice,
        };
        let (mine, more) = history::page(&conn, &notes, &filters, Cursor::Latest, 10)
            .await
            .unwrap();
        assert_eq!(ids(&mine), [31, 32]);
        assert!(!more);
        assert_eq!(history::newest_id(&conn, &notes).await.unwrap(), 32);
    }
);

// Offline delivery reads only the direct conversations where the peer's
// newest message to the user lies after the user's read position: never one
// whose newest message is the user's own (a sender with many conversations
// would otherwise read them all at every login), nor notes to self. The
// migration that adds `last_in_id` fills it from the stored history the same.
db_test!(
    unread_conversations_are_those_with_news_from_the_peer,
    |tdb| async move {
        use chatroom_server::db::conversations::{self, Unread};
        use chatroom_server::db::entity::direct_conversation;
        let conn = tdb.connect_migrated().await;
        let [alice, bob, carol, dave] = [
            register(&conn, "alice").await,
            register(&conn, "bob").await,
            register(&conn, "carol").await,
            register(&conn, "dave").await,
        ];
        let dm = |id: i64, from: i64, to: i64| NewChatRow {
            id,
            text: format!("m{id}"),
            send_time: id,
            level: LEVEL_USER,
            uid: Some(from),
            target_kind: TargetKind::User,
            target_id: to,
            client_msg_id: None,
        };
        let store = |rows: Vec<NewChatRow>| {
            let conn = conn.clone();
            async move {
                history::insert_rows(&conn, &rows).await.unwrap();
                conversations::record(&conn, &rows).await.unwrap();
            }
        };
        store(vec![
            dm(1, alice, bob),
            dm(2, bob, alice),
            dm(3, alice, carol),
            dm(4, alice, bob),
            dm(5, carol, dave),
            dm(6, alice, alice),
        ])
        .await;
        // The login's first question, "anything to read?", agrees with the
        // list at every step.
        let unread = |uid: i64| {
            let conn = conn.clone();
            async move {
                let list = conversations::unread_for(&conn, uid).await.unwrap();
                let news = conversations::news_of(&conn, uid).await.unwrap();
                assert_eq!(news.direct, !list.is_empty(), "user {uid}: {list:?}");
                list
            }
        };
        let news = |peer: i64, read_upto: i64| Unread { peer, read_upto };
        assert_eq!(
            unread(alice).await,
            [news(bob, 0)],
            "her own last words are no news"
        );
        assert_eq!(unread(bob).await, [news(alice, 0)]);
        assert_eq!(unread(carol).await, [news(alice, 0)]);
        assert_eq!(unread(dave).await, [news(carol, 0)]);

        db::reads::advance(&conn, alice, TargetKind::User, bob, 2)
            .await
            .unwrap();
        db::reads::advance(&conn, bob, TargetKind::User, alice, 1)
            .await
            .unwrap();
        assert!(unread(alice).await.is_empty());
        assert_eq!(unread(bob).await, [news(alice, 1)], "4 is after 1");
        // Oldest news first.
        store(vec![dm(7, dave, bob), dm(8, bob, alice), dm(9, carol, bob)]).await;
        assert_eq!(unread(alice).await, [news(bob, 2)]);
        assert_eq!(
            unread(bob).await,
            [news(alice, 1), news(dave, 0), news(carol, 0)]
        );

        // Group relations: none yet, then one (a member of carol's group).
        let groups_news = |uid: i64| {
            let conn = conn.clone();
            async move { conversations::news_of(&conn, uid).await.unwrap().groups }
        };
        assert!(!groups_news(dave).await);
        let team = db::groups::create(
            &conn,
            db::groups::NewGroup {
                creator: carol,
                name: "team",
                key: "team",
                private: true,
                comment: None,
                full_history: false,
                now: 10,
            },
            100,
        )
        .await
        .unwrap();
        db::groups::set_relation(&conn, team, dave, db::groups::REL_MEMBER, 11)
            .await
            .unwrap();
        assert!(groups_news(dave).await);
        assert!(!groups_news(alice).await);

        // A database from before the column: undo the migration (the last
        // one) and apply it again; it is filled from the history alike.
        let before: Vec<direct_conversation::Model> = direct_conversation::Entity::find()
            .order_by_asc(direct_conversation::Column::Id)
            .all(&conn)
            .await
            .unwrap();
        let all = Migrator::migrations();
        let at = all
            .iter()
            .position(|m| m.name() == "m20261207_000016_direct_conversation_incoming")
            .unwrap();
        Migrator::down(&conn, Some(u32::try_from(all.len() - at).unwrap()))
            .await
            .unwrap();
        db::migrate(&conn).await.unwrap();
        let after: Vec<direct_conversation::Model> = direct_conversation::Entity::find()
            .order_by_asc(direct_conversation::Column::Id)
            .all(&conn)
            .await
            .unwrap();
        assert_eq!(after, before);
        assert!(after.iter().any(|c| c.last_in_id > 0));
        assert_eq!(unread(alice).await, [news(bob, 2)]);
    }
);
