//! The main screen's state: the conversations (each with its message list),
//! who is online, the side panes, the connection, and which pane has the
//! focus.
//!
//! Stored messages go into their conversation through
//! [`ChatView::receive`]; notices from the client itself go to the
//! conversation on screen ([`ChatView::notice`]), presence and room events to
//! the main room. Who is online is its own state ([`Online`]).

use chatroom_shared::UnixMillis;
use chatroom_shared::message::ChatMessage;

use super::compose::Compose;
use super::conversations::Conversations;
use super::entry::Entry;
use super::files::Sharing;
use super::games::Games;
use super::log::MessageLog;
use super::online::Online;
use super::paging::Paging;
use super::search::SearchView;

/// The main screen's panes, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The input box.
    Input,
    /// The message list (arrows scroll).
    Messages,
    /// The conversations (room, groups, direct messages) and join requests.
    Conversations,
    /// Online users.
    Users,
    /// Shared files.
    Files,
    /// Game invitations.
    Invites,
    /// The tic-tac-toe board, while a game is on it.
    Board,
}

impl Focus {
    const ORDER: [Self; 7] = [
        Self::Input,
        Self::Messages,
        Self::Conversations,
        Self::Users,
        Self::Files,
        Self::Invites,
        Self::Board,
    ];

    /// The next (or previous) pane in Tab order.
    pub fn step(self, forward: bool) -> Self {
        super::cycle(&Self::ORDER, self, forward)
    }
}

/// The state of the connection, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Logged in.
    Online,
    /// Trying to get back (attempt number). (A session over for good goes
    /// back to the login form.)
    Reconnecting(u32),
}

/// The main screen.
#[derive(Debug, Clone)]
pub struct ChatView {
    /// Who this client is logged in as.
    pub me: String,
    /// `HOST:PORT`.
    pub server: String,
    /// The room, groups and direct messages, and which one is shown.
    pub convs: Conversations,
    /// Who is online: the count, the list (or a window of it), the
    /// selection, finding, watching.
    pub online: Online,
    /// Selected row in the files pane.
    pub selected_file: usize,
    /// Which pane has the focus.
    pub focus: Focus,
    /// The input box.
    pub compose: Compose,
    /// The connection.
    pub connection: Connection,
    /// Shared files, transfers and the save/upload prompt.
    pub sharing: Sharing,
    /// Game invitations, games in play, and the board.
    pub games: Games,
    /// Search results, while they are open.
    pub search: Option<SearchView>,
    /// When the user was last told that messages wait for the server's
    /// storage (Unix milliseconds), so the notice is not repeated for each.
    pub delay_noticed: Option<UnixMillis>,
    /// Who was online when the connection dropped and is not online again yet,
    /// and until when their return is not news: a server restart drops
    /// everyone without a "left", and each one coming back must not read as
    /// "[name] joined the chat room" a second time.
    pub returning: Returning,
    /// Listings whose pages are still coming.
    pub paging: Paging,
    /// The last key was a Tab that found nothing to complete in the draft:
    /// the input says so (the focus stays there).
    pub tab_found_nothing: bool,
}

/// Who may come back after a reconnect without a "joined" notice.
#[derive(Debug, Clone, Default)]
pub struct Returning {
    /// Online before the connection dropped, not online again yet.
    pub names: Vec<String>,
    /// Until when (Unix milliseconds) their return is not news.
    pub until: UnixMillis,
}

impl ChatView {
    /// A fresh main screen after logging in, with who is online as the
    /// login said.
    pub fn new(me: &str, server: &str, online: Online) -> Self {
        Self {
            me: me.to_owned(),
            server: server.to_owned(),
            convs: Conversations::default(),
            online,
            selected_file: 0,
            focus: Focus::Input,
            compose: Compose::new(),
            connection: Connection::Online,
            sharing: Sharing::default(),
            games: Games::default(),
            search: None,
            delay_noticed: None,
            returning: Returning::default(),
            paging: Paging::default(),
            tab_found_nothing: false,
        }
    }

    /// The pane after (or before) the focused one in Tab order, among those
    /// `on_screen` says are shown (the input always is).
    pub fn step_focus(&self, forward: bool, on_screen: impl Fn(Focus) -> bool) -> Focus {
        let mut next = self.focus.step(forward);
        while next != Focus::Input && !on_screen(next) {
            next = next.step(forward);
        }
        next
    }

    /// The message list on screen.
    pub fn log(&self) -> &MessageLog {
        &self.convs.shown().log
    }

    /// The message list on screen, to change.
    pub fn log_mut(&mut self) -> &mut MessageLog {
        &mut self.convs.shown_mut().log
    }

    /// Own messages waiting for their ack in the list on screen, as the
    /// entries shown after its stored ones.
    pub fn pending_entries(&self, now: UnixMillis) -> Vec<Entry> {
        self.log().pending_entries(&self.me, now)
    }

