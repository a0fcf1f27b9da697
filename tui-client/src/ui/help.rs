//! Overlays: the help listing every key, and the long-message confirmation.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Paragraph, Widget, Wrap};

/// Every key, by where it works. Shown by F1, `?` and `/help`.
pub const KEYS: &[(&str, &str)] = &[
    ("Enter", "send the message (or run a /command)"),
    ("Alt-Enter, Shift-Enter", "new line in the message"),
    ("Up / Down (empty input)", "recall sent messages"),
    ("Tab", "complete a name or /command, or next pane"),
    ("Shift-Tab", "previous pane"),
    ("PageUp / PageDown", "scroll the messages"),
    ("mouse wheel", "scroll the messages"),
    ("click", "focus a pane or field, select an item"),
    ("↑ ↓ (messages)", "scroll a line; Home/End: oldest/newest"),
    ("Enter (online users)", "mention the selected user"),
    (
        "Enter, d or click (files)",
        "download the selected file (asks where)",
    ),
    ("u (files)", "upload a file; Tab completes the path"),
    ("x (files)", "cancel the newest running transfer"),
    ("Enter (games)", "accept the selected invitation"),
    ("Esc", "close this help; back to the input"),
    ("F1 or ?", "this help"),
    ("Ctrl-Q or Ctrl-C", "quit"),
    ("/upload PATH", "share a file; the whole rest is the path"),
    ("/upload \"PATH\" comment", "share a file with a comment"),
    ("/help  /quit", "commands; //text sends \"/text\""),
];

/// The help overlay.
pub struct HelpOverlay;

impl Widget for HelpOverlay {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered()
            .border_type(BorderType::Double)
            .title(Line::from(" Keys — Esc closes ").bold())
            .border_style(Color::Cyan);
        let mut lines: Vec<Line> = KEYS
            .iter()
            .map(|(key, what)| {
                Line::from(vec![
                    format!("{key:<26}").bold().fg(Color::Cyan),
                    (*what).into(),
                ])
            })
            .collect();
        lines.push(Line::from(""));
        lines.push(Line::from(
            "Login form: Tab moves, Enter logs in, Ctrl-R registers.".dim(),
        ));
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block)
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
