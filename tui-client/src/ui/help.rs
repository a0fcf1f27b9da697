//! Overlays: the help listing every key, and the long-message confirmation.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

/// Every key, by where it works. Shown by F1, `?` and `/help`.
pub const KEYS: &[(&str, &str)] = &[
    ("Enter", "send the message (or run a /command)"),
    ("Alt-Enter, Shift-Enter", "new line in the message"),
    ("Up / Down (empty input)", "recall sent messages"),
    (
        "Tab / Shift-Tab",
        "complete a name or /command; else next pane",
    ),
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
    ("Enter (online users)", "mention the selected user"),
    (
        "Enter, d or click (files)",
        "download the selected file (asks where)",
    ),
    ("u (files)", "upload a file; Tab completes the path"),
    ("x (files)", "cancel the newest running transfer"),
    ("Enter (games)", "accept the invitation, or watch the game"),
    ("n / c (games)", "invite anyone to play / withdraw yours"),
    ("F2", "to the game board and back"),
    (
        "←↑↓→, Enter, Space (board)",
        "move the cursor, place your mark",
    ),
    (
        "1-9 or click (board)",
        "place in a cell: 1 top left … 9 bottom right",
    ),
    ("r / q (board)", "resign / close a finished or watched game"),
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
        "/approve|reject|remove NAME",
        "decide a request; remove a member",
    ),
    (
        "/search WORDS",
        "find messages; Enter goes to one in its place",
    ),
    ("/help  /quit", "commands; //text sends \"/text\""),
];

/// Width of the help overlay.
pub const WIDTH: u16 = 76;
/// Width of the key column.
const KEY_COLUMN: usize = 28;

/// Lines of the help text (the keys, a gap, the login form's keys).
fn line_count() -> u16 {
    u16::try_from(KEYS.len() + 2).unwrap_or(u16::MAX)
}

/// Height the help overlay wants (it is cut to the screen and scrolls).
pub fn height() -> u16 {
    line_count() + 2
}

/// The furthest the help scrolls when `rows` rows of it are visible.
pub fn max_scroll(rows: u16) -> u16 {
    line_count().saturating_sub(rows)
}

/// The help overlay.
pub struct HelpOverlay {
    /// Lines scrolled off the top (for screens shorter than the help).
    pub scroll: u16,
}

impl Widget for HelpOverlay {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let rows = area.height.saturating_sub(2);
        let scroll = self.scroll.min(max_scroll(rows));
        let mut block = Block::bordered()
            .border_type(BorderType::Double)
            .title(Line::from(" Keys — Esc closes ").bold())
            .border_style(Color::Cyan);
        if max_scroll(rows) > 0 {
            let more = if scroll < max_scroll(rows) {
                " ↓ more "
            } else {
                " ↑ more "
            };
            block = block.title_bottom(Line::from(more).right_aligned());
        }
        let mut lines: Vec<Line> = KEYS
            .iter()
            .map(|(key, what)| {
                Line::from(vec![
                    format!("{key:<KEY_COLUMN$}").bold().fg(Color::Cyan),
                    (*what).into(),
                ])
            })
            .collect();
        lines.push(Line::from(""));
        lines.push(Line::from(
            "Login form: Tab moves, Enter logs in, Ctrl-R registers.".dim(),
        ));
        Paragraph::new(lines)
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
            let width = crate::text::str_width(key).max(KEY_COLUMN) + crate::text::str_width(what);
            assert!(width <= usize::from(WIDTH - 2), "{key}: {what}");
        }
    }
}
