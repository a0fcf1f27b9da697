//! The listings: `files`, `groups`, `group_members`, `games`, `users` and
//! `conversations`, each
//! answered with one page in the one shape of [`crate::paging`] (PROTOCOL §3.4).
//!
//! Each handler asks its source for at most one entry more than the page, after
//! the request's cursor (the database by an indexed keyset, the game table and
//! the hub by a range of an ordered map), so a request costs in proportion to
//! its page, never to how long the list has grown.

use chatroom_shared::ErrorCode;
use chatroom_shared::MAX_LIST_PAGE_BYTES;
use chatroom_shared::message::{
    ConversationList, Conversations, DirectConversation, FileList, Files, GameList, Games,
    GroupList, GroupMembers, Groups, MemberList, ServerMessage, UnwatchOk, UserList, Users,
    WatchUsers,
};
use chatroom_shared::rules::name_key;

use super::{Flow, Reject, Session};
use crate::db::{accounts, conversations, files, group_pages, groups};
use crate::files::to_info;
use crate::group_notices::{info, membership};
use crate::hub::{PageOf, UsersPage};
use crate::paging::{Page, json_len, page_size};

/// One entry of a group's member list: a member, or a user waiting for approval.
#[derive(Debug)]
struct Entry {
    name: String,
    waiting: bool,
}

/// Where a `group_members` page starts.
enum StartAt {
    /// At the first member.
    Start,
    /// After this place (`since`, row id) among the members.
    Member((i64, i64)),
    /// After this place among the users waiting for approval.
    Waiting((i64, i64)),
}

impl Session {
    /// `files`: a page of the shared files, oldest first.
    pub(super) async fn files(&mut self, seq: u32, m: Files) -> Result<Flow, Reject> {
        self.require_login()?;
        let size = page_size(m.limit);
        let stored = files::page(&self.ctx.db, m.after, size + 1).await?;
        let page = Page::cut(stored.iter().map(to_info).collect(), size);
        self.queue(&ServerMessage::FileList(FileList {
            seq,
            next: page.next(|f| f.id),
            has_more: page.has_more,
            files: page.items,
        }));
        Ok(Flow::Continue)
    }

    /// `groups`: a page of every open group and the closed ones the user was in.
    pub(super) async fn groups(&mut self, seq: u32, m: Groups) -> Result<Flow, Reject> {
        let me = self.require_login()?.uid;
        let db = &self.ctx.db;
        let size = page_size(m.limit);
        let seen = group_pages::page_for(db, me, m.after, size + 1).await?;
        let ids: Vec<i64> = seen.iter().map(|(g, _)| g.id).collect();
        let counts = groups::member_counts(db, &ids).await?;
        let list = seen
            .iter()
            .map(|(g, rel)| {
                let members = counts.get(&g.id).copied().unwrap_or(0);
                info(g, membership(*rel), members)
            })
            .collect();
        let page = Page::cut(list, size);
        self.queue(&ServerMessage::GroupList(GroupList {
            seq,
            next: page.next(|g| g.id),
            has_more: page.has_more,
            groups: page.items,
        }));
        Ok(Flow::Continue)
    }

    /// `group_members`: a page of the members in the order they joined, and
    /// after them (for the creator) of the users waiting for approval.
    pub(super) async fn group_members(
        &mut self,
        seq: u32,
        m: GroupMembers,
    ) -> Result<Flow, Reject> {
        let me = self.require_login()?.uid;
        let g = self.open_group(&m.group).await?;
        let db = &self.ctx.db;
        let rel = groups::relation(db, g.id, me).await?;
        if g.private && rel.is_none_or(|r| r.flag != groups::REL_MEMBER) {
            return Err(Reject::new(
                ErrorCode::Forbidden,
                format!(
                    "{} is a private group: only its members see who is in it",
                    g.name
                ),
            ));
        }
        let creator = g.creator == me;
        let from = match &m.after {
            None => StartAt::Start,
            Some(name) => self.member_cursor(g.id, name).await?,
        };
        // Where to read each part from (`None`: that part is behind the cursor).
        let (members_after, waiting_after) = match from {
            StartAt::Start => (Some(None), Some(None)),
            StartAt::Member(place) => (Some(Some(place)), Some(None)),
            StartAt::Waiting(place) => (None, Some(Some(place))),
        };
        let size = page_size(m.limit);
        let mut entries = Vec::new();
        if let Some(after) = members_after {
            let members =
                group_pages::users_page(db, g.id, groups::REL_MEMBER, after, size + 1).await?;
            entries.extend(members.into_iter().map(|(_, name)| Entry {
                name,
                waiting: false,
            }));
        }
        if let Some(after) = waiting_after.filter(|_| creator && entries.len() <= size) {
            let n = size + 1 - entries.len();
            let waiting =
                group_pages::users_page(db, g.id, groups::REL_REQUESTED, after, n).await?;
            entries.extend(waiting.into_iter().map(|(_, name)| Entry {
                name,
                waiting: true,
            }));
        }
        let budget = MAX_LIST_PAGE_BYTES as usize;
        let page = Page::cut_with(entries, size, budget, |e| json_len(&e.name));
        let next = page.next(|e| e.name.clone());
        let (waiting, members): (Vec<Entry>, Vec<Entry>) =
            page.items.into_iter().partition(|e| e.waiting);
        self.queue(&ServerMessage::MemberList(MemberList {
            seq,
            group: g.name,
            members: members.into_iter().map(|e| e.name).collect(),
            requests: waiting.into_iter().map(|e| e.name).collect(),
            has_more: page.has_more,
            next,
        }));
        Ok(Flow::Continue)
    }

