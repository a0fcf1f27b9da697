//! What each network event does to the state: stored messages go to their
//! conversation, shared files to the main room, who is online to
//! `presence.rs`, game and group messages to their own handlers
//! (`game_events.rs`, `groups.rs`), pages of listings to `paging.rs`, pages
//! of history to `scrollback.rs`.

use chatroom_shared::message::{ChatMessage, MessageKind, ServerMessage, Target};

use super::chat::{ChatView, Connection};
use super::entry::{ADMIN, Entry, EntryKind};
use super::login::LoginForm;
use super::{Action, App, Screen};
use crate::net::NetEvent;

impl App {
    pub(super) fn on_net(&mut self, event: NetEvent) -> Vec<Action> {
        let now = self.now;
        match event {
            NetEvent::Connecting { attempt, .. } => {
                if let Screen::Chat(chat) = &mut self.screen {
                    chat.connection = Connection::Reconnecting(attempt);
                }
                Vec::new()
            }
            NetEvent::Unreachable { server, error } => {
                if let Screen::Login(form) = &mut self.screen {
                    form.unreachable(&server, &error);
                }
                Vec::new()
            }
            NetEvent::Untrusted { warning, .. } => {
                if let Screen::Login(form) = &mut self.screen {
                    form.untrusted(&warning);
                }
                Vec::new()
            }
            NetEvent::Notice(text) => {
                match &mut self.screen {
                    Screen::Chat(chat) => chat.notice(now, text),
                    Screen::Login(_) => self.pending_notices.push(text),
                }
                Vec::new()
            }
            NetEvent::Registered { name } => {
                if let Screen::Login(form) = &mut self.screen {
                    form.registered(&name);
                }
                Vec::new()
            }
            NetEvent::LoginFailed {
                code,
                message,
                attempts_left,
                closed,
            } => {
                match &mut self.screen {
                    Screen::Login(form) => form.failed(code, &message, attempts_left, closed),
                    Screen::Chat(chat) => {
                        // Logging in again after a reconnect failed (password
                        // changed, account banned): back to the form.
                        let (server, me) = (chat.server.clone(), chat.me.clone());
                        let mut form = LoginForm::new(&server, &me);
                        form.failed(code, &message, attempts_left, closed);
                        self.screen = Screen::Login(Box::new(form));
                    }
                }
                Vec::new()
            }
            NetEvent::LoggedIn { ok, resumed } => {
                let mut actions = self.logged_in(ok, resumed);
                if resumed {
                    self.games_resumed();
                    actions.extend(self.catch_up_conversations());
                }
                actions
            }
            NetEvent::Missed(messages) => {
                if let Screen::Chat(chat) = &mut self.screen {
                    let added = messages.iter().filter(|m| chat.receive(m, true)).count();
                    if added > 0 {
                        chat.convs.room_mut().log.notice(
                            now,
                            format!(
                                "{added} message(s) arrived while you were away (shown above)."
                            ),
                        );
                    }
                }
                Vec::new()
            }
            NetEvent::Server(msg) => self.on_server(msg),
            NetEvent::History { query, page } => self.on_history(query, page),
            NetEvent::Users { request, page } => self.on_users(&request, page),
            NetEvent::SendRefused { client_id, error } => {
                self.send_refused(&client_id, &error);
                Vec::new()
            }
            NetEvent::SendDelayed { error } => {
                self.send_delayed(&error);
                Vec::new()
            }
            NetEvent::Disconnected {
                reason,
                retry_in,
                attempt,
            } => {
                if let Screen::Chat(chat) = &mut self.screen {
                    if chat.connection == Connection::Online {
                        chat.notice(
                            now,
                            format!(
                                "Connection lost ({reason}). Reconnecting in {:.1} s…",
                                retry_in.as_secs_f32()
                            ),
                        );
                    }
                    chat.connection = Connection::Reconnecting(attempt);
                }
                Vec::new()
            }
            NetEvent::Transfer(update) => self.on_transfer(update),
            NetEvent::Ended { reason } => {
                // Kicked, banned, replaced by another login, or a certificate
                // that changed: the way on is the login form, with the reason.
                if let Screen::Chat(chat) = &self.screen {
                    let mut form = LoginForm::new(&chat.server, &chat.me);
                    form.ended(&reason);
                    self.screen = Screen::Login(Box::new(form));
                }
                Vec::new()
            }
        }
    }

