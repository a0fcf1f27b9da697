//! The clocks cluster nodes commit by: one row per conversation
//! (`conversation_clock`) and one counter of message ids (`id_clock`).
//!
//! A node's writer that shares the database with other nodes commits a batch
//! like this: it locks the clocks of the batch's conversations ([`lock`], in
//! key order, so two writers never wait for each other in a circle), which
//! also tells it each conversation's newest id; takes a run of ids from the
//! counter ([`take_ids`], a short transaction of its own on another
//! connection); stores its messages; moves the clocks on ([`advance`]); and
//! commits. So one conversation's batches commit one at a time, in id order,
//! while batches for other conversations commit at the same moment, and each
//! batch knows the id its messages follow in every conversation it holds.
//!
//! A single server trusts its own memory and touches neither table; a node
//! that starts raises the counter above every stored id ([`raise_ids`]).

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use super::entity::{conversation_clock, id_clock};
use super::history::TargetKind;
use crate::delivery::Conversation;

/// Clocks per statement: 500 rows x 4 columns, far below every backend's limit.
const ROWS_PER_STATEMENT: usize = 500;

/// The conversation a stored message belongs to: its kind, its
/// `chat_history.target_id` and its sender (`None`: an announcement).
pub fn conversation(kind: TargetKind, target_id: i64, sender: Option<i64>) -> Conversation {
    match kind {
        TargetKind::Room => Conversation::Room,
        TargetKind::Group => Conversation::Group(target_id),
        TargetKind::User => Conversation::direct(sender.unwrap_or(target_id), target_id),
    }
}

/// The clock's key columns.
fn key(c: Conversation) -> (i16, i64, i64) {
    match c {
        Conversation::Room => (0, 0, 0),
        Conversation::Group(g) => (1, g, 0),
        Conversation::Direct(a, b) => (2, a, b),
    }
}

fn from_key(kind: i16, a: i64, b: i64) -> Option<Conversation> {
    match kind {
        0 => Some(Conversation::Room),
        1 => Some(Conversation::Group(a)),
        2 => Some(Conversation::Direct(a, b)),
        _ => None,
    }
}

fn rows(items: &[(Conversation, i64)]) -> Vec<conversation_clock::ActiveModel> {
    items
        .iter()
        .map(|&(c, last)| {
            let (kind, a, b) = key(c);
            conversation_clock::ActiveModel {
                kind: Set(kind),
                a: Set(a),
                b: Set(b),
                last_id: Set(last),
            }
        })
        .collect()
}

