//! Groups: `group_create`, `group_join`, `group_leave`, `group_approve`,
//! `group_reject` and `group_remove` (the listings `groups` and `group_members`
//! are paged in `lists.rs`).
//!
//! Every change is written to the database first; then the people it concerns who are
//! online hear of it (`group_update`): the group's members, and the user it is about.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    GroupChange, GroupCreate, GroupMemberRef, GroupRef, GroupState, Membership, ServerMessage,
};
use chatroom_shared::rules::{TextError, name_key, validate_name, validate_text};
use tracing::info;

use super::{Flow, Reject, Session};
use crate::db::accounts;
use crate::db::groups::{self, CreateGroupError, Group, NewGroup, Relation};
use crate::group_notices::{info, tell_members, tell_user};
use crate::time::now_ms;
use crate::untrusted::untrusted;

/// What a creator decides about one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Approve,
    Reject,
    Remove,
}

fn not_creator(g: &Group) -> Reject {
    Reject::new(
        ErrorCode::Forbidden,
        format!("only {} (who made {}) can do that", g.creator_name, g.name),
    )
}

impl Session {
    /// The open group named `name`.
    pub(super) async fn open_group(&self, name: &str) -> Result<Group, Reject> {
        let g = groups::find_by_key(&self.ctx.db, &name_key(name.trim()))
            .await?
            .ok_or_else(|| {
                Reject::new(
                    ErrorCode::GroupNotFound,
                    format!("no group is named {name:?}"),
                )
            })?;
        if !g.is_open() {
            return Err(Reject::new(
                ErrorCode::GroupClosed,
                format!("the group {} is closed", g.name),
            ));
        }
        Ok(g)
    }

    async fn count(&self, g: &Group) -> Result<u32, Reject> {
        Ok(groups::member_count(&self.ctx.db, g.id).await?)
    }

    async fn reply_group(&mut self, seq: u32, g: &Group, me: Membership) -> Result<Flow, Reject> {
        let members = self.count(g).await?;
        self.queue(&ServerMessage::GroupState(GroupState {
            seq,
            group: info(g, me, members),
        }));
        Ok(Flow::Continue)
    }

    /// `group_create`.
    pub(super) async fn group_create(&mut self, seq: u32, m: GroupCreate) -> Result<Flow, Reject> {
        let me = self.require_login()?.uid;
        let name = validate_name(&m.name)
            .map_err(|e| Reject::new(ErrorCode::InvalidName, format!("group name: {e}")))?;
        let comment = m.comment.filter(|c| !c.trim().is_empty());
        if let Some(c) = &comment {
            validate_text(c, self.ctx.config.max_message_len).map_err(|e| match e {
                TextError::TooLong { .. } => Reject::new(ErrorCode::TextTooLong, e.to_string()),
                _ => Reject::new(ErrorCode::InvalidText, e.to_string()),
            })?;
        }
        let key = name_key(&name);
        let max = self.ctx.config.max_groups_per_user;
        let new = NewGroup {
            creator: me,
            name: &name,
            key: &key,
            private: m.private,
            comment: comment.as_deref(),
            full_history: m.full_history,
            now: now_ms(),
        };
        match groups::create(&self.ctx.db, new, max).await {
            Ok(id) => info!(id, name = %untrusted(&name), private = m.private, "group created"),
            Err(CreateGroupError::TooMany(n)) => {
                return Err(Reject::new(
                    ErrorCode::TooManyGroups,
                    format!("you already have {n} open groups (at most {max}); leave one first"),
                ));
            }
            Err(CreateGroupError::NameTaken) => {
                return Err(Reject::new(
                    ErrorCode::GroupExists,
                    format!("a group named {name} (or one that looks the same) exists"),
                ));
            }
            Err(CreateGroupError::Db(e)) => return Err(e.into()),
        }
        let g = self.open_group(&name).await?;
        self.reply_group(seq, &g, Membership::Member).await
    }

    /// `group_join`: join a public group, or ask to join a private one.
    pub(super) async fn group_join(&mut self, seq: u32, m: GroupRef) -> Result<Flow, Reject> {
        let l = self.require_login()?;
        let (me, my_name) = (l.uid, l.name.clone());
        let g = self.open_group(&m.group).await?;
        let db = &self.ctx.db;
        let rel = groups::relation(db, g.id, me).await?;
        match rel.map(|r| r.flag) {
            Some(groups::REL_MEMBER) => {
                return Err(Reject::new(
                    ErrorCode::AlreadyMember,
                    format!("you are already a member of {}", g.name),
                ));
            }
            Some(groups::REL_REQUESTED) => {
                return Err(Reject::new(
                    ErrorCode::AlreadyMember,
                    format!(
                        "your request to join {} is waiting for {}",
                        g.name, g.creator_name
                    ),
                ));
            }
            Some(groups::REL_REMOVED) if !g.private => {
                return Err(Reject::new(
                    ErrorCode::Forbidden,
                    format!("{} removed you from {}", g.creator_name, g.name),
                ));
            }
            _ => {}
        }
        let now = now_ms();
        if g.private {
            groups::set_relation(db, g.id, me, groups::REL_REQUESTED, now).await?;
            let ctx = &self.ctx;
            tell_user(
                &ctx.db,
                &ctx.hub,
                &g,
                g.creator,
                Membership::Member,
                GroupChange::Requested,
                Some(&my_name),
            )
            .await?;
            return self.reply_group(seq, &g, Membership::Requested).await;
        }
        groups::set_relation(db, g.id, me, groups::REL_MEMBER, now).await?;
        tell_members(
            &self.ctx.db,
            &self.ctx.hub,
            &g,
            GroupChange::Joined,
            Some(&my_name),
            &[me],
        )
        .await?;
        self.reply_group(seq, &g, Membership::Member).await
    }

