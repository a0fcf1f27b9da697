//! Who receives what is said in a conversation: one rule for the session that
//! takes a message, the node that reads a lost batch back from the database,
//! and the notices about a group.

use sea_orm::{ConnectionTrait, DbErr};

use crate::db::groups;
use crate::db::history::TargetKind;
use crate::delivery::Audience;

/// The audience of a message `sender` stored in the conversation `kind` /
/// `target`: the room but the sender, the group's members but the sender, or
/// the other side of a direct conversation. The sender is acknowledged instead.
pub async fn of_message(
    db: &impl ConnectionTrait,
    kind: TargetKind,
    target: i64,
    sender: i64,
) -> Result<Audience, DbErr> {
    Ok(match kind {
        TargetKind::Room => Audience::all_but(sender),
        TargetKind::Group => Audience::Only(all_but(&group_members(db, target).await?, &[sender])),
        TargetKind::User => Audience::direct(sender, target),
    })
}

/// The members of `group`, in the order they joined.
pub async fn group_members(db: &impl ConnectionTrait, group: i64) -> Result<Vec<i64>, DbErr> {
    let members = groups::users_with(db, group, groups::REL_MEMBER).await?;
    Ok(members.into_iter().map(|(uid, _)| uid).collect())
}

/// The accounts of `members` but those in `but`, in their order.
pub fn all_but(members: &[i64], but: &[i64]) -> Vec<i64> {
    members
        .iter()
        .copied()
        .filter(|u| !but.contains(u))
        .collect()
}