/// Lock the clocks of `conversations` until the end of the transaction `txn`,
/// creating the missing ones, and return each one's newest message id (0 for
/// a conversation no node has written to). Every writer locks in key order.
pub async fn lock(
    txn: &impl ConnectionTrait,
    conversations: &[Conversation],
) -> Result<HashMap<Conversation, i64>, DbErr> {
    use conversation_clock::Column as C;
    let mut sorted: Vec<Conversation> = conversations.to_vec();
    sorted.sort_unstable_by_key(|c| key(*c));
    sorted.dedup();
    let mut last = HashMap::with_capacity(sorted.len());
    for chunk in sorted.chunks(ROWS_PER_STATEMENT) {
        // An upsert that changes nothing locks every row, the new ones too.
        let touch: Vec<(Conversation, i64)> = chunk.iter().map(|c| (*c, 0)).collect();
        conversation_clock::Entity::insert_many(rows(&touch))
            .on_conflict(
                OnConflict::columns([C::Kind, C::A, C::B])
                    .update_column(C::Kind)
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        // Read after the upsert locked the rows: every earlier writer of these
        // conversations has committed, and a plain read sees its clock (a
        // locking read would also lock the gaps between them on MySQL).
        let mut any = Condition::any();
        for c in chunk {
            let (kind, a, b) = key(*c);
            any = any.add(
                Condition::all()
                    .add(C::Kind.eq(kind))
                    .add(C::A.eq(a))
                    .add(C::B.eq(b)),
            );
        }
        let found: Vec<(i16, i64, i64, i64)> = conversation_clock::Entity::find()
            .select_only()
            .columns([C::Kind, C::A, C::B, C::LastId])
            .filter(any)
            .into_tuple()
            .all(txn)
            .await?;
        for (kind, a, b, id) in found {
            if let Some(c) = from_key(kind, a, b) {
                last.insert(c, id);
            }
        }
    }
    Ok(last)
}

/// Move the clocks on: each conversation's newest message is now `last`
/// (inside the transaction that [`lock`]ed them and stored the messages).
pub async fn advance(
    txn: &impl ConnectionTrait,
    lasts: &[(Conversation, i64)],
) -> Result<(), DbErr> {
    use conversation_clock::Column as C;
    let mut sorted = lasts.to_vec();
    sorted.sort_unstable_by_key(|(c, _)| key(*c));
    for chunk in sorted.chunks(ROWS_PER_STATEMENT) {
        conversation_clock::Entity::insert_many(rows(chunk))
            .on_conflict(
                OnConflict::columns([C::Kind, C::A, C::B])
                    .update_column(C::LastId)
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Longest a cluster node numbers messages from a run of ids after taking
/// it from the counter. So any message sent a while after the counter stood
/// at some value has an id above it: a search index that knew the highest id
/// at that time reads back from there, not from the first message
/// (`search::catch_up`).
pub const RUN_MAX_AGE_MS: i64 = 60_000;

/// Take `n` (≥ 1) new message ids; returns the first of the run. It commits
/// at once (one statement where the database returns updated rows, a short
/// transaction elsewhere), so the counter is held for microseconds, not for
/// the batch's transaction.
pub async fn take_ids(db: &DatabaseConnection, n: i64) -> Result<i64, DbErr> {
    use id_clock::Column as C;
    let update = id_clock::Entity::update_many()
        .col_expr(C::Last, Expr::col(C::Last).add(n))
        .filter(C::Id.eq(1));
    let last = if db.support_returning() {
        update
            .exec_with_returning(db)
            .await?
            .first()
            .map(|m| m.last)
    } else {
        let txn = db.begin().await?;
        update.exec(&txn).await?;
        let last = id_clock::Entity::find_by_id(1)
            .one(&txn)
            .await?
            .map(|m| m.last);
        txn.commit().await?;
        last
    };
    let last = last.ok_or_else(|| {
        DbErr::RecordNotFound("the id_clock row is missing (run the migrations)".into())
    })?;
    Ok(last - n + 1)
}

/// Raise the id counter to at least `stored` (the highest stored id: a single
/// server may have stored messages without it).
pub async fn raise_ids(db: &impl ConnectionTrait, stored: i64) -> Result<(), DbErr> {
    use id_clock::Column as C;
    id_clock::Entity::update_many()
        .col_expr(C::Last, Expr::value(stored))
        .filter(C::Id.eq(1))
        .filter(C::Last.lt(stored))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_direct_conversation_is_the_same_either_way() {
        assert_eq!(
            conversation(TargetKind::User, 7, Some(3)),
            conversation(TargetKind::User, 3, Some(7))
        );
        assert_eq!(
            conversation(TargetKind::User, 4, Some(4)),
            Conversation::Direct(4, 4)
        );
        assert_eq!(conversation(TargetKind::Room, 0, None), Conversation::Room);
        assert_eq!(
            conversation(TargetKind::Group, 9, Some(1)),
            Conversation::Group(9)
        );
    }

    #[test]
    fn keys_go_both_ways() {
        for c in [
            Conversation::Room,
            Conversation::Group(5),
            Conversation::Direct(2, 8),
        ] {
            let (kind, a, b) = key(c);
            assert_eq!(from_key(kind, a, b), Some(c));
        }
        assert_eq!(from_key(7, 0, 0), None);
    }
}
