//! Listings that come page by page (PROTOCOL §3.4): `file_list`,
//! `game_list`, `group_list`, `member_list` and `conversation_list`.
//!
//! While a page says more follow, the app asks for the next one after the
//! page's cursor, so every file, game, group and member reaches the screen
//! however long the list. Files and direct-message conversations are merged
//! page by page; games, groups and a group's members replace what the app
//! knows, so their pages are gathered in [`Paging`] and taken whole with the
//! last one. (Who is online is paged only as far as the online pane
//! scrolls: `online.rs`.)

use chatroom_shared::message::{
    ConversationList, FileList, GameList, GameView, GroupInfo, GroupList, MemberList,
    ServerMessage, Target,
};

use super::{Action, App};
use crate::net::{ListRequest, NetCommand};

/// The pages gathered so far of the listings whose last page is still to come.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    /// Games of the pages so far.
    pub games: Option<Vec<GameView>>,
    /// Groups of the pages so far.
    pub groups: Option<Vec<GroupInfo>>,
    /// A group's members and waiting users of the pages so far.
    pub members: Option<MemberList>,
}

/// The cursor of the page after this one, when one follows: the server's
/// `next`, or else the last entry's key. An empty page ends the listing, so a
/// confused server cannot keep the app asking for ever.
fn next_cursor<K>(has_more: bool, next: Option<K>, last: Option<K>) -> Option<K> {
    if !has_more {
        return None;
    }
    last.as_ref()?;
    next.or(last)
}

/// Keep the entries of `page` in `so_far`, a later copy of an entry (by `key`)
/// replacing the earlier.
fn gather<T, K: PartialEq>(so_far: &mut Vec<T>, page: Vec<T>, key: impl Fn(&T) -> K) {
    for item in page {
        let k = key(&item);
        so_far.retain(|known| key(known) != k);
        so_far.push(item);
    }
}

fn ask(request: ListRequest) -> Vec<Action> {
    vec![Action::Net(NetCommand::List(request))]
}

impl App {
    /// A page of a listing; `None` when `msg` is something else.
    pub(super) fn on_list_page(&mut self, msg: ServerMessage) -> Option<Vec<Action>> {
        Some(match msg {
            ServerMessage::FileList(list) => self.file_page(list),
            ServerMessage::GameList(list) => self.game_page(list),
            ServerMessage::GroupList(list) => self.group_page(list),
            ServerMessage::MemberList(list) => self.member_page(list),
            ServerMessage::ConversationList(list) => self.conversation_page(list),
            _ => return None,
        })
    }

    /// Files are merged as they come.
    fn file_page(&mut self, list: FileList) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let last = list.files.last().map(|f| f.id);
        let after = next_cursor(list.has_more, list.next, last);
        chat.sharing.add_files(list.files);
        after.map_or_else(Vec::new, |after| {
            ask(ListRequest::Files { after: Some(after) })
        })
    }

    /// Direct-message conversations are listed as they come (newest first,
    /// after those already there), so they are there after a login even with
    /// nothing unread; their messages load when one is shown.
    fn conversation_page(&mut self, list: ConversationList) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let last = list.conversations.last().map(|c| c.last_message_id);
        let after = next_cursor(list.has_more, list.next, last);
        for c in list.conversations {
            chat.convs.open(Target::User { user: c.user });
        }
        after.map_or_else(Vec::new, |after| {
            ask(ListRequest::Conversations { after: Some(after) })
        })
    }

    /// Games are gathered until the last page, then replace the list.
    fn game_page(&mut self, list: GameList) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let last = list.games.last().map(|g| g.id);
        let after = next_cursor(list.has_more, list.next, last);
        let mut games = chat.paging.games.take().unwrap_or_default();
        gather(&mut games, list.games, |g| g.id);
        match after {
            Some(after) => {
                chat.paging.games = Some(games);
                ask(ListRequest::Games { after: Some(after) })
            }
            None => self.games_listed(games),
        }
    }

    /// Groups are gathered until the last page, then replace the list.
    fn group_page(&mut self, list: GroupList) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let last = list.groups.last().map(|g| g.id);
        let after = next_cursor(list.has_more, list.next, last);
        let mut groups = chat.paging.groups.take().unwrap_or_default();
        gather(&mut groups, list.groups, |g| g.name.clone());
        match after {
            Some(after) => {
                chat.paging.groups = Some(groups);
                ask(ListRequest::Groups { after: Some(after) })
            }
            None => {
                self.groups_listed(groups);
                Vec::new()
            }
        }
    }

    /// A group's members are gathered until the last page, then told.
    fn member_page(&mut self, list: MemberList) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let last = list.requests.last().or(list.members.last()).cloned();
        let after = next_cursor(list.has_more, list.next.clone(), last);
        let mut so_far = match chat.paging.members.take() {
            // Pages of another group (asked for meanwhile) are left behind.
            Some(m) if m.group == list.group => m,
            _ => MemberList {
                members: Vec::new(),
                requests: Vec::new(),
                ..list.clone()
            },
        };
        gather(&mut so_far.members, list.members, String::clone);
        gather(&mut so_far.requests, list.requests, String::clone);
        match after {
            Some(after) => {
                let group = so_far.group.clone();
                chat.paging.members = Some(so_far);
                ask(ListRequest::Members {
                    group,
                    after: Some(after),
                })
            }
            None => {
                self.member_list(so_far);
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_starts_after_the_servers_cursor_or_the_last_entry() {
        assert_eq!(next_cursor(true, Some(9), Some(7)), Some(9));
        assert_eq!(next_cursor(true, None, Some(7)), Some(7));
        assert_eq!(next_cursor(false, Some(9), Some(7)), None);
        assert_eq!(next_cursor::<i64>(true, Some(9), None), None, "empty page");
    }

    #[test]
    fn a_later_copy_of_an_entry_replaces_the_earlier() {
        let mut so_far = vec![(1, "a"), (2, "b")];
        gather(&mut so_far, vec![(2, "B"), (3, "c")], |e| e.0);
        assert_eq!(so_far, [(1, "a"), (2, "B"), (3, "c")]);
    }
}
