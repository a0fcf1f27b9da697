//! Drawing: a pure function of the app state.
//!
//! [`draw`] reads the [`App`] and changes nothing. Each pane is a widget of
//! its own: [`login`] (the form), [`messages`] (the message list of the
//! conversation on screen), [`conversations`] (the room, groups, direct
//! messages and join requests), [`side`] (the side panes' list widget),
//! [`online`] (who is online),
//! [`files`] (shared files), [`games`] (the invite board), [`board`] (the
//! tic-tac-toe board), [`transfers`] (the gauges of running transfers),
//! [`status`] (the status bar), [`help`] (the key overlay and the send
//! confirmation), [`prompt`] (save/upload questions), [`search`] (search
//! results). [`layout`] places them, and the app uses the same layout to
//! find what a mouse click hit. [`theme`] holds every colour and style.
//!
//! Every piece is drawn through a [`Canvas`] and named by a [`Part`]: the
//! terminal's frame is one canvas, and the size-grid test has another that
//! checks each piece writes only inside the area the layout gave it.

pub mod board;
pub mod conversations;
pub mod files;
pub mod games;
pub mod help;
pub mod input;
pub mod layout;
pub mod login;
pub mod messages;
pub mod online;
pub mod prompt;
pub mod search;
pub mod side;
pub mod status;
pub mod theme;
pub mod transfers;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use chatroom_shared::message::Target;

use crate::app::conversations::label as conversations_label;
use crate::app::{App, ChatView, Focus, Screen};
use crate::text;

