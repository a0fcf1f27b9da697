//! The history as the writer's duplicate filter reads it: messages stored
//! with a client message id, the newest first when the filter is loaded at
//! start, or by (sender, client id) when a retry may have come through
//! another node of a cluster.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::TargetKind;
use crate::db::entity::chat_history;

/// A stored message with a client message id, as the writer's duplicate filter
/// needs it: who sent what where, under which client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMessage {
    /// Message id.
    pub id: i64,
    /// Send time, unix milliseconds.
    pub ts: i64,
    /// Sender's account id.
    pub uid: i64,
    /// The sender's client message id.
    pub client_id: String,
    /// Where it went.
    pub target_kind: TargetKind,
    /// Group or user id; 0 for the main room.
    pub target_id: i64,
    /// The text.
    pub text: String,
}

type ClientMessageRow = (i64, i64, Option<i64>, Option<String>, i16, i64, String);

fn client_messages() -> Select<chat_history::Entity> {
    use chat_history::Column as C;
    chat_history::Entity::find()
        .select_only()
        .column(C::Id)
        .column(C::SendTime)
        .column(C::Uid)
        .column(C::ClientMsgId)
        .column(C::TargetKind)
        .column(C::TargetId)
        .column(C::Comment)
        .filter(C::Uid.is_not_null())
        .filter(C::ClientMsgId.is_not_null())
}

fn to_client_message(row: ClientMessageRow) -> Option<ClientMessage> {
    let (id, ts, uid, client_id, target_kind, target_id, text) = row;
    Some(ClientMessage {
        id,
        ts,
        uid: uid?,
        client_id: client_id?,
        target_kind: TargetKind::from_code(target_kind)?,
        target_id,
        text,
    })
}

/// The newest messages stored with a client message id, below id `below` (all when
/// `None`), newest first, at most `limit`: the writer's duplicate filter is loaded
/// from them at start, a page at a time.
pub async fn recent_client_messages(
    db: &impl ConnectionTrait,
    below: Option<i64>,
    limit: u64,
) -> Result<Vec<ClientMessage>, DbErr> {
    let mut q = client_messages();
    if let Some(below) = below {
        q = q.filter(chat_history::Column::Id.lt(below));
    }
    let rows: Vec<ClientMessageRow> = q
        .order_by_desc(chat_history::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(to_client_message).collect())
}

/// The messages stored under these (sender, client message id) pairs among the
/// messages with ids above `above`: a message retried through another node of a
/// cluster is recognised here. Each sender's ids are one range list of the
/// `(uid, client_msg_id)` index, so this costs one probe per key however much
/// the senders sent before.
pub async fn stored_client_messages(
    db: &impl ConnectionTrait,
    keys: &[(i64, String)],
    above: i64,
) -> Result<Vec<ClientMessage>, DbErr> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_sender: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
    for (uid, client_id) in keys {
        by_sender.entry(*uid).or_default().push(client_id.clone());
    }
    let mut any = Condition::any();
    for (uid, ids) in by_sender {
        any = any.add(
            Condition::all()
                .add(chat_history::Column::Uid.eq(uid))
                .add(chat_history::Column::ClientMsgId.is_in(ids)),
        );
    }
    // The id bound is applied to the rows found, not in the statement: with it
    // there, a database without fresh statistics may read the senders' rows
    // through `(uid, id)` instead of probing `(uid, client_msg_id)`.
    let rows: Vec<ClientMessageRow> = client_messages()
        .filter(any)
        .into_tuple::<ClientMessageRow>()
        .all(db)
        .await?
        .into_iter()
        .filter(|row| row.0 > above)
        .collect();
    let wanted: std::collections::HashSet<(i64, &str)> =
        keys.iter().map(|(u, c)| (*u, c.as_str())).collect();
    Ok(rows
        .into_iter()
        .filter_map(to_client_message)
        .filter(|m| wanted.contains(&(m.uid, m.client_id.as_str())))
        .collect())
}
