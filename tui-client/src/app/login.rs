//! The login form: server address, user name, masked password, and the
//! Login / Register buttons, with errors shown inline.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_textarea::TextArea;

use chatroom_shared::ErrorCode;

/// The form's focusable parts, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginField {
    /// `HOST:PORT`.
    Server,
    /// User name.
    User,
    /// Password (masked).
    Password,
    /// The Login button.
    Login,
    /// The Register button.
    Register,
}

impl LoginField {
    const ORDER: [Self; 5] = [
        Self::Server,
        Self::User,
        Self::Password,
        Self::Login,
        Self::Register,
    ];

    fn step(self, forward: bool) -> Self {
        super::cycle(&Self::ORDER, self, forward)
    }
}

/// What the form says under the fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormStatus {
    /// Nothing to say.
    Idle,
    /// Waiting for the server.
    Busy(String),
    /// Something good happened (e.g. the account was created).
    Info(String),
    /// Something went wrong.
    Error {
        /// What to show.
        message: String,
        /// Offer to register this name with one key (after `user_not_found`).
        offer_register: bool,
    },
}

/// What the form asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormAction {
    /// Log in (or register first) with the form's values.
    Submit {
        /// `HOST:PORT`.
        server: String,
        /// User name.
        name: String,
        /// Password.
        password: String,
        /// Register first.
        register: bool,
    },
    /// Leave the program.
    Quit,
}

/// The login form's state.
#[derive(Debug, Clone)]
pub struct LoginForm {
    /// Server address field.
    pub server: TextArea<'static>,
    /// User name field.
    pub user: TextArea<'static>,
    /// Password field (drawn masked).
    pub password: TextArea<'static>,
    /// Which part has the focus.
    pub focus: LoginField,
    /// The line under the fields.
    pub status: FormStatus,
}

fn field(value: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![value.to_owned()]);
    t.move_cursor(tui_textarea::CursorMove::End);
    t
}

fn value(t: &TextArea<'_>) -> String {
    t.lines().first().cloned().unwrap_or_default()
}

impl LoginForm {
    /// A form pre-filled with the remembered server and user. The focus starts
    /// on the first empty field.
    pub fn new(server: &str, user: &str) -> Self {
        let mut password = field("");
        password.set_mask_char('•');
        let focus = if server.is_empty() {
            LoginField::Server
        } else if user.is_empty() {
            LoginField::User
        } else {
            LoginField::Password
        };
        let mut form = Self {
            server: field(server),
            user: field(user),
            password,
            focus,
            status: FormStatus::Idle,
        };
        form.refresh_cursors();
        form
    }

    /// The server field's text.
    pub fn server_value(&self) -> String {
        value(&self.server).trim().to_owned()
    }

    /// The user field's text.
    pub fn user_value(&self) -> String {
        value(&self.user).trim().to_owned()
    }

    /// True while a request is out.
    pub fn busy(&self) -> bool {
        matches!(self.status, FormStatus::Busy(_))
    }

