//! Overlays: the help listing every key, and the long-message confirmation.
//!
//! The help is as wide as the screen allows: on a narrow screen what a key
//! does goes under the key, wrapped, and the overlay scrolls.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

use crate::text::{str_width, wrap};

/// Every key, by where it works. Shown by F1, `?` and `/help`.
pub const KEYS: &[(&str, &str)] = &[
    ("Enter", "send the message (or run a /command)"),
    ("Alt-Enter, Shift-Enter", "new line in the message"),
    ("Up / Down (empty input)", "recall sent messages"),
    ("Tab", "complete a name or /command; empty: next pane"),
    ("Shift-Tab", "previous pane (Tab visits only those shown)"),
    (
        "PageUp / PageDown, wheel",
        "scroll the messages; past the top loads more",
    ),
    ("Alt-↑ / Alt-↓", "previous / next conversation"),
    (
        "Enter/click (conversations)",
        "show it; what you type goes there",
    ),
    (
        "a / r, click ✓ ✗ (requests)",
        "approve / reject a request to join your group",
    ),
    ("click", "focus a pane or field, select an item"),
    ("↑ ↓ (messages)", "scroll a line; Home/End: oldest/newest"),
    (
        "PgUp/PgDn Home/End (online)",
        "page through who is online, however many",
    ),
    ("Enter (online users)", "mention the selected user"),
    (
        "/ NAME (online users)",
        "find by the start of the name; Esc shows all",
    ),
    (
        "Enter, d or click (files)",
        "download the selected file (asks where)",
    ),
    ("u (files)", "upload a file; Tab completes the path"),
    ("x (files)", "cancel the newest running transfer"),
    ("Enter (games)", "accept the invitation, or watch the game"),
    ("n / c (games)", "invite anyone to play / withdraw yours"),
    ("F2", "to the game board and back (\"Your move: F2\")"),
    (
        "←↑↓→, Enter, Space (board)",
        "move the cursor, place your mark",
    ),
    (
        "1-9 or click (board)",
        "place in a cell: 1 top left … 9 bottom right",
    ),
    (
        "r, then y (board)",
        "resign (r asks first; n keeps playing)",
    ),
    ("q (board)", "close a finished or watched game"),
    (
        "typing in a pane",
        "goes to the input, and so does the focus",
    ),
    ("Esc", "close this help; back to the input"),
    ("F1 or ?", "this help (↑ ↓ scroll it)"),
    ("Ctrl-Q or Ctrl-C", "quit"),
    ("/upload PATH", "share a file; the whole rest is the path"),
    ("/upload \"PATH\" comment", "share a file with a comment"),
    (
        "/game  /cancel",
        "invite anyone to tic-tac-toe; withdraw it",
    ),
    (
        "/accept [ID]",
        "accept an invitation (the newest without ID)",
    ),
    ("/resign", "give up the game you play"),
    ("/watch ID  /unwatch", "watch a game in play; stop watching"),
    (
        "/stats [NAME]  /games",
        "wins, losses, draws; refresh the games",
    ),
    (
        "/msg NAME text",
        "direct message (kept for them while offline)",
    ),
    (
        "/create [--private] NAME",
        "a group; words after NAME are its comment",
    ),
    (
        "/create --full-history ...",
        "new members read what came before them too",
    ),
    (
        "/join NAME  /leave [NAME]",
        "join (or ask to join) a group; leave it",
    ),
    (
        "/groups  /members",
        "list the groups; who is in the one on screen",
    ),
    (
        "/approve NAME  /reject NAME",
        "let NAME in / turn the request down",
    ),
    ("/remove NAME", "remove a member of the group on screen"),
    (
        "/search WORDS",
        "find messages; Enter goes to one in its place",
    ),
    ("/help  /quit", "commands; //text sends \"/text\""),
];

/// Widest the help overlay gets (two columns: the key, what it does).
pub const WIDTH: u16 = 76;
/// Width of the key column.
const KEY_COLUMN: usize = 28;
/// Indent of what a key does, under the key, on a narrow screen.
const INDENT: &str = "  ";

