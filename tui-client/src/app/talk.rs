//! Talking in conversations: which one is on screen (the conversations pane,
//! Alt-↑/↓, `/msg`), sending the input to it (`say` for the room, `send` for a
//! group or a user, with the same pending and ack), the acks and refusals of
//! what was sent, the read positions that go out once a tick, and the join
//! requests decided from the pane.

use chatroom_shared::message::{ChatMessage, ErrorReply, MessageKind, SayOk, Target};
use chatroom_shared::rules::{TextError, text::DEFAULT_MAX_TEXT_BYTES, validate_text};
use crossterm::event::{KeyCode, KeyEvent};

use super::chat::{Connection, Focus};
use super::conversations::{Row, label};
use super::groups::error_text;
use super::keys::set_focus;
use super::log::Pending;
use super::{Action, App};
use crate::net::{GroupRequest, NetCommand};
use crate::text::truncate;

/// How much of a refused message the notice quotes.
const QUOTE_CHARS: usize = 40;

/// The least time between two notices that messages wait for the server's
/// storage, in milliseconds (each refusal of a waiting message would repeat it).
const DELAY_NOTICE_EVERY: i64 = 30_000;

/// What the user is told when a direct message names nobody.
pub(super) fn no_such_user(name: &str) -> String {
    format!("No user named {name}.")
}

/// The start of a message, on one line, to name it in a notice.
fn quote(pending: &Pending) -> String {
    truncate(&pending.text.replace('\n', " "), QUOTE_CHARS)
}

