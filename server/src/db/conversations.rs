//! Direct-message conversations (`direct_conversation`): per user and peer, the
//! newest message between the two. The store's writer records every direct
//! message here in the transaction that stores it ([`record`]), so a page of a
//! user's conversations, newest first ([`page_for`]), is read through the
//! `(uid, last_message_id)` index and costs the same however long the history.

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use super::entity::{base_info, direct_conversation, group_user_relation, read_position};
use super::history::{NewChatRow, TargetKind};

/// Rows per upsert statement: 500 rows x 5 columns, far below every backend's limit.
const ROWS_PER_UPSERT: usize = 500;

/// A conversation as listed: the peer's name and the newest message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The other user's name.
    pub peer: String,
    /// The newest message's id.
    pub last_message_id: i64,
    /// Its send time.
    pub last_at: i64,
}

/// What one side of a conversation learns from a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Newest {
    /// The newest message between the two, either way.
    id: i64,
    /// Its send time.
    at: i64,
    /// The newest message from the peer to this side, if the batch holds one.
    incoming: Option<i64>,
}

/// The `(user, peer)` updates the direct messages among `rows` make: both
/// sides of each, the newest message of each pair, and for the recipient's
/// side the newest message it received.
fn updates(rows: &[NewChatRow]) -> HashMap<(i64, i64), Newest> {
    let mut out: HashMap<(i64, i64), Newest> = HashMap::new();
    for r in rows.iter().filter(|r| r.target_kind == TargetKind::User) {
        let Some(sender) = r.uid else { continue };
        for key in [(sender, r.target_id), (r.target_id, sender)] {
            let newest = out.entry(key).or_insert(Newest {
                id: r.id,
                at: r.send_time,
                incoming: None,
            });
            if r.id > newest.id {
                (newest.id, newest.at) = (r.id, r.send_time);
            }
        }
        if r.target_id != sender
            && let Some(side) = out.get_mut(&(r.target_id, sender))
        {
            side.incoming = side.incoming.max(Some(r.id));
        }
    }
    out
}

/// Whether `rows` hold a direct message (whose commit then records it here).
pub fn any_direct(rows: &[NewChatRow]) -> bool {
    rows.iter().any(|r| r.target_kind == TargetKind::User)
}

/// Record the direct messages among `rows` (just stored, in the same
/// transaction): each side's conversation gets the newest of them.
///
/// A plain upsert is right because each pair's messages are committed in id
/// order (one writer, or in a cluster under the pair's clock, see
/// [`super::clocks`]): a later commit never holds an older message of the
/// same pair.
pub async fn record(db: &impl ConnectionTrait, rows: &[NewChatRow]) -> Result<(), DbErr> {
    use direct_conversation::Column as D;
    let mut all: Vec<((i64, i64), Newest)> = updates(rows).into_iter().collect();
    all.sort_unstable_by_key(|(key, _)| *key);
    // A side that received a message moves `last_in_id` too; the sender's
    // side keeps its own (a statement's upsert updates the same columns for
    // every row, hence two).
    let (received, sent): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|(_, n)| n.incoming.is_some());
    for (sides, columns) in [
        (received, &[D::LastMessageId, D::LastAt, D::LastInId][..]),
        (sent, &[D::LastMessageId, D::LastAt][..]),
    ] {
        for chunk in sides.chunks(ROWS_PER_UPSERT) {
            let models = chunk
                .iter()
                .map(|&((uid, peer), n)| direct_conversation::ActiveModel {
                    uid: Set(uid),
                    peer: Set(peer),
                    last_message_id: Set(n.id),
                    last_at: Set(n.at),
                    last_in_id: Set(n.incoming.unwrap_or(0)),
                    ..Default::default()
                });
            direct_conversation::Entity::insert_many(models)
                .on_conflict(
                    OnConflict::columns([D::Uid, D::Peer])
                        .update_columns(columns.iter().copied())
                        .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(())
}

/// `uid`'s conversations whose newest message is older than `before` (all
/// when `None`), newest first, at most `n`.
pub async fn page_for(
    db: &impl ConnectionTrait,
    uid: i64,
    before: Option<i64>,
    n: usize,
) -> Result<Vec<Listed>, DbErr> {
    use direct_conversation::Column as D;
    let mut query = direct_conversation::Entity::find()
        .select_only()
        .column(base_info::Column::Name)
        .column(D::LastMessageId)
        .column(D::LastAt)
        .join(
            sea_orm::JoinType::InnerJoin,
            direct_conversation::Entity::belongs_to(base_info::Entity)
                .from(D::Peer)
                .to(base_info::Column::Id)
                .into(),
        )
        .filter(D::Uid.eq(uid));
    if let Some(before) = before {
        query = query.filter(D::LastMessageId.lt(before));
    }
    let rows: Vec<(String, i64, i64)> = query
        .order_by_desc(D::LastMessageId)
        .limit(u64::try_from(n).unwrap_or(u64::MAX))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(peer, last_message_id, last_at)| Listed {
            peer,
            last_message_id,
            last_at,
        })
        .collect())
}

/// A conversation of `uid` that holds a message newer than `uid`'s read
/// position in it: the peer, and the position (0 when never read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unread {
    /// The other user.
    pub peer: i64,
    /// `uid`'s read position in the conversation.
    pub read_upto: i64,
}