/// What a piece of the screen is, so that a test can check it: panes and
/// overlays have a border all round; plain pieces have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A side pane, the message list, the input box or the transfers strip,
    /// with a border all round (named for messages).
    Pane(&'static str),
    /// The tic-tac-toe board (a bordered pane with the grid inside).
    Board,
    /// Something drawn over the panes with a border all round (help, search,
    /// prompts).
    Overlay(&'static str),
    /// Something without a border of its own (the status bar, the text in
    /// the input box, the login screen, the space cleared under an overlay).
    Plain(&'static str),
}

/// Where the screen is drawn: the terminal's frame, or a test's recorder.
pub trait Canvas {
    /// The whole drawing area.
    fn area(&self) -> Rect;
    /// Draw `widget`, which is `part`, in `area`.
    fn render<W: Widget>(&mut self, part: Part, widget: W, area: Rect);
    /// Put the terminal's cursor at `at` (where text is typed); a canvas
    /// without one ignores it.
    fn set_cursor(&mut self, _at: ratatui::layout::Position) {}
}

impl Canvas for Frame<'_> {
    fn area(&self) -> Rect {
        Frame::area(self)
    }

    fn render<W: Widget>(&mut self, _part: Part, widget: W, area: Rect) {
        self.render_widget(widget, area);
    }

    fn set_cursor(&mut self, at: ratatui::layout::Position) {
        self.set_cursor_position(at);
    }
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    draw_on(frame, app);
}

/// Draw the whole screen on `canvas`.
pub fn draw_on(canvas: &mut impl Canvas, app: &App) {
    let area = canvas.area();
    if layout::too_small(area) {
        draw_too_small(canvas, area);
        return;
    }
    match &app.screen {
        Screen::Login(form) => canvas.render(Part::Plain("login"), login::LoginView { form }, area),
        Screen::Chat(chat) => draw_chat(canvas, area, app, chat),
    }
    if app.help_open {
        let rect = help::overlay_rect(area);
        clear_around(canvas, rect);
        canvas.render(
            Part::Overlay("help"),
            help::HelpOverlay {
                scroll: app.help_scroll,
            },
            rect,
        );
    }
}

/// True when nothing is drawn over the input (help, a confirmation, a
/// prompt, search results): only then does the terminal's cursor show there.
fn no_overlay(app: &App, chat: &ChatView) -> bool {
    !app.help_open
        && chat.compose.confirm.is_none()
        && chat.sharing.prompt.is_none()
        && chat.search.is_none()
}

/// Clear an overlay's area plus one column on each side, so a wide character
/// (CJK, emoji) that starts just left of the overlay cannot bleed into it.
fn clear_around(canvas: &mut impl Canvas, rect: Rect) {
    let area = canvas.area();
    let x = rect.x.saturating_sub(1).max(area.x);
    let right = (rect.x + rect.width + 1).min(area.x + area.width);
    canvas.render(
        Part::Plain("cleared under an overlay"),
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

fn draw_too_small(canvas: &mut impl Canvas, area: Rect) {
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
    canvas.render(
        Part::Plain("too small"),
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// The message pane's title: which conversation it shows.
fn messages_title(chat: &ChatView) -> String {
    let conv = chat.convs.shown();
    match (&conv.target, &conv.group) {
        (Target::Room, _) => format!(" Main room · {} ", chat.server),
        (Target::User { user }, _) => format!(" @{user} · direct messages "),
        (Target::Group { group }, None) => format!(" #{group} "),
        (Target::Group { group }, Some(g)) => {
            let kind = if g.private { "private group" } else { "group" };
            let state = if conv.is_closed() {
                " (closed)".to_owned()
            } else {
                format!(" · {} member(s)", g.members)
            };
            let comment = g
                .comment
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(|c| format!(" · {}", text::sanitize_line(c)))
                .unwrap_or_default();
            format!(" #{group} · {kind} of {}{state}{comment} ", g.creator)
        }
    }
}

fn draw_chat(canvas: &mut impl Canvas, area: Rect, app: &App, chat: &ChatView) {
    let r = layout::for_chat(area, chat);
    let title_room = usize::from(r.messages.width.saturating_sub(4));
    let mut messages_block = Block::bordered()
        .title(text::truncate(&messages_title(chat), title_room))
        .border_style(border(chat.focus == Focus::Messages));
    let elsewhere = chat.convs.unread_elsewhere();
    if elsewhere > 0 {
        let note = format!(" {elsewhere} unread elsewhere (Alt-↓) ");
        messages_block = messages_block.title_bottom(Line::from(note).right_aligned().bold());
    }
    let pending = chat.pending_entries(app.now);
    let log = chat.log();
    canvas.render(
        Part::Pane("messages"),
        messages::MessageList {
            entries: log.entries(),
            pending: &pending,
            heights: log.heights(),
            scroll: log.scroll,
            utc_offset_secs: app.utc_offset_secs,
            unseen_below: log.unseen_below,
            block: Some(messages_block),
            marked: log.marked,
        },
        r.messages,
    );
    if let Some(rect) = r.conversations {
        canvas.render(
            Part::Pane("conversations"),
            conversations::ConversationsPane { chat },
            rect,
        );
    }
    if let Some(rect) = r.users {
        canvas.render(Part::Pane("users"), online::OnlinePane { chat }, rect);
    }
    if let Some(rect) = r.files {
        canvas.render(
            Part::Pane("files"),
            files::FilesPane {
                chat,
                utc_offset_secs: app.utc_offset_secs,
            },
            rect,
        );
    }
    if let Some(rect) = r.invites {
        let width = rect.width.saturating_sub(2);
        canvas.render(
            Part::Pane("games"),
            games::invites(chat, app.now, width),
            rect,
        );
    }
    if let (Some(rect), Some(board)) = (r.board, &chat.games.board) {
        canvas.render(
            Part::Board,
            board::BoardView {
                board,
                me: &chat.me,
                now: app.now,
                focused: chat.focus == Focus::Board,
            },
            rect,
        );
    }
    if let Some(rect) = r.transfers {
        canvas.render(
            Part::Pane("transfers"),
            transfers::TransfersStrip {
                sharing: &chat.sharing,
                now: app.now,
                files_pane: r.files.is_some(),
            },
            rect,
        );
    }
    let shown = chat.convs.shown();
    let read_only = shown.read_only_notice();
    let input_title = match (&shown.target, &read_only) {
        (_, Some(_)) => format!(" {} · read-only ", conversations_label(&shown.target)),
        (Target::Room, None) => " message ".to_owned(),
        (other, None) => format!(" message to {} ", conversations_label(other)),
    };
    let mut input_block = Block::bordered()
        .title(input_title)
        .border_style(border(chat.focus == Focus::Input));
    if let Some(hint) = chat.compose.hint() {
        input_block = input_block.title_bottom(Line::from(format!(" {hint} ")).italic());
    } else if chat.tab_found_nothing {
        let note = " Tab: nothing to complete · Shift-Tab: panes ";
        input_block = input_block.title_bottom(Line::from(note).italic());
    }
    let inner = input_block.inner(r.input);
    canvas.render(Part::Pane("input"), input_block, r.input);
    let text = input::InputText {
        compose: &chat.compose,
        focused: chat.focus == Focus::Input && no_overlay(app, chat),
        read_only: read_only.as_deref(),
    };
    if let Some(at) = text.cursor_position(inner) {
        // The terminal's own cursor: input methods place their window there.
        canvas.set_cursor(at);
    }
    canvas.render(Part::Plain("input text"), text, inner);
    canvas.render(
        Part::Plain("status"),
        status::StatusBar {
            chat,
            help_open: app.help_open,
        },
        r.status,
    );
    if let Some(text) = &chat.compose.confirm {
        let rect = layout::overlay(area, 50, 7);
        clear_around(canvas, rect);
        canvas.render(
            Part::Overlay("confirm send"),
            help::ConfirmSend {
                lines: text.lines().count(),
            },
            rect,
        );
    }
    if let Some(p) = &chat.sharing.prompt {
        let rect = layout::overlay(area, 76, 5);
        clear_around(canvas, rect);
        canvas.render(
            Part::Overlay("prompt"),
            prompt::PromptOverlay { prompt: p },
            rect,
        );
    }
    if let Some(s) = &chat.search {
        let rect = search::overlay_rect(area);
        clear_around(canvas, rect);
        canvas.render(
            Part::Overlay("search"),
            search::SearchOverlay {
                search: s,
                me: &chat.me,
                utc_offset_secs: app.utc_offset_secs,
            },
            rect,
        );
    }
}