    fn logged_in(&mut self, ok: chatroom_shared::message::LoginOk, resumed: bool) -> Vec<Action> {
        let now = self.now;
        match &mut self.screen {
            Screen::Chat(chat) if resumed => {
                chat.reconnected(super::presence::online_at_login(&ok), now);
                // Pages asked on the old connection never come; the first
                // pages are asked again.
                chat.paging = super::paging::Paging::default();
                chat.connection = Connection::Online;
                chat.convs.resend_unconfirmed_reads();
                for m in &ok.recent {
                    chat.receive(m, true);
                }
                chat.notice(now, "Reconnected.");
                Vec::new()
            }
            _ => {
                let server = self
                    .login_target
                    .as_ref()
                    .map_or_else(String::new, |(s, _)| s.clone());
                let online = super::presence::online_at_login(&ok);
                let mut chat = ChatView::new(&ok.user.name, &server, online);
                chat.convs.room_mut().log.loaded = true;
                for m in &ok.recent {
                    chat.receive(m, false);
                }
                chat.notice(
                    now,
                    format!(
                        "Welcome, {}. Type a message and press Enter; F1 shows every key.",
                        ok.user.name
                    ),
                );
                for text in self.pending_notices.drain(..) {
                    chat.notice(now, text);
                }
                self.screen = Screen::Chat(Box::new(chat));
                vec![Action::Remember {
                    server,
                    user: ok.user.name,
                }]
            }
        }
    }

    fn on_server(&mut self, msg: ServerMessage) -> Vec<Action> {
        let msg = match msg {
            ServerMessage::GameInvite(_)
            | ServerMessage::GameUpdate(_)
            | ServerMessage::GameState(_)
            | ServerMessage::Stats(_) => return self.on_game_message(msg).unwrap_or_default(),
            ServerMessage::FileList(_)
            | ServerMessage::GameList(_)
            | ServerMessage::GroupList(_)
            | ServerMessage::MemberList(_)
            | ServerMessage::ConversationList(_) => {
                return self.on_list_page(msg).unwrap_or_default();
            }
            ServerMessage::Error(e) if super::games::error_text(e.code).is_some() => {
                return self
                    .on_game_message(ServerMessage::Error(e))
                    .unwrap_or_default();
            }
            ServerMessage::GroupUpdate(_)
            | ServerMessage::GroupState(_)
            | ServerMessage::ReadOk(_)
            | ServerMessage::SearchResults(_) => {
                return self.on_group_message(msg).unwrap_or_default();
            }
            ServerMessage::Error(e) if super::groups::error_text(e.code).is_some() => {
                return self
                    .on_group_message(ServerMessage::Error(e))
                    .unwrap_or_default();
            }
            ServerMessage::SayOk(ok) => {
                self.acked(&ok);
                return Vec::new();
            }
            ServerMessage::UserJoined(j) => {
                self.on_user_joined(j);
                return Vec::new();
            }
            ServerMessage::UserLeft(l) => {
                self.on_user_left(l);
                return Vec::new();
            }
            ServerMessage::Presence(p) => {
                self.on_presence(p);
                return Vec::new();
            }
            other => other,
        };
        let now = self.now;
        let bell = self.settings.bell_on_mention;
        let Screen::Chat(chat) = &mut self.screen else {
            return Vec::new();
        };
        match msg {
            ServerMessage::Message(m) => {
                let from_other = m.from != chat.me;
                let direct = matches!(m.to, Target::User { .. });
                let mention = from_other && (direct || chat.mentions_me(&m.text));
                if chat.receive(&m, true) && mention && bell {
                    return vec![Action::Bell];
                }
            }
            ServerMessage::Announcement(a) => {
                chat.receive(
                    &ChatMessage {
                        id: a.id,
                        ts: a.ts,
                        kind: MessageKind::Announcement,
                        from: ADMIN.to_owned(),
                        text: a.text,
                        to: Target::Room,
                    },
                    true,
                );
            }
            ServerMessage::Error(e) => {
                if let Some(search) = &mut chat.search {
                    search.loading = false;
                }
                chat.notice(now, format!("Server: {} ({})", e.message, e.code));
            }
            ServerMessage::FileShared(shared) => {
                let text = super::sharing::shared_notice(&shared);
                if chat.sharing.shared(shared.file.clone()) {
                    chat.push_room(Entry {
                        id: None,
                        ts: shared.file.ts,
                        kind: EntryKind::Notice,
                        text,
                    });
                }
            }
            // Kicked or replaced: the session's end (`Ended`) says why, on the
            // login form.
            ServerMessage::ServerShutdown(_) => {
                chat.notice(
                    now,
                    "The server is shutting down; this client reconnects by itself.",
                );
            }
            _ => {}
        }
        Vec::new()
    }
}