    /// Handle a key.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<FormAction> {
        let action = self.key_action(key);
        self.refresh_cursors();
        action
    }

    fn key_action(&mut self, key: KeyEvent) -> Option<FormAction> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c' | 'q') if ctrl => return Some(FormAction::Quit),
            KeyCode::Esc => return Some(FormAction::Quit),
            KeyCode::Char('r') if ctrl => return self.submit(true),
            KeyCode::Tab | KeyCode::Down => self.focus = self.focus.step(true),
            KeyCode::BackTab | KeyCode::Up => self.focus = self.focus.step(false),
            KeyCode::Enter => return self.submit(self.focus == LoginField::Register),
            _ => {
                if let Some(t) = self.focused_field() {
                    t.input(key);
                }
            }
        }
        None
    }

    /// Handle a click on part `target` (the app finds it from the layout).
    pub fn on_click(&mut self, target: LoginField) -> Option<FormAction> {
        self.focus = target;
        self.refresh_cursors();
        match target {
            LoginField::Login => self.submit(false),
            LoginField::Register => self.submit(true),
            _ => None,
        }
    }

    /// Paste into the focused field (first line only: fields are one line).
    pub fn on_paste(&mut self, text: &str) {
        let line = text.lines().next().unwrap_or("");
        if let Some(t) = self.focused_field() {
            t.insert_str(line);
        }
    }

    /// Show the cursor in the focused field only.
    pub fn refresh_cursors(&mut self) {
        let shown =
            ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::REVERSED);
        let hidden = ratatui::style::Style::default();
        let focus = self.focus;
        for (f, t) in [
            (LoginField::Server, &mut self.server),
            (LoginField::User, &mut self.user),
            (LoginField::Password, &mut self.password),
        ] {
            t.set_cursor_style(if f == focus { shown } else { hidden });
        }
    }

    fn focused_field(&mut self) -> Option<&mut TextArea<'static>> {
        match self.focus {
            LoginField::Server => Some(&mut self.server),
            LoginField::User => Some(&mut self.user),
            LoginField::Password => Some(&mut self.password),
            LoginField::Login | LoginField::Register => None,
        }
    }

    fn submit(&mut self, register: bool) -> Option<FormAction> {
        if self.busy() {
            return None;
        }
        let (server, name, password) = (
            self.server_value(),
            self.user_value(),
            value(&self.password),
        );
        let missing = if server.is_empty() {
            Some((LoginField::Server, "Enter the server address (HOST:PORT)."))
        } else if name.is_empty() {
            Some((LoginField::User, "Enter your user name."))
        } else if password.is_empty() {
            Some((LoginField::Password, "Enter your password."))
        } else {
            None
        };
        if let Some((field, message)) = missing {
            self.focus = field;
            self.status = FormStatus::Error {
                message: message.into(),
                offer_register: false,
            };
            return None;
        }
        self.status = FormStatus::Busy(if register {
            format!("Creating the account {name} on {server}…")
        } else {
            format!("Logging in to {server}…")
        });
        Some(FormAction::Submit {
            server,
            name,
            password,
            register,
        })
    }

    /// The server could not be reached: say so and put the focus on the address.
    pub fn unreachable(&mut self, server: &str, error: &str) {
        self.focus = LoginField::Server;
        self.refresh_cursors();
        self.status = FormStatus::Error {
            message: format!("Cannot reach {server}: {error}. Check the address and press Enter."),
            offer_register: false,
        };
    }

    /// The server's certificate changed since it was pinned: show the whole
    /// warning (what to check, how to trust a new certificate).
    pub fn untrusted(&mut self, warning: &str) {
        self.focus = LoginField::Server;
        self.refresh_cursors();
        self.status = FormStatus::Error {
            message: warning.to_owned(),
            offer_register: false,
        };
    }

    /// The session ended for good (`reason`, a sentence: kicked, banned,
    /// replaced, a changed certificate): the form is offered again.
    pub fn ended(&mut self, reason: &str) {
        self.status = FormStatus::Error {
            message: format!("{} Log in again, or press Ctrl-Q to leave.", reason.trim()),
            offer_register: false,
        };
    }

    /// The account was created; the login follows.
    pub fn registered(&mut self, name: &str) {
        self.status = FormStatus::Busy(format!("Account {name} created. Logging in…"));
    }

    /// Login or registration was refused.
    pub fn failed(
        &mut self,
        code: ErrorCode,
        message: &str,
        attempts_left: Option<u32>,
        closed: bool,
    ) {
        let (message, offer_register) = match code {
            ErrorCode::UserNotFound => (
                format!(
                    "No account is named {}. Press Ctrl-R to register it.",
                    self.user_value()
                ),
                true,
            ),
            // The server does not say whether the name or the password was wrong.
            ErrorCode::WrongPassword if closed || attempts_left == Some(0) => (
                "Wrong user name or password. The server closed the connection after too \
                 many attempts; press Enter to reconnect and try again."
                    .to_owned(),
                false,
            ),
            // The name may well exist: the hint says what Ctrl-R does, not
            // that this name is free.
            ErrorCode::WrongPassword => (
                format!(
                    "Wrong user name or password: {}. (No account yet? Ctrl-R creates one.)",
                    match attempts_left {
                        Some(1) => "1 attempt left".to_owned(),
                        Some(n) => format!("{n} attempts left"),
                        None => "try again".to_owned(),
                    }
                ),
                true,
            ),
            ErrorCode::NameTaken => (
                format!(
                    "The name {} is taken, or too close to one that is (names that differ \
                     only in case, width or look-alike letters count as one). Choose \
                     another, or log in.",
                    self.user_value()
                ),
                false,
            ),
            ErrorCode::AccountDisabled => (
                "This account is disabled by the server's administrator: ask them to enable it."
                    .to_owned(),
                false,
            ),
            ErrorCode::TlsRequired => (
                "This server speaks TLS only: start chatroom without --plain.".to_owned(),
                false,
            ),
            ErrorCode::TooManyConnections => (
                "Too many connections from this address: close another chatroom client \
                 (or wait for it to time out), then press Enter."
                    .to_owned(),
                false,
            ),
            ErrorCode::ConnectionRateLimited => (
                "Too many connections were opened from this address just now (by you, or by \
                 others on your network): wait a few seconds, then press Enter."
                    .to_owned(),
                false,
            ),
            _ if closed => (
                format!("{message} The server closed the connection; press Enter to reconnect."),
                false,
            ),
            _ => (message.to_owned(), false),
        };
        self.focus = match code {
            ErrorCode::WrongPassword | ErrorCode::InvalidPassword | ErrorCode::AccountDisabled => {
                LoginField::Password
            }
            ErrorCode::UserNotFound | ErrorCode::NameTaken | ErrorCode::InvalidName => {
                LoginField::User
            }
            _ => self.focus,
        };
        if matches!(code, ErrorCode::WrongPassword | ErrorCode::AccountDisabled) {
            // Typing again starts a new password, never more after the old one.
            self.password = field("");
            self.password.set_mask_char('•');
        }
        self.refresh_cursors();
        self.status = FormStatus::Error {
            message,
            offer_register,
        };
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyEventKind;

    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn type_text(form: &mut LoginForm, text: &str) {
        for c in text.chars() {
            let mut k = key(KeyCode::Char(c));
            k.kind = KeyEventKind::Press;
            form.on_key(k);
        }
    }

    #[test]
    fn focus_starts_on_the_first_empty_field_and_tab_cycles() {
        let mut f = LoginForm::new("h:1", "");
        assert_eq!(f.focus, LoginField::User);
        f.on_key(key(KeyCode::Tab));
        assert_eq!(f.focus, LoginField::Password);
        f.on_key(key(KeyCode::Tab));
        f.on_key(key(KeyCode::Tab));
        f.on_key(key(KeyCode::Tab));
        assert_eq!(f.focus, LoginField::Server);
        f.on_key(key(KeyCode::BackTab));
        assert_eq!(f.focus, LoginField::Register);
    }

    #[test]
    fn enter_submits_and_the_password_is_masked_but_kept() {
        let mut f = LoginForm::new("h:1", "alice");
        type_text(&mut f, "secret pw");
        assert_eq!(f.password.mask_char(), Some('•'));
        let action = f.on_key(key(KeyCode::Enter));
        assert_eq!(
            action,
            Some(FormAction::Submit {
                server: "h:1".into(),
                name: "alice".into(),
                password: "secret pw".into(),
                register: false
            })
        );
        assert!(f.busy());
        assert_eq!(
            f.on_key(key(KeyCode::Enter)),
            None,
            "no double submit while busy"
        );
    }

    #[test]
    fn missing_fields_are_reported_inline() {
        let mut f = LoginForm::new("h:1", "alice");
        assert_eq!(f.on_key(key(KeyCode::Enter)), None);
        assert_eq!(f.focus, LoginField::Password);
        assert!(matches!(f.status, FormStatus::Error { .. }));
    }

    #[test]
    fn unknown_user_offers_register_with_one_key() {
        let mut f = LoginForm::new("h:1", "newbie");
        type_text(&mut f, "password1");
        f.on_key(key(KeyCode::Enter));
        f.failed(ErrorCode::UserNotFound, "no account", None, false);
        assert!(matches!(
            f.status,
            FormStatus::Error {
                offer_register: true,
                ..
            }
        ));
        let action = f.on_key(ctrl('r'));
        assert!(matches!(
            action,
            Some(FormAction::Submit { register: true, .. })
        ));
    }

    #[test]
    fn wrong_password_shows_attempts_left_then_offers_reconnect() {
        let mut f = LoginForm::new("h:1", "alice");
        type_text(&mut f, "nope-nope");
        f.on_key(key(KeyCode::Enter));
        f.failed(ErrorCode::WrongPassword, "wrong", Some(2), false);
        match &f.status {
            FormStatus::Error { message, .. } => assert!(message.contains("2 attempts left")),
            other => panic!("{other:?}"),
        }
        assert_eq!(f.focus, LoginField::Password);
        assert!(f.password.is_empty() || f.password.lines() == [String::new()]);
        f.failed(ErrorCode::WrongPassword, "wrong", Some(0), true);
        match &f.status {
            FormStatus::Error { message, .. } => assert!(message.contains("reconnect")),
            other => panic!("{other:?}"),
        }
    }

    fn error_text(f: &LoginForm) -> &str {
        match &f.status {
            FormStatus::Error { message, .. } => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_disabled_account_clears_the_password_and_says_so_in_words() {
        let mut f = LoginForm::new("h:1", "mallory");
        type_text(&mut f, "password1");
        f.on_key(key(KeyCode::Enter));
        f.failed(
            ErrorCode::AccountDisabled,
            "this account is disabled",
            None,
            false,
        );
        assert_eq!(
            error_text(&f),
            "This account is disabled by the server's administrator: ask them to enable it."
        );
        // Typing again starts a new password, not the old one with more after it.
        assert_eq!(f.password.lines(), [String::new()]);
        assert_eq!(f.focus, LoginField::Password);
    }

    #[test]
    fn a_wrong_password_does_not_offer_to_register_a_name_that_may_exist() {
        let mut f = LoginForm::new("h:1", "carol");
        type_text(&mut f, "nope-nope");
        f.on_key(key(KeyCode::Enter));
        f.failed(ErrorCode::WrongPassword, "wrong", Some(2), false);
        let text = error_text(&f);
        assert!(!text.contains("register carol"), "{text}");
        assert_eq!(
            text,
            "Wrong user name or password: 2 attempts left. (No account yet? Ctrl-R creates one.)"
        );
    }

    #[test]
    fn a_look_alike_name_is_said_to_be_too_close_to_an_existing_one() {
        let mut f = LoginForm::new("h:1", "ａｌｉｃｅ");
        f.failed(
            ErrorCode::NameTaken,
            "the name ａｌｉｃｅ (or one that looks the same) is taken",
            None,
            false,
        );
        assert_eq!(
            error_text(&f),
            "The name ａｌｉｃｅ is taken, or too close to one that is (names that differ only \
             in case, width or look-alike letters count as one). Choose another, or log in."
        );
    }

    #[test]
    fn an_ended_session_offers_the_form_again_with_its_reason() {
        let mut f = LoginForm::new("h:1", "alice");
        f.ended("The administrator disconnected you (spam).");
        assert_eq!(
            error_text(&f),
            "The administrator disconnected you (spam). Log in again, or press Ctrl-Q to leave."
        );
        assert_eq!(f.focus, LoginField::Password);
    }

    #[test]
    fn too_many_connections_says_what_to_close() {
        let mut f = LoginForm::new("h:1", "alice");
        f.failed(ErrorCode::TooManyConnections, "limit", None, true);
        match &f.status {
            FormStatus::Error { message, .. } => {
                assert!(message.starts_with("Too many connections from this address"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn connecting_too_fast_says_to_wait() {
        let mut f = LoginForm::new("h:1", "alice");
        f.failed(ErrorCode::ConnectionRateLimited, "rate", None, true);
        match &f.status {
            FormStatus::Error { message, .. } => assert_eq!(
                message,
                "Too many connections were opened from this address just now (by you, or by \
                 others on your network): wait a few seconds, then press Enter."
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unreachable_server_focuses_the_address() {
        let mut f = LoginForm::new("nowhere:1", "alice");
        f.unreachable("nowhere:1", "connection refused");
        assert_eq!(f.focus, LoginField::Server);
        match &f.status {
            FormStatus::Error { message, .. } => {
                assert!(message.contains("Cannot reach nowhere:1"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clicking_buttons_submits() {
        let mut f = LoginForm::new("h:1", "alice");
        f.on_click(LoginField::Password);
        type_text(&mut f, "password1");
        assert!(matches!(
            f.on_click(LoginField::Register),
            Some(FormAction::Submit { register: true, .. })
        ));
    }
}