impl App {
    /// Put `target` on screen (made if needed) and load what it lacks.
    pub(super) fn show_conversation(&mut self, target: Target) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        chat.convs.show(target);
        self.fill_shown()
    }

    /// Alt-↑ / Alt-↓: the previous or next conversation.
    pub(super) fn step_conversation(&mut self, forward: bool) -> Vec<Action> {
        let Some(chat) = self.chat() else {
            return Vec::new();
        };
        let all = chat.convs.all();
        let current = &chat.convs.shown().target;
        let i = all.iter().position(|c| &c.target == current).unwrap_or(0);
        let n = all.len();
        let next = if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        };
        let target = all[next].target.clone();
        self.show_conversation(target)
    }

    /// The read positions that moved since the last time, one `read` per
    /// conversation (called once a tick, and before quitting).
    pub(super) fn flush_reads(&mut self) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        if chat.connection != Connection::Online {
            return Vec::new();
        }
        chat.convs
            .reads_due()
            .into_iter()
            .map(|(to, upto)| Action::Net(NetCommand::Group(GroupRequest::Read { to, upto })))
            .collect()
    }

    /// The message for the conversation on screen, once checked (the text,
    /// and that the user may write there): the room takes `say`, a group or
    /// a user `send`. The input is emptied only when it goes.
    pub(super) fn send_to_shown(&mut self, client_id: String, text: String) -> Vec<Action> {
        let now = self.now;
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let conv = chat.convs.shown_mut();
        if let Err(e) = validate_text(&text, DEFAULT_MAX_TEXT_BYTES) {
            let why = match e {
                TextError::TooLong { .. } => {
                    format!("Not sent: {e}. Shorten it and press Enter again.")
                }
                _ => format!("Not sent: {e}."),
            };
            conv.log.notice(now, why);
            return Vec::new();
        }
        if let Err(why) = conv.can_send() {
            conv.log.notice(now, why);
            return Vec::new();
        }
        let to = conv.target.clone();
        chat.compose.take();
        let log = chat.log_mut();
        log.scroll_down(usize::MAX);
        log.pending.push(Pending {
            client_id: client_id.clone(),
            text: text.clone(),
        });
        let cmd = if to.is_room() {
            NetCommand::Say { client_id, text }
        } else {
            NetCommand::Send {
                client_id,
                to,
                text,
            }
        };
        vec![Action::Net(cmd)]
    }

    /// A `say_ok`: the pending copy becomes the stored message, in the
    /// conversation it was sent to.
    pub(super) fn acked(&mut self, ok: &SayOk) {
        let Some(chat) = self.chat_view() else { return };
        let Some((to, pending)) = chat.convs.settle(&ok.id) else {
            return;
        };
        let own = ChatMessage {
            id: ok.message_id,
            ts: ok.ts,
            kind: MessageKind::Message,
            from: chat.me.clone(),
            text: pending.text,
            to,
        };
        chat.receive(&own, true);
    }

    /// The server refused a message for good: it is no longer pending, and
    /// its conversation says why.
    pub(super) fn send_refused(&mut self, client_id: &str, error: &ErrorReply) {
        let now = self.now;
        let Some(chat) = self.chat_view() else { return };
        let Some((to, pending)) = chat.convs.settle(client_id) else {
            chat.notice(now, format!("Not sent: {}.", error.message));
            return;
        };
        if let (chatroom_shared::ErrorCode::UserNotFound, Target::User { user }) = (error.code, &to)
        {
            // `/msg` to a name nobody has: one notice, and no conversation
            // left behind (unless messages were exchanged in it before).
            let empty = chat
                .convs
                .get(&to)
                .is_some_and(|c| c.log.last_id().is_none() && c.log.pending.is_empty());
            let text = format!("{} “{}” was not sent.", no_such_user(user), quote(&pending));
            if empty {
                chat.convs.remove(&to);
                chat.notice(now, text);
            } else {
                chat.convs.open(to).log.notice(now, text);
            }
            return;
        }
        let why = match (error.code, &to) {
            (chatroom_shared::ErrorCode::MessageIdReused, _) => {
                "the server had a message of yours under the same id (a client fault). \
                 Send it again: it gets a new id."
                    .to_owned()
            }
            _ => {
                error_text(error.code).map_or_else(|| format!("{}.", error.message), str::to_owned)
            }
        };
        let text = format!("Not sent to {} (“{}”): {why}", label(&to), quote(&pending));
        chat.convs.open(to).log.notice(now, text);
    }

    /// The server could not store a message now (its disk is full or its
    /// database is down): the message stays pending and goes out again by
    /// itself; the user is told why it waits, once per `DELAY_NOTICE_EVERY`.
    pub(super) fn send_delayed(&mut self, error: &ErrorReply) {
        let now = self.now;
        let Some(chat) = self.chat_view() else { return };
        if chat
            .delay_noticed
            .is_some_and(|at| now.saturating_sub(at) < DELAY_NOTICE_EVERY)
        {
            return;
        }
        chat.delay_noticed = Some(now);
        let wait = error.retry_after_ms.unwrap_or(1000).div_ceil(1000).max(1);
        chat.notice(
            now,
            format!(
                "The server cannot store messages right now (its disk or database is failing). \
                 What you send waits and goes out again by itself in {wait} s."
            ),
        );
    }

    /// A key in the conversations pane; `None` when the pane does not use it.
    pub(super) fn on_conversations_key(&mut self, key: KeyEvent) -> Option<Vec<Action>> {
        let chat = self.chat_view()?;
        let convs = &mut chat.convs;
        match key.code {
            KeyCode::Up => convs.selected = convs.selected.saturating_sub(1),
            KeyCode::Down => {
                convs.selected += 1;
                convs.clamp_selection();
            }
            KeyCode::Enter => return Some(self.open_selected_row(true)),
            KeyCode::Char(c @ ('a' | 'r')) => {
                return match convs.selected_row() {
                    Some(Row::Request(i)) => Some(self.decide_request(i, c == 'a')),
                    _ => None,
                };
            }
            _ => return None,
        }
        Some(Vec::new())
    }

    /// Enter or a click on the selected row: show that conversation (a join
    /// request shows its group); with `to_input`, the focus goes to the input.
    fn open_selected_row(&mut self, to_input: bool) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        let target = match chat.convs.selected_row() {
            Some(Row::Conversation(i)) => chat.convs.all()[i].target.clone(),
            Some(Row::Request(i)) => Target::Group {
                group: chat.convs.requests[i].group.clone(),
            },
            None => return Vec::new(),
        };
        if to_input {
            set_focus(chat, Focus::Input);
        }
        self.show_conversation(target)
    }

    /// A click on row `row` of the conversations pane; `button` is the
    /// approve (true) or reject (false) mark of a join request, when the
    /// click hit one.
    pub(super) fn on_conversations_click(
        &mut self,
        row: Option<usize>,
        button: Option<bool>,
    ) -> Vec<Action> {
        let Some(chat) = self.chat_view() else {
            return Vec::new();
        };
        set_focus(chat, Focus::Conversations);
        let Some(row) = row else {
            return Vec::new();
        };
        chat.convs.selected = row;
        match (chat.convs.selected_row(), button) {
            (Some(Row::Request(i)), Some(approve)) => self.decide_request(i, approve),
            (Some(Row::Conversation(_)), _) => self.open_selected_row(false),
            _ => Vec::new(),
        }
    }

    /// Approve or reject the join request at `index` of the pane.
    pub(super) fn decide_request(&mut self, index: usize, approve: bool) -> Vec<Action> {
        let Some(request) = self
            .chat()
            .and_then(|c| c.convs.requests.get(index).cloned())
        else {
            return Vec::new();
        };
        self.decide(&request.group, &request.user, approve)
    }

    /// Send the creator's decision about `user` in `group`; the request
    /// leaves the pane, and the group's conversation says what was decided
    /// (the server tells the others).
    pub(super) fn decide(&mut self, group: &str, user: &str, approve: bool) -> Vec<Action> {
        let (group, user) = (group.to_owned(), user.to_owned());
        let request = if approve {
            GroupRequest::Approve {
                group: group.clone(),
                user: user.clone(),
            }
        } else {
            GroupRequest::Reject {
                group: group.clone(),
                user: user.clone(),
            }
        };
        let actions = self.send_group(request);
        if !actions.is_empty() {
            let now = self.now;
            if let Some(chat) = self.chat_view() {
                chat.convs.remove_request(&group, &user);
                let text = if approve {
                    format!("You let {user} into #{group}.")
                } else {
                    format!("You turned down {user}'s request to join #{group}.")
                };
                let target = Target::Group {
                    group: group.clone(),
                };
                chat.convs.open(target).log.notice(now, text);
            }
        }
        actions
    }

    /// Send a group request, or say why not (no connection right now).
    pub(super) fn send_group(&mut self, request: GroupRequest) -> Vec<Action> {
        self.send_when_online(NetCommand::Group(request))
    }
}
