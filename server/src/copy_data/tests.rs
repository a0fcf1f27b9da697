//! The copy between two SQLite files, in-process: what it copies, how it
//! checks, and what it refuses. The real binary onto PostgreSQL and MariaDB
//! is tested in `tests/binary/copy_data.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};

use super::*;
use crate::db::entity::{base_info, chat_history, conversation_clock, id_clock};

fn url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}?mode=rwc", dir.join(name).display())
}

async fn account(db: &DatabaseConnection, name: &str) -> i64 {
    base_info::ActiveModel {
        name: Set(name.into()),
        name_key: Set(name.as_bytes().to_vec()),
        password: Set("hash".into()),
        address: Set("127.0.0.1".into()),
        register_time: Set(1),
        nickname: Set(None),
        last_address: Set(None),
        last_login_time: Set(Some(2)),
        login_count: Set(3),
        flag: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

/// A source with two accounts, one deleted in between (so ids have a gap),
/// three messages, a conversation clock and the id counter moved.
async fn source(dir: &Path) -> String {
    let from = url(dir, "from.db");
    let db = db::connect(&from).await.unwrap();
    db::migrate(&db).await.unwrap();
    let alice = account(&db, "alice").await;
    let gone = account(&db, "gone").await;
    base_info::Entity::delete_by_id(gone)
        .exec(&db)
        .await
        .unwrap();
    let bob = account(&db, "bob").await;
    for (id, text) in [(1, "hello"), (2, "ünïcode ✓"), (5, "")] {
        chat_history::ActiveModel {
            id: Set(id),
            comment: Set(text.into()),
            send_time: Set(10 + id),
            level: Set(0),
            uid: Set(Some(if id == 2 { bob } else { alice })),
            target_kind: Set(0),
            target_id: Set(0),
            client_msg_id: Set(None),
        }
        .insert(&db)
        .await
        .unwrap();
    }
    conversation_clock::ActiveModel {
        kind: Set(2),
        a: Set(alice),
        b: Set(bob),
        last_id: Set(5),
    }
    .insert(&db)
    .await
    .unwrap();
    id_clock::ActiveModel {
        id: Set(1),
        last: Set(5),
    }
    .update(&db)
    .await
    .unwrap();
    db.close().await.unwrap();
    from
}

async fn run(from: &str, to: &str) -> (Result<Copied, CopyError>, Vec<Progress>) {
    let mut seen = Vec::new();
    let got = copy(from, to, 2, &mut |p: &Progress| seen.push(p.clone())).await;
    (got, seen)
}

#[tokio::test]
async fn every_table_is_copied_with_its_ids_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path()).await;
    let to = url(dir.path(), "to.db");
    let (got, seen) = run(&from, &to).await;
    let copied = got.unwrap();
    assert_eq!(copied.tables.len(), tables::TABLES.len());
    // Two accounts, three messages, one clock, the counter's row.
    assert_eq!(copied.rows(), 2 + 3 + 1 + 1);
    let verified = seen
        .iter()
        .filter(|p| matches!(p, Progress::Verified { .. }))
        .count();
    assert_eq!(verified, tables::TABLES.len());
    assert!(seen.contains(&Progress::Copied {
        table: "chat_history",
        copied: 3,
        rows: 3
    }));

    let db = db::connect(&to).await.unwrap();
    let names: Vec<(i64, String)> = base_info::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    assert_eq!(names, [(1, "alice".into()), (3, "bob".into())]);
    let clock = id_clock::Entity::find_by_id(1).one(&db).await.unwrap();
    assert_eq!(clock.map(|c| c.last), Some(5));
    // A new account gets an id past the copied ones.
    assert_eq!(account(&db, "carol").await, 4);
}

#[tokio::test]
async fn a_target_with_rows_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path()).await;
    let to = url(dir.path(), "to.db");
    run(&from, &to).await.0.unwrap();
    let err = run(&from, &to).await.0.unwrap_err();
    assert!(
        matches!(
            err,
            CopyError::NotEmpty {
                table: "base_info",
                rows: 2
            }
        ),
        "{err}"
    );

    // A target whose only row is the counter moved is not empty either.
    let other = url(dir.path(), "other.db");
    let db = db::connect(&other).await.unwrap();
    db::migrate(&db).await.unwrap();
    id_clock::ActiveModel {
        id: Set(1),
        last: Set(9),
    }
    .update(&db)
    .await
    .unwrap();
    let err = run(&from, &other).await.0.unwrap_err();
    assert!(
        matches!(
            err,
            CopyError::NotEmpty {
                table: "id_clock",
                rows: 1
            }
        ),
        "{err}"
    );
    assert!(base_info::Entity::find().all(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_freshly_migrated_target_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path()).await;
    let to = url(dir.path(), "to.db");
    let db = db::connect(&to).await.unwrap();
    db::migrate(&db).await.unwrap();
    db.close().await.unwrap();
    assert_eq!(run(&from, &to).await.0.unwrap().rows(), 7);
}

#[tokio::test]
async fn a_database_is_not_copied_onto_itself() {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path()).await;
    let same = format!("sqlite:{}/./from.db", dir.path().display());
    let err = run(&from, &same).await.0.unwrap_err();
    assert!(matches!(err, CopyError::SameDatabase), "{err}");
}

#[tokio::test]
async fn a_missing_or_foreign_source_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let to = url(dir.path(), "to.db");
    let err = run(&url(dir.path(), "typo.db"), &to).await.0.unwrap_err();
    assert!(matches!(err, CopyError::NoSource(_)), "{err}");
    assert!(!dir.path().join("typo.db").exists());

    let other = url(dir.path(), "other.db");
    let db = db::connect(&other).await.unwrap();
    db.close().await.unwrap();
    let err = run(&other, &to).await.0.unwrap_err();
    assert!(matches!(err, CopyError::NotChatroom), "{err}");
}