    /// `group_leave`: leave (or withdraw a request); the creator leaving closes the group.
    pub(super) async fn group_leave(&mut self, seq: u32, m: GroupRef) -> Result<Flow, Reject> {
        let l = self.require_login()?;
        let (me, my_name) = (l.uid, l.name.clone());
        let mut g = self.open_group(&m.group).await?;
        let db = &self.ctx.db;
        let rel = groups::relation(db, g.id, me).await?;
        if !matches!(
            rel.map(|r| r.flag),
            Some(groups::REL_MEMBER | groups::REL_REQUESTED)
        ) {
            return Err(Reject::new(
                ErrorCode::Forbidden,
                format!("you are not a member of {}", g.name),
            ));
        }
        if g.creator == me {
            groups::close(db, g.id, groups::FLAG_CLOSED).await?;
            g.flag = groups::FLAG_CLOSED;
            info!(group = %untrusted(&g.name), "group closed by its creator");
            tell_members(
                &self.ctx.db,
                &self.ctx.hub,
                &g,
                GroupChange::Closed,
                None,
                &[me],
            )
            .await?;
            // The creator has left it: it no longer shows in their list.
            groups::set_relation(db, g.id, me, groups::REL_LEFT, now_ms()).await?;
            return self.reply_group(seq, &g, Membership::Left).await;
        }
        groups::set_relation(db, g.id, me, groups::REL_LEFT, now_ms()).await?;
        if rel.is_some_and(|r| r.flag == groups::REL_MEMBER) {
            tell_members(
                &self.ctx.db,
                &self.ctx.hub,
                &g,
                GroupChange::Left,
                Some(&my_name),
                &[me],
            )
            .await?;
        }
        self.reply_group(seq, &g, Membership::Left).await
    }

    /// The creator's decision about `m.user`: the group and the user, after checks.
    async fn decide(
        &self,
        m: &GroupMemberRef,
    ) -> Result<(Group, i64, String, Option<Relation>), Reject> {
        let me = self.require_login()?.uid;
        let g = self.open_group(&m.group).await?;
        if g.creator != me {
            return Err(not_creator(&g));
        }
        let db = &self.ctx.db;
        let user = accounts::find_by_key(db, &name_key(m.user.trim()))
            .await?
            .ok_or_else(|| {
                Reject::new(
                    ErrorCode::UserNotFound,
                    format!("no account is named {:?}", m.user),
                )
            })?;
        let rel = groups::relation(db, g.id, user.id).await?;
        Ok((g, user.id, user.name, rel))
    }

    /// `group_approve`: let a user who asked into the group.
    pub(super) async fn group_approve(
        &mut self,
        seq: u32,
        m: GroupMemberRef,
    ) -> Result<Flow, Reject> {
        self.decide_about(seq, m, Decision::Approve).await
    }

    /// `group_reject`: turn a request down.
    pub(super) async fn group_reject(
        &mut self,
        seq: u32,
        m: GroupMemberRef,
    ) -> Result<Flow, Reject> {
        self.decide_about(seq, m, Decision::Reject).await
    }

    /// `group_remove`: the creator removes a member.
    pub(super) async fn group_remove(
        &mut self,
        seq: u32,
        m: GroupMemberRef,
    ) -> Result<Flow, Reject> {
        self.decide_about(seq, m, Decision::Remove).await
    }

    /// The creator's decision about one user: checked, stored, then told to the user
    /// and (for approvals and removals) to the other members.
    async fn decide_about(
        &mut self,
        seq: u32,
        m: GroupMemberRef,
        decision: Decision,
    ) -> Result<Flow, Reject> {
        let (g, uid, name, rel) = self.decide(&m).await?;
        let (needs, flag, me_now, change, members_told) = match decision {
            Decision::Approve => (
                groups::REL_REQUESTED,
                groups::REL_MEMBER,
                Membership::Member,
                GroupChange::Approved,
                Some(GroupChange::Joined),
            ),
            Decision::Reject => (
                groups::REL_REQUESTED,
                groups::REL_REMOVED,
                Membership::Removed,
                GroupChange::Rejected,
                None,
            ),
            Decision::Remove => (
                groups::REL_MEMBER,
                groups::REL_REMOVED,
                Membership::Removed,
                GroupChange::Removed,
                Some(GroupChange::Removed),
            ),
        };
        if decision == Decision::Remove && uid == g.creator {
            return Err(Reject::new(
                ErrorCode::Forbidden,
                "the creator cannot be removed; leaving closes the group",
            ));
        }
        if rel.is_none_or(|r| r.flag != needs) {
            let why = if needs == groups::REL_MEMBER {
                format!("{name} is not a member of {}", g.name)
            } else {
                format!("{name} has not asked to join {}", g.name)
            };
            return Err(Reject::new(ErrorCode::UserNotFound, why));
        }
        groups::set_relation(&self.ctx.db, g.id, uid, flag, now_ms()).await?;
        let me = self.require_login()?.uid;
        let ctx = &self.ctx;
        tell_user(&ctx.db, &ctx.hub, &g, uid, me_now, change, Some(&name)).await?;
        if let Some(change) = members_told {
            tell_members(&ctx.db, &ctx.hub, &g, change, Some(&name), &[me, uid]).await?;
        }
        self.reply_group(seq, &g, Membership::Member).await
    }
}
