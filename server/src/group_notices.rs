//! What the people a group concerns are told when it changes (`group_update`),
//! and the wire form of a group: one implementation for the sessions that
//! change groups and the administrator who closes them.

use chatroom_shared::message::{
    GroupChange, GroupInfo, GroupStatus, GroupUpdate, Membership, ServerMessage,
};
use sea_orm::DatabaseConnection;
use tracing::warn;

use crate::db::groups::{self, Group, Relation};
use crate::delivery::{Audience, Event};
use crate::hub::Hub;
use crate::outbox::encode_event;

/// The wire form of a relation flag.
pub fn membership(rel: Option<Relation>) -> Membership {
    match rel.map(|r| r.flag) {
        Some(groups::REL_REQUESTED) => Membership::Requested,
        Some(groups::REL_MEMBER) => Membership::Member,
        Some(groups::REL_REMOVED) => Membership::Removed,
        Some(groups::REL_LEFT) => Membership::Left,
        _ => Membership::None,
    }
}

/// A group as a user with standing `me` sees it.
pub fn info(g: &Group, me: Membership, members: u32) -> GroupInfo {
    GroupInfo {
        id: g.id,
        name: g.name.clone(),
        creator: g.creator_name.clone(),
        private: g.private,
        comment: g.comment.clone(),
        created: g.created,
        status: match g.flag {
            groups::FLAG_OPEN => GroupStatus::Open,
            groups::FLAG_CLOSED_BY_ADMIN => GroupStatus::ClosedByAdmin,
            _ => GroupStatus::Closed,
        },
        me,
        members,
    }
}

fn update_frame(
    g: &Group,
    me: Membership,
    members: u32,
    change: GroupChange,
    user: Option<&str>,
) -> bytes::Bytes {
    encode_event(&ServerMessage::GroupUpdate(GroupUpdate {
        group: info(g, me, members),
        change,
        user: user.map(str::to_owned),
    }))
}

/// Tell the group's online members, but those in `except`, what changed (about `user`).
pub async fn tell_members(
    db: &DatabaseConnection,
    hub: &Hub,
    g: &Group,
    change: GroupChange,
    user: Option<&str>,
    except: &[i64],
) -> Result<(), sea_orm::DbErr> {
    // One read gives both the count the update carries and who is told.
    let members = crate::recipients::group_members(db, g.id).await?;
    let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
    let to = crate::recipients::all_but(&members, except);
    let me = if g.is_open() {
        Membership::Member
    } else {
        Membership::None
    };
    let frame = update_frame(g, me, count, change, user);
    if !to.is_empty()
        && hub
            .deliver(vec![Event::new(frame, Audience::Only(to))])
            .await
            .is_err()
    {
        warn!("the hub has stopped; group update not sent");
    }
    Ok(())
}

/// Tell one user (if online), whose standing is now `me`, what changed.
pub async fn tell_user(
    db: &DatabaseConnection,
    hub: &Hub,
    g: &Group,
    uid: i64,
    me: Membership,
    change: GroupChange,
    user: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let count = groups::member_count(db, g.id).await?;
    let frame = update_frame(g, me, count, change, user);
    let event = Event::new(frame, Audience::Only(vec![uid]));
    if hub.deliver(vec![event]).await.is_err() {
        warn!("the hub has stopped; group update not sent");
    }
    Ok(())
}