    /// True when `text` names this user (as a word, ignoring case, `@` optional).
    pub fn mentions_me(&self, text: &str) -> bool {
        super::log::mentions(&self.me, text)
    }

    /// A stored message into its conversation, once; `live` ones count as
    /// unread when not shown. True when it is new.
    pub fn receive(&mut self, m: &ChatMessage, live: bool) -> bool {
        self.convs.receive(m, &self.me, live)
    }

    /// Append an entry to the main room (joins, leaves, shared files).
    pub fn push_room(&mut self, entry: Entry) {
        self.convs.room_mut().log.push(entry);
    }

    /// Add a note from the client itself, in the conversation on screen.
    pub fn notice(&mut self, ts: UnixMillis, text: impl Into<String>) {
        self.log_mut().notice(ts, text);
    }

    /// The connection came back with `online` online: who was listed
    /// before and is not now may come back within `RETURN_WINDOW_MS` of
    /// `now` without a notice.
    pub fn reconnected(&mut self, online: Online, now: UnixMillis) {
        let missing = self
            .online
            .names()
            .filter(|name| *name != self.me && !online.is_listed(name))
            .map(str::to_owned)
            .collect();
        self.returning = Returning {
            names: missing,
            until: now.saturating_add(RETURN_WINDOW_MS),
        };
        self.online = online;
    }

    /// `name` joined at `now`: whether to say so (not when they are coming
    /// back after a reconnect).
    pub fn join_is_news(&mut self, name: &str, now: UnixMillis) -> bool {
        let r = &mut self.returning;
        match r.names.iter().position(|n| n == name) {
            Some(i) => {
                r.names.swap_remove(i);
                now > r.until
            }
            None => true,
        }
    }

    /// Someone went offline: their return is news again.
    pub fn user_left(&mut self, name: &str) {
        self.returning.names.retain(|n| n != name);
        self.online.left(name);
    }
}

/// How long after a reconnect those who were online before may come back
/// without a "joined" notice: a restarted server takes them all back within
/// seconds (8,000 users in 4.7 s, docs/BENCHMARKS.md).
pub const RETURN_WINDOW_MS: UnixMillis = 60_000;

#[cfg(test)]
mod tests {
    use chatroom_shared::message::{MessageKind, OnlineUser, Target};

    use super::*;

    fn msg(id: i64, from: &str, to: Target) -> ChatMessage {
        ChatMessage {
            id,
            ts: 1_000 * id,
            kind: MessageKind::Message,
            from: from.into(),
            text: "x".into(),
            to,
        }
    }

    #[test]
    fn messages_go_to_their_conversation_and_notices_to_the_shown_one() {
        let mut v = ChatView::new("me", "h:1", Online::from_login(vec![], 0, None));
        assert!(v.receive(&msg(1, "bob", Target::Room), true));
        let dm = Target::User { user: "me".into() };
        assert!(v.receive(&msg(2, "bob", dm), true));
        v.convs.show(Target::User { user: "bob".into() });
        v.notice(0, "hello");
        let ids: Vec<_> = v.log().entries().iter().map(|e| e.id).collect();
        assert_eq!(ids, [Some(2), None]);
        assert_eq!(v.convs.all()[0].log.entries().len(), 1);
    }

    #[test]
    fn presence_list_follows_joins_and_leaves() {
        let mut v = ChatView::new("me", "h:1", Online::from_login(vec![], 0, None));
        let user = |name: &str, since| OnlineUser {
            name: name.into(),
            since,
        };
        v.online.joined(user("bob", 1));
        v.online.joined(user("bob", 2));
        v.online.joined(user("carol", 3));
        assert_eq!((v.online.list.len(), v.online.count()), (2, 2));
        v.online.list.selected = 1;
        v.user_left("carol");
        assert_eq!((v.online.list.len(), v.online.count()), (1, 1));
        assert_eq!(v.online.list.selected, 0);
    }

    #[test]
    fn focus_cycles_through_every_pane() {
        let mut f = Focus::Input;
        for _ in 0..7 {
            f = f.step(true);
        }
        assert_eq!(f, Focus::Input);
        assert_eq!(Focus::Input.step(false), Focus::Board);
    }

    #[test]
    fn tab_order_skips_the_panes_not_on_screen() {
        let mut v = ChatView::new("me", "h:1", Online::from_login(vec![], 0, None));
        let no_board = |f: Focus| f != Focus::Board;
        v.focus = Focus::Invites;
        assert_eq!(v.step_focus(true, no_board), Focus::Input);
        v.focus = Focus::Input;
        assert_eq!(v.step_focus(false, no_board), Focus::Invites);
        let narrow = |f: Focus| matches!(f, Focus::Input | Focus::Messages | Focus::Board);
        assert_eq!(v.step_focus(false, narrow), Focus::Board);
        v.focus = Focus::Messages;
        assert_eq!(v.step_focus(true, narrow), Focus::Board);
    }
}