/// The help's lines for an overlay `width` columns wide inside its border:
/// a key and what it does side by side when both fit, else what it does
/// on the lines under the key, wrapped.
pub fn lines(width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width).max(INDENT.len() + 1);
    let side_by_side = KEYS
        .iter()
        .all(|(_, what)| KEY_COLUMN + str_width(what) <= width);
    let mut lines = Vec::new();
    for (key, what) in KEYS {
        let key_style = Style::new().bold().fg(Color::Cyan);
        if side_by_side {
            lines.push(Line::from(vec![
                Span::styled(format!("{key:<KEY_COLUMN$}"), key_style),
                Span::raw(*what),
            ]));
        } else {
            lines.push(Line::from(Span::styled(*key, key_style)));
            for part in wrap(what, width - INDENT.len()) {
                lines.push(Line::from(format!("{INDENT}{part}")));
            }
        }
    }
    lines.push(Line::from(""));
    for part in wrap(LOGIN_KEYS, width) {
        lines.push(Line::from(part.dim()));
    }
    lines
}

/// The login form's keys, under the others.
const LOGIN_KEYS: &str = "Login form: Tab moves, Enter logs in, Ctrl-R registers.";

/// Where the help overlay goes on a screen of `area`: as wide as it wants
/// or the screen allows, as tall as its text or the screen allows (it
/// scrolls then).
pub fn overlay_rect(area: Rect) -> Rect {
    let width = WIDTH.min(area.width.saturating_sub(2));
    let count = u16::try_from(lines(width.saturating_sub(2)).len()).unwrap_or(u16::MAX);
    super::layout::overlay(area, width, count.saturating_add(2))
}

/// The furthest the help scrolls in the overlay `rect`.
pub fn max_scroll(rect: Rect) -> u16 {
    let count = u16::try_from(lines(rect.width.saturating_sub(2)).len()).unwrap_or(u16::MAX);
    count.saturating_sub(rect.height.saturating_sub(2))
}

/// The help overlay.
pub struct HelpOverlay {
    /// Lines scrolled off the top (for screens shorter than the help).
    pub scroll: u16,
}

impl Widget for HelpOverlay {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let max = max_scroll(area);
        let scroll = self.scroll.min(max);
        let mut block = Block::bordered()
            .border_type(BorderType::Double)
            .title(Line::from(" Keys — Esc closes ").bold())
            .border_style(Color::Cyan);
        if max > 0 {
            let more = if scroll < max {
                " ↓ more "
            } else {
                " ↑ more "
            };
            block = block.title_bottom(Line::from(more).right_aligned());
        }
        Paragraph::new(lines(area.width.saturating_sub(2)))
            .block(block)
            .scroll((scroll, 0))
            .render(area, buf);
    }
}

/// Asks before sending a long message.
pub struct ConfirmSend {
    /// How many lines the message has.
    pub lines: usize,
}

impl Widget for ConfirmSend {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered()
            .border_type(BorderType::Double)
            .title(Line::from(" Send a long message? ").bold())
            .border_style(Color::Yellow);
        Paragraph::new(vec![
            Line::from(format!("This message has {} lines.", self.lines)),
            Line::from(""),
            Line::from("Enter or y: send it · Esc or n: keep editing".bold()),
        ])
        .alignment(Alignment::Center)
        .block(block)
        .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_line_fits_the_overlay_without_wrapping() {
        for (key, what) in KEYS {
            let width = str_width(key).max(KEY_COLUMN) + str_width(what);
            assert!(width <= usize::from(WIDTH - 2), "{key}: {what}");
        }
        assert_eq!(lines(WIDTH - 2).len(), KEYS.len() + 2);
    }

    #[test]
    fn narrow_help_puts_what_a_key_does_under_it_and_fits() {
        for width in [44, 56, 70] {
            let lines = lines(width);
            assert!(lines.len() > KEYS.len() + 2, "{width}: stacked");
            for line in &lines {
                assert!(line.width() <= usize::from(width), "{width}: {line}");
            }
        }
    }
}
