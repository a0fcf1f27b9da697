//! What each network event does to the state.

use chatroom_shared::message::{ChatMessage, MessageKind, ServerMessage};

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
            NetEvent::LoggedIn { ok, resumed } => self.logged_in(ok, resumed),
            NetEvent::Missed(messages) => {
                if let Screen::Chat(chat) = &mut self.screen {
                    let added = messages.iter().filter(|m| chat.insert_stored(m)).count();
                    if added > 0 {
                        chat.notice(
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
            NetEvent::Ended { reason } => match &mut self.screen {
                Screen::Chat(chat) => {
                    chat.notice(
                        now,
                        format!("Session ended: {reason}. Press Ctrl-Q to leave."),
                    );
                    chat.connection = Connection::Ended(reason);
                    Vec::new()
                }
                Screen::Login(_) => Vec::new(),
            },
        }
    }

    fn logged_in(&mut self, ok: chatroom_shared::message::LoginOk, resumed: bool) -> Vec<Action> {
        let now = self.now;
        match &mut self.screen {
            Screen::Chat(chat) if resumed => {
                chat.online = ok.online;
                chat.connection = Connection::Online;
                for m in &ok.recent {
                    chat.insert_stored(m);
                }
                chat.notice(now, "Reconnected.");
                Vec::new()
            }
            _ => {
                let server = self
                    .login_target
                    .as_ref()
                    .map_or_else(String::new, |(s, _)| s.clone());
                let mut chat = ChatView::new(&ok.user.name, &server, ok.online);
                for m in &ok.recent {
                    chat.insert_stored(m);
                }
                chat.notice(
                    now,
                    format!(
                        "Welcome, {}. Type a message and press Enter; F1 shows every key.",
                        ok.user.name
                    ),
                );
                self.screen = Screen::Chat(Box::new(chat));
                vec![Action::Remember {
                    server,
                    user: ok.user.name,
                }]
            }
        }
    }

    fn on_server(&mut self, msg: ServerMessage) -> Vec<Action> {
        let now = self.now;
        let bell = self.settings.bell_on_mention;
        let Screen::Chat(chat) = &mut self.screen else {
            return Vec::new();
        };
        match msg {
            ServerMessage::Message(m) => {
                let mention = m.from != chat.me && chat.mentions_me(&m.text);
                if chat.insert_stored(&m) && mention && bell {
                    return vec![Action::Bell];
                }
            }
            ServerMessage::Announcement(a) => {
                chat.insert_stored(&ChatMessage {
                    id: a.id,
                    ts: a.ts,
                    kind: MessageKind::Announcement,
                    from: ADMIN.to_owned(),
                    text: a.text,
                });
            }
            ServerMessage::UserJoined(j) => {
                chat.user_joined(&j.name, j.ts);
                chat.push(Entry {
                    id: None,
                    ts: j.ts,
                    kind: EntryKind::Joined(j.name),
                    text: String::new(),
                });
            }
            ServerMessage::UserLeft(l) => {
                chat.user_left(&l.name);
                chat.push(Entry {
                    id: None,
                    ts: l.ts,
                    kind: EntryKind::Left(l.name, l.reason),
                    text: String::new(),
                });
            }
            ServerMessage::SayOk(ok) => {
                if let Some(p) = chat.settle(&ok.id) {
                    let own = ChatMessage {
                        id: ok.message_id,
                        ts: ok.ts,
                        kind: MessageKind::Message,
                        from: chat.me.clone(),
                        text: p.text,
                    };
                    chat.insert_stored(&own);
                }
            }
            ServerMessage::HistoryPage(page) => {
                // Older lines go in above the view; the scroll offset counts
                // from the bottom, so the same lines stay in view.
                chat.loading_older = false;
                chat.history_complete |= !page.has_more || page.messages.is_empty();
                for m in &page.messages {
                    chat.insert_stored(m);
                }
            }
            ServerMessage::Error(e) => {
                chat.notice(now, format!("Server: {} ({})", e.message, e.code));
            }
            ServerMessage::FileList(list) => chat.sharing.add_files(list.files),
            ServerMessage::FileShared(shared) => {
                let text = super::sharing::shared_notice(&shared);
                if chat.sharing.shared(shared.file.clone()) {
                    chat.push(Entry {
                        id: None,
                        ts: shared.file.ts,
                        kind: EntryKind::Notice,
                        text,
                    });
                }
            }
            ServerMessage::SessionReplaced(_) => {
                chat.notice(now, "You logged in somewhere else; this session ends.");
            }
            ServerMessage::Kicked(k) => {
                let why = k.reason.unwrap_or_else(|| "no reason given".into());
                let what = if k.banned { "banned" } else { "removed" };
                chat.notice(now, format!("The administrator {what} you: {why}."));
            }
            ServerMessage::ServerShutdown(s) => {
                chat.notice(now, format!("The server is shutting down: {}.", s.message));
            }
            _ => {}
        }
        Vec::new()
    }
}
