//! Loading a conversation's history: the newest page when a conversation is
//! first shown, older pages when the list is scrolled past its top, newer
//! pages when it is scrolled to its bottom while messages after it may be
//! missing, a jump to one message (from search results: the page up to it,
//! then the page after it), and a catch-up of groups and direct messages
//! after a reconnect. Every page goes into its conversation through the same
//! path as live messages, so nothing shows twice.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ChatMessage, ErrorReply, HistoryPage, Target};

use super::conversations::conversation_of;
use super::groups::error_text;
use super::log::MessageLog;
use super::talk::no_such_user;
use super::{Action, App, Screen};
use crate::net::{HistoryQuery, NetCommand};
use crate::ui::layout::for_chat;

impl App {
    /// The size of the message list inside its border: (width, height).
    fn messages_inner(&self) -> (u16, u16) {
        let Some(chat) = self.chat() else {
            return (1, 1);
        };
        let r = for_chat(self.area, chat).messages;
        (r.width.saturating_sub(2), r.height.saturating_sub(2))
    }

    /// Give the list on screen the size of its pane, so that its line
    /// heights are for the width it is drawn at (recomputed only when the
    /// width changed: a resize, a side pane or the board opening).
    pub(super) fn lay_out_shown(&mut self) {
        let (width, height) = self.messages_inner();
        if let Some(chat) = self.chat_view() {
            chat.log_mut().set_view(width, height);
        }
    }

    /// Scroll up; at the top, ask the server for older messages.
    pub(super) fn scroll_up(&mut self, lines: usize) -> Vec<Action> {
        self.lay_out_shown();
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let log = chat.log_mut();
        let max = log.max_scroll();
        log.scroll_up(lines, max);
        if log.scroll >= max {
            return self.load_older();
        }
        Vec::new()
    }

