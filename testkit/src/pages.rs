//! Paging through a listing (PROTOCOL §3.4) as a test does: every page
//! checked for its cursor and for the size of its frame.

use chatroom_shared::message::{
    ClientMessage, FileInfo, GameView, GroupInfo, OnlineUser, ServerMessage,
};
use chatroom_shared::{MAX_LIST_PAGE_BYTES, MAX_SERVER_FRAME};

use crate::client::TestClient;

/// What a page's frame may hold besides its entries: the reply's own fields.
pub const ENVELOPE: usize = 4096;

/// One page as a test sees it: the entries, `has_more` and `next`.
pub struct Got<T, C> {
    /// The entries.
    pub items: Vec<T>,
    /// More follow.
    pub has_more: bool,
    /// The cursor of the next page.
    pub next: Option<C>,
}

/// Page through a listing from its start: `ask` makes the request for a
/// cursor, `got` reads a reply. Checks that each page but the last says more
/// follow with the cursor of its last entry (`key`), and that each reply frame
/// stays within a page's byte budget. Returns the pages.
pub async fn page_through<T, C: Clone + PartialEq + std::fmt::Debug>(
    c: &mut TestClient,
    ask: impl Fn(Option<C>) -> ClientMessage,
    got: impl Fn(ServerMessage) -> Got<T, C>,
    key: impl Fn(&T) -> C,
) -> Vec<Vec<T>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        c.largest_frame = 0;
        let page = got(c.request(ask(after.clone())).await);
        assert!(
            c.largest_frame <= MAX_LIST_PAGE_BYTES as usize + ENVELOPE,
            "a page of {} bytes",
            c.largest_frame
        );
        assert!(c.largest_frame < MAX_SERVER_FRAME);
        assert!(pages.len() < 10_000, "paging does not end");
        if !page.has_more {
            assert_eq!(page.next, None, "no cursor on the last page");
            pages.push(page.items);
            return pages;
        }
        let last = page.items.last().map(&key);
        assert!(last.is_some(), "a page saying more follow is not empty");
        assert_eq!(page.next, last, "the cursor is the last entry's");
        after = page.next;
        pages.push(page.items);
    }
}

/// A `file_list` page.
pub fn file_page(m: ServerMessage) -> Got<FileInfo, i64> {
    match m {
        ServerMessage::FileList(l) => Got {
            items: l.files,
            has_more: l.has_more,
            next: l.next,
        },
        other => panic!("files: {other:?}"),
    }
}

/// A `group_list` page.
pub fn group_page(m: ServerMessage) -> Got<GroupInfo, i64> {
    match m {
        ServerMessage::GroupList(l) => Got {
            items: l.groups,
            has_more: l.has_more,
            next: l.next,
        },
        other => panic!("groups: {other:?}"),
    }
}

/// A `game_list` page.
pub fn game_page(m: ServerMessage) -> Got<GameView, i64> {
    match m {
        ServerMessage::GameList(l) => Got {
            items: l.games,
            has_more: l.has_more,
            next: l.next,
        },
        other => panic!("games: {other:?}"),
    }
}

/// A `user_list` page.
pub fn user_page(m: ServerMessage) -> Got<OnlineUser, String> {
    match m {
        ServerMessage::UserList(l) => Got {
            items: l.users,
            has_more: l.has_more,
            next: l.next,
        },
        other => panic!("users: {other:?}"),
    }
}

/// A member list's entry: the name, and whether it waits for approval.
pub fn member_page(m: ServerMessage) -> Got<(String, bool), String> {
    match m {
        ServerMessage::MemberList(l) => {
            // A page's members come before its waiting users.
            let mut items: Vec<(String, bool)> =
                l.members.into_iter().map(|n| (n, false)).collect();
            items.extend(l.requests.into_iter().map(|n| (n, true)));
            Got {
                items,
                has_more: l.has_more,
                next: l.next,
            }
        }
        other => panic!("group_members: {other:?}"),
    }
}
