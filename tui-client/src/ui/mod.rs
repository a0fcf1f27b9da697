//! Drawing: a pure function of the app state.
//!
//! [`draw`] reads the [`App`] and changes nothing. Each pane is a widget of
//! its own: [`login`] (the form), [`messages`] (the message list), [`side`]
//! (users, invites), [`files`] (shared files), [`transfers`] (the gauges of
//! running transfers), [`status`] (the status bar), [`help`] (the key overlay
//! and the send confirmation), [`prompt`] (save/upload questions). [`layout`] places them, and the app
//! uses the same layout to find what a mouse click hit. [`theme`] holds every
//! colour and style.

pub mod files;
pub mod help;
pub mod layout;
pub mod login;
pub mod messages;
pub mod prompt;
pub mod side;
pub mod status;
pub mod theme;
pub mod transfers;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::{App, ChatView, Focus, Screen};

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if layout::too_small(area) {
        draw_too_small(frame, area);
        return;
    }
    match &app.screen {
        Screen::Login(form) => frame.render_widget(login::LoginView { form }, area),
        Screen::Chat(chat) => draw_chat(frame, area, app, chat),
    }
    if app.help_open {
        let rect = layout::overlay(area, 72, 24);
        clear_around(frame, rect);
        frame.render_widget(help::HelpOverlay, rect);
    }
}

/// Clear an overlay's area plus one column on each side, so a wide character
/// (CJK, emoji) that starts just left of the overlay cannot bleed into it.
fn clear_around(frame: &mut Frame, rect: Rect) {
    let area = frame.area();
    let x = rect.x.saturating_sub(1).max(area.x);
    let right = (rect.x + rect.width + 1).min(area.x + area.width);
    frame.render_widget(
        Clear,
        Rect {
            x,
            width: right - x,
            ..rect
        },
    );
}

/// The border style of a pane: highlighted when it has the focus.
pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

fn draw_too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("The terminal is too small.".bold()),
        Line::from(format!(
            "chatroom needs at least {}×{}; this one is {}×{}.",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT,
            area.width,
            area.height
        )),
        Line::from("Make the window larger."),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        area,
    );
}

fn draw_chat(frame: &mut Frame, area: Rect, app: &App, chat: &ChatView) {
    let r = layout::chat_regions(
        area,
        chat.compose.line_count(),
        chat.sharing.transfer_rows(),
    );
    let title = format!(" chatroom · {} ", chat.server);
    let messages_block = Block::bordered()
        .title(title)
        .border_style(border(chat.focus == Focus::Messages));
    let shown = chat.shown_entries(app.now);
    frame.render_widget(
        messages::MessageList {
            entries: &shown,
            scroll: chat.scroll,
            utc_offset_secs: app.utc_offset_secs,
            unseen_below: chat.unseen_below,
            block: Some(messages_block),
        },
        r.messages,
    );
    if let Some(rect) = r.users {
        frame.render_widget(side::users(chat), rect);
    }
    if let Some(rect) = r.files {
        frame.render_widget(
            files::FilesPane {
                chat,
                utc_offset_secs: app.utc_offset_secs,
            },
            rect,
        );
    }
    if let Some(rect) = r.invites {
        frame.render_widget(side::invites(chat), rect);
    }
    if let Some(rect) = r.transfers {
        frame.render_widget(
            transfers::TransfersStrip {
                sharing: &chat.sharing,
            },
            rect,
        );
    }
    let mut input_block = Block::bordered()
        .title(" message ")
        .border_style(border(chat.focus == Focus::Input));
    if let Some(hint) = chat.compose.hint() {
        input_block = input_block.title_bottom(Line::from(format!(" {hint} ")).italic());
    }
    let inner = input_block.inner(r.input);
    frame.render_widget(input_block, r.input);
    frame.render_widget(&chat.compose.textarea, inner);
    frame.render_widget(status::StatusBar { chat }, r.status);
    if let Some(text) = &chat.compose.confirm {
        let rect = layout::overlay(area, 50, 7);
        clear_around(frame, rect);
        frame.render_widget(
            help::ConfirmSend {
                lines: text.lines().count(),
            },
            rect,
        );
    }
    if let Some(p) = &chat.sharing.prompt {
        let rect = layout::overlay(area, 76, 5);
        clear_around(frame, rect);
        frame.render_widget(prompt::PromptOverlay { prompt: p }, rect);
    }
}