    /// Scroll down; at the bottom, ask for newer messages if some may be
    /// missing.
    pub(super) fn scroll_down(&mut self, lines: usize) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        chat.log_mut().scroll_down(lines);
        self.load_newer()
    }

    /// What the conversation on screen lacks: its newest page if it never
    /// had one, newer messages if some may be missing and the list is at
    /// its bottom.
    pub(super) fn fill_shown(&mut self) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let log = chat.log_mut();
        if !log.loaded {
            log.loaded = true;
            if log.first_id().is_none() {
                return self.load_older();
            }
        }
        self.load_newer()
    }

    /// The page before the oldest message on screen (the newest page when
    /// there is none), unless one is on its way or there is nothing older.
    fn load_older(&mut self) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let to = chat.convs.shown().target.clone();
        let log = chat.log_mut();
        if log.loading_older || log.history_complete {
            return Vec::new();
        }
        log.loading_older = true;
        let query = HistoryQuery::older(to, log.first_id());
        vec![Action::Net(NetCommand::History(query))]
    }

    /// The page after the newest message on screen, when messages after it
    /// may be missing and the list is at its bottom.
    fn load_newer(&mut self) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let to = chat.convs.shown().target.clone();
        let log = chat.log_mut();
        if !log.newer_missing || log.loading_newer || log.scroll > 0 {
            return Vec::new();
        }
        let Some(after) = log.last_id() else {
            return Vec::new();
        };
        log.loading_newer = true;
        vec![Action::Net(NetCommand::History(HistoryQuery::newer(
            to, after,
        )))]
    }

    /// After a reconnect: each group and direct-message conversation that
    /// shows messages asks for what came after its newest one (public
    /// groups deliver nothing at login; the rest comes twice at worst and
    /// shows once).
    pub(super) fn catch_up_conversations(&mut self) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        for target in chat
            .convs
            .all()
            .iter()
            .filter(|c| !c.target.is_room())
            .map(|c| c.target.clone())
            .collect::<Vec<_>>()
        {
            let Some(log) = chat.convs.get_mut(&target).map(|c| &mut c.log) else {
                continue;
            };
            if let Some(after) = log.last_id().filter(|_| !log.loading_newer) {
                log.loading_newer = true;
                let query = HistoryQuery::newer(target, after);
                actions.push(Action::Net(NetCommand::History(query)));
            }
        }
        actions
    }

    /// A page of history (or its refusal) for `query`.
    pub(super) fn on_history(
        &mut self,
        query: HistoryQuery,
        page: Result<HistoryPage, ErrorReply>,
    ) -> Vec<Action> {
        let now = self.now;
        let (width, height) = self.messages_inner();
        let Screen::Chat(chat) = &mut self.screen else {
            return Vec::new();
        };
        let shown = chat.convs.shown().target == query.to;
        let me = chat.me.clone();
        let Some(conv) = chat.convs.get_mut(&query.to) else {
            return Vec::new();
        };
        conv.log.set_view(width, height);
        let forward = query.after.is_some();
        let page = match page {
            Err(e)
                if e.code == ErrorCode::UserNotFound
                    && matches!(query.to, Target::User { .. })
                    && conv.log.last_id().is_none() =>
            {
                // `/msg` to a name nobody has: the empty conversation goes.
                // With a message of it waiting, its refusal (which follows)
                // says so once; without, this does.
                conv.log.loading_older = false;
                conv.log.history_complete = true;
                if conv.log.pending.is_empty() {
                    chat.convs.remove(&query.to);
                    if let Target::User { user } = &query.to {
                        chat.notice(now, no_such_user(user));
                    }
                }
                return Vec::new();
            }
            Ok(page) => page,
            Err(e) => {
                let name = conv.label();
                let log = &mut conv.log;
                if forward {
                    log.loading_newer = false;
                    log.newer_missing = false;
                } else {
                    log.loading_older = false;
                    log.history_complete = true;
                }
                let why = error_text(e.code).map_or_else(|| e.message.clone(), str::to_owned);
                log.notice(now, format!("No history of {name}: {why}"));
                return Vec::new();
            }
        };
        let old_last = conv.log.last_id();
        if forward {
            conv.log.loading_newer = false;
            conv.log.newer_missing = page.has_more && !page.messages.is_empty();
        } else {
            conv.log.loading_older = false;
            conv.log.loaded = true;
            // After the window dropped its oldest, only a page reaching down
            // from its top is shown (one asked for before the drop would sit
            // above a gap) and lets the older messages in again.
            let log = &mut conv.log;
            if log.floor().is_none() || query.before == log.first_id() {
                log.history_complete |= !page.has_more || page.messages.is_empty();
                let lowest = page.messages.iter().map(|m| m.id).min();
                let complete = log.history_complete;
                log.lower_floor(lowest.filter(|_| !complete));
            }
        }
        let was_following = conv.log.scroll == 0;
        let messages: Vec<ChatMessage> = page
            .messages
            .into_iter()
            .filter(|m| conversation_of(m, &me) == query.to)
            .collect();
        for m in &messages {
            chat.convs.receive(m, &me, false);
        }
        let Some(conv) = chat.convs.get_mut(&query.to) else {
            return Vec::new();
        };
        let log = &mut conv.log;
        if log.jump_to.is_some() {
            place_jump(log, height);
        } else if forward && was_following && log.newer_missing {
            // More pages follow: keep the view where the reading left off
            // (the first new line just below the last one seen).
            let from = old_last
                .and_then(|last| log.entries().iter().position(|e| e.id == Some(last)))
                .map_or(0, |i| i + 1);
            let new_lines = from
                .checked_sub(1)
                .map_or(log.total_lines(), |i| log.lines_after(i));
            log.scroll = new_lines.saturating_sub(usize::from(height).saturating_sub(1));
        }
        if shown {
            return self.load_newer();
        }
        Vec::new()
    }

    /// Enter on a search result: show its conversation around that message.
    /// When the message is not in the list, the list starts afresh from the
    /// page up to it and the page after it (what lies between them and the
    /// messages here would otherwise be missing unnoticed).
    pub(super) fn jump_to(&mut self, m: &ChatMessage) -> Vec<Action> {
        let (width, height) = self.messages_inner();
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        chat.search = None;
        let target = conversation_of(m, &chat.me);
        chat.convs.show(target.clone());
        let log = chat.log_mut();
        log.set_view(width, height);
        log.loaded = true;
        log.marked = Some(m.id);
        log.jump_to = Some(m.id);
        if log.contains(m.id) {
            place_jump(log, height);
            return Vec::new();
        }
        log.clear_stored();
        log.loading_older = true;
        log.loading_newer = true;
        log.newer_missing = true;
        let query = |q: HistoryQuery| Action::Net(NetCommand::History(q));
        vec![
            query(HistoryQuery::older(
                target.clone(),
                Some(m.id.saturating_add(1)),
            )),
            query(HistoryQuery::newer(target, m.id)),
        ]
    }
}

/// Scroll `log` so that the message it jumps to sits mid-screen in a list
/// `height` rows high (laid out at its width already); the jump is over once
/// no page is on its way.
fn place_jump(log: &mut MessageLog, height: u16) {
    let Some(id) = log.jump_to else { return };
    if let Some(i) = log.entries().iter().position(|e| e.id == Some(id)) {
        let below = log.lines_after(i);
        log.scroll = below.saturating_sub(usize::from(height) / 2);
        log.unseen_below = 0;
    }
    if !log.loading_older && !log.loading_newer {
        log.jump_to = None;
    }
}