/// `uid`'s direct conversations (notes to self left out) where the peer's
/// newest message to `uid` lies after `uid`'s read position, oldest news
/// first.
///
/// Offline delivery starts here, so a login reads (in the database) one row
/// per conversation joined with its read position, and then only the unread
/// messages, however many direct messages the user ever received or sent.
pub async fn unread_for(db: &impl ConnectionTrait, uid: i64) -> Result<Vec<Unread>, DbErr> {
    use direct_conversation::Column as D;
    use read_position::Column as R;
    let rows: Vec<(i64, Option<i64>)> = unread(uid)
        .select_only()
        .column(D::Peer)
        .column(R::Upto)
        .order_by_asc(D::LastInId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(peer, upto)| Unread {
            peer,
            read_upto: upto.unwrap_or(0),
        })
        .collect())
}

/// The rows of [`unread_for`]: `uid`'s direct conversations joined with
/// `uid`'s read positions, kept where the peer's newest message lies after
/// the position. Also the test of [`news_of`].
fn unread(uid: i64) -> sea_orm::Select<direct_conversation::Entity> {
    use direct_conversation::Column as D;
    use read_position::Column as R;
    use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
    let position = direct_conversation::Entity::belongs_to(read_position::Entity)
        .from(D::Peer)
        .to(R::TargetId)
        .on_condition(move |_, right| {
            sea_orm::Condition::all()
                .add(Expr::col((right.clone(), R::Uid)).eq(uid))
                .add(Expr::col((right, R::TargetKind)).eq(TargetKind::User.code()))
                .into_condition()
        });
    direct_conversation::Entity::find()
        .join(sea_orm::JoinType::LeftJoin, position.into())
        .filter(D::Uid.eq(uid))
        .filter(D::Peer.ne(uid))
        .filter(
            sea_orm::Condition::any().add(R::Upto.is_null()).add(
                Expr::col((direct_conversation::Entity, D::LastInId))
                    .gt(Expr::col((read_position::Entity, R::Upto))),
            ),
        )
        .filter(D::LastInId.gt(0))
}

/// Whether a user's offline delivery has anything to read: any group
/// relation (a group they made, joined or asked to join), and any direct
/// conversation with news ([`unread_for`] not empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct News {
    /// `uid` has a row in `group_user_relation`.
    pub groups: bool,
    /// A peer wrote to `uid` after `uid`'s read position.
    pub direct: bool,
}

/// [`News`] for `uid`, in one query of two subqueries that each stop at
/// their first row. Most logins (and most resumes after a server restart)
/// are of users with neither, who then make no other offline-delivery query.
pub async fn news_of(db: &impl ConnectionTrait, uid: i64) -> Result<News, DbErr> {
    use sea_orm::sea_query::{Expr, Query, SubQueryStatement};
    let any_group = group_user_relation::Entity::find()
        .select_only()
        .column(group_user_relation::Column::GroupId)
        .filter(group_user_relation::Column::Uid.eq(uid))
        .limit(1)
        .into_query();
    let any_news = unread(uid)
        .select_only()
        .column(direct_conversation::Column::Peer)
        .limit(1)
        .into_query();
    // Scalar subqueries of a BIGINT column (NULL when there is no row) read
    // the same on every backend; EXISTS would be a boolean on one and an
    // integer on the others.
    let query = Query::select()
        .expr_as(Expr::from(SubQueryStatement::from(any_group)), "any_group")
        .expr_as(Expr::from(SubQueryStatement::from(any_news)), "any_news")
        .to_owned();
    let Some(row) = db.query_one(&query).await? else {
        return Ok(News::default());
    };
    Ok(News {
        groups: row.try_get::<Option<i64>>("", "any_group")?.is_some(),
        direct: row.try_get::<Option<i64>>("", "any_news")?.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::history::{LEVEL_USER, TargetKind};

    fn row(id: i64, from: i64, kind: TargetKind, to: i64) -> NewChatRow {
        NewChatRow {
            id,
            text: "x".into(),
            send_time: id * 10,
            level: LEVEL_USER,
            uid: Some(from),
            target_kind: kind,
            target_id: to,
            client_msg_id: None,
        }
    }

    #[test]
    fn each_side_of_a_pair_gets_its_newest_direct_message() {
        let rows = [
            row(1, 1, TargetKind::User, 2),
            row(2, 2, TargetKind::User, 1),
            row(3, 1, TargetKind::Room, 0),
            row(4, 3, TargetKind::User, 3),
        ];
        let got = updates(&rows);
        assert_eq!(got.len(), 3, "{got:?}");
        let newest = |id, incoming| Newest {
            id,
            at: id * 10,
            incoming,
        };
        assert_eq!(got[&(1, 2)], newest(2, Some(2)), "2 wrote to 1 last");
        assert_eq!(got[&(2, 1)], newest(2, Some(1)), "1 wrote to 2 first");
        assert_eq!(
            got[&(3, 3)],
            newest(4, None),
            "a note to self is one row, never news"
        );
        assert!(any_direct(&rows));
        assert!(!any_direct(&rows[2..3]));
    }
}