    /// Where the entry named `name` (the `next` of an earlier page) stands in
    /// the group's lists.
    async fn member_cursor(&self, group: i64, name: &str) -> Result<StartAt, Reject> {
        let db = &self.ctx.db;
        let unknown = || {
            Reject::new(
                ErrorCode::InvalidCursor,
                format!("{name:?} is not in this group's lists: send the `next` of a page"),
            )
        };
        let account = accounts::find_by_key(db, &name_key(name.trim()))
            .await?
            .ok_or_else(unknown)?;
        let place = group_pages::place(db, group, account.id)
            .await?
            .ok_or_else(unknown)?;
        // Someone who left or was removed since keeps their place among the members.
        Ok(if place.flag == groups::REL_REQUESTED {
            StartAt::Waiting((place.since, place.id))
        } else {
            StartAt::Member((place.since, place.id))
        })
    }

    /// `games`: a page of the open invitations and games in play, oldest first.
    pub(super) async fn games(&mut self, seq: u32, m: Games) -> Result<Flow, Reject> {
        self.require_login()?;
        let size = page_size(m.limit);
        let games = self
            .ctx
            .games
            .list(m.after, size + 1)
            .await
            .map_err(|(code, message)| Reject::new(code, message))?;
        let page = Page::cut(games, size);
        self.queue(&ServerMessage::GameList(GameList {
            seq,
            next: page.next(|g| g.id),
            has_more: page.has_more,
            games: page.items,
        }));
        Ok(Flow::Continue)
    }

    /// `users`: a page of who is online now, by name.
    pub(super) async fn users(&mut self, seq: u32, m: Users) -> Result<Flow, Reject> {
        self.require_login()?;
        let size = page_size(m.limit);
        let found = self
            .ctx
            .hub
            .users(PageOf {
                after: m.after,
                prefix: m.prefix,
                n: size + 1,
            })
            .await
            .map_err(|e| Reject::new(ErrorCode::ShuttingDown, e.to_string()))?;
        self.queue_users(seq, found, size);
        Ok(Flow::Continue)
    }

    /// `watch_users`: a page of who is online, and `presence` events for the
    /// names it spans from now on (PROTOCOL §18.1).
    pub(super) async fn watch_users(&mut self, seq: u32, m: WatchUsers) -> Result<Flow, Reject> {
        let uid = self.require_login()?.uid;
        let size = page_size(m.limit);
        let page = PageOf {
            after: m.after,
            prefix: None,
            n: size + 1,
        };
        let found = self
            .ctx
            .hub
            .watch(uid, self.id, Some(page))
            .await
            .map_err(|e| Reject::new(ErrorCode::ShuttingDown, e.to_string()))?;
        self.queue_users(seq, found, size);
        Ok(Flow::Continue)
    }

    /// `unwatch_users`: no more `presence` events.
    pub(super) async fn unwatch_users(&mut self, seq: u32) -> Result<Flow, Reject> {
        let uid = self.require_login()?.uid;
        self.ctx
            .hub
            .watch(uid, self.id, None)
            .await
            .map_err(|e| Reject::new(ErrorCode::ShuttingDown, e.to_string()))?;
        self.queue(&ServerMessage::UnwatchOk(UnwatchOk { seq }));
        Ok(Flow::Continue)
    }

    /// Send a page of the online list as `user_list`.
    fn queue_users(&mut self, seq: u32, found: UsersPage, size: usize) {
        let page = Page::cut(found.users, size);
        self.queue(&ServerMessage::UserList(UserList {
            seq,
            next: page.next(|u| u.name.clone()),
            has_more: page.has_more,
            users: page.items,
            online_count: found.online_count,
        }));
    }

    /// `conversations`: a page of the user's direct-message conversations,
    /// the one with the newest message first.
    pub(super) async fn conversations(
        &mut self,
        seq: u32,
        m: Conversations,
    ) -> Result<Flow, Reject> {
        let me = self.require_login()?.uid;
        let size = page_size(m.limit);
        let listed = conversations::page_for(&self.ctx.db, me, m.after, size + 1).await?;
        let list = listed
            .into_iter()
            .map(|c| DirectConversation {
                user: c.peer,
                last_message_id: c.last_message_id,
                last_at: c.last_at,
            })
            .collect();
        let page = Page::cut(list, size);
        self.queue(&ServerMessage::ConversationList(ConversationList {
            seq,
            next: page.next(|c| c.last_message_id),
            has_more: page.has_more,
            conversations: page.items,
        }));
        Ok(Flow::Continue)
    }
}
