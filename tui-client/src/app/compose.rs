//! The input box: editing (tui-textarea), recalling sent messages, completing
//! names and commands, and pasting.

use crossterm::event::KeyEvent;
use tui_textarea::{CursorMove, TextArea};

/// Slash commands the client knows, with a short description each.
pub const COMMANDS: &[(&str, &str)] = &[
    ("/help", "show every key and command"),
    ("/quit", "leave chatroom"),
    (
        "/upload",
        "share a file: /upload PATH, or /upload \"PATH\" comment",
    ),
    ("/game", "invite anyone online to tic-tac-toe"),
    ("/games", "list open invitations and games in play again"),
    (
        "/accept",
        "accept an invitation: /accept ID, or the newest without ID",
    ),
    ("/cancel", "withdraw your open invitation"),
    ("/resign", "give up the game you play"),
    ("/watch", "watch a game in play: /watch ID"),
    ("/unwatch", "stop watching; close a finished game"),
    ("/stats", "wins, losses and draws: /stats [NAME]"),
    (
        "/msg",
        "a direct message: /msg NAME text (delivered later if offline)",
    ),
    (
        "/create",
        "make a group: /create [--private] [--full-history] NAME [comment]",
    ),
    ("/join", "join a group (or ask to): /join NAME"),
    ("/leave", "leave the group on screen (or /leave NAME)"),
    ("/groups", "list the groups"),
    ("/members", "who is in the group on screen"),
    (
        "/approve",
        "let NAME into the group on screen: /approve NAME",
    ),
    ("/reject", "turn down NAME's request: /reject NAME"),
    (
        "/remove",
        "remove NAME from the group on screen: /remove NAME",
    ),
    ("/search", "find messages: /search WORDS; Enter goes to one"),
];

/// The input box's state.
#[derive(Debug, Clone)]
pub struct Compose {
    /// The editor.
    pub textarea: TextArea<'static>,
    history: Vec<String>,
    /// Index into `history` while recalling (Up/Down on an empty input).
    browsing: Option<usize>,
    /// A long message waiting for the user to confirm sending it.
    pub confirm: Option<String>,
}

impl Default for Compose {
    fn default() -> Self {
        Self::new()
    }
}

fn editor(lines: Vec<String>) -> TextArea<'static> {
    let mut t = TextArea::new(if lines.is_empty() {
        vec![String::new()]
    } else {
        lines
    });
    t.set_placeholder_text("Type a message; Enter sends, Alt-Enter starts a new line");
    t
}

impl Compose {
    /// An empty input box.
    pub fn new() -> Self {
        Self {
            textarea: editor(Vec::new()),
            history: Vec::new(),
            browsing: None,
            confirm: None,
        }
    }

    /// The whole text, lines joined with `\n`.
    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }

    /// True when nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.textarea.lines().iter().all(String::is_empty)
    }

    /// Number of lines typed.
    pub fn line_count(&self) -> usize {
        self.textarea.lines().len()
    }

    /// Replace the whole text, cursor at the end.
    pub fn set_text(&mut self, text: &str) {
        self.textarea = editor(text.split('\n').map(str::to_owned).collect());
        self.textarea.move_cursor(CursorMove::Bottom);
        self.textarea.move_cursor(CursorMove::End);
    }

    /// Take the text out (for sending), remembering it for recall.
    pub fn take(&mut self) -> String {
        let text = self.text();
        if !text.trim().is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        self.browsing = None;
        self.set_text("");
        text
    }

    /// Pass a key to the editor (typing, cursor movement, deletion).
    pub fn input(&mut self, key: KeyEvent) {
        self.browsing = None;
        self.textarea.input(key);
    }

    /// Show the cursor only while the input has the focus.
    pub fn show_cursor(&mut self, visible: bool) {
        let style = if visible {
            ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::REVERSED)
        } else {
            ratatui::style::Style::default()
        };
        self.textarea.set_cursor_style(style);
    }

    /// Start a new line at the cursor.
    pub fn newline(&mut self) {
        self.textarea.insert_newline();
    }

    /// Insert pasted text as it is, all lines at once (never sent line by line).
    pub fn paste(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        self.browsing = None;
        self.textarea.insert_str(text);
    }

    /// Up/Down on an empty input (or while recalling): step through sent
    /// messages. Returns false when the key should go to the editor instead.
    pub fn recall(&mut self, older: bool) -> bool {
        if self.browsing.is_none() && !self.is_empty() {
            return false;
        }
        if self.history.is_empty() {
            return self.browsing.is_none();
        }
        let next = match (self.browsing, older) {
            (None, true) => Some(self.history.len() - 1),
            (None, false) => return true,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < self.history.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        match next {
            Some(i) => {
                let text = self.history[i].clone();
                self.set_text(&text);
            }
            None => self.set_text(""),
        }
        self.browsing = next;
        true
    }

    /// Tab: complete the word before the cursor to a command (at the start
    /// of the input) or to a user name. Returns false when nothing matched.
    pub fn complete(&mut self, names: &[String]) -> bool {
        let (row, col) = self.textarea.cursor();
        let Some(line) = self.textarea.lines().get(row).cloned() else {
            return false;
        };
        let before: String = line.chars().take(col).collect();
        let after: String = line.chars().skip(col).collect();
        let word_start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &before[word_start..];
        if word.is_empty() {
            return false;
        }
        let candidates: Vec<String> = if row == 0 && word_start == 0 && word.starts_with('/') {
            COMMANDS
                .iter()
                .map(|(c, _)| (*c).to_owned())
                .filter(|c| c.starts_with(word))
                .collect()
        } else {
            let (at, stem) = word.strip_prefix('@').map_or(("", word), |s| ("@", s));
            let stem = stem.to_lowercase();
            names
                .iter()
                .filter(|n| n.to_lowercase().starts_with(&stem))
                .map(|n| format!("{at}{n}"))
                .collect()
        };
        let Some(completion) = common_prefix(&candidates) else {
            return false;
        };
        if completion.chars().count() <= word.chars().count() && candidates.len() > 1 {
            return false;
        }
        let suffix = if candidates.len() == 1 { " " } else { "" };
        let new_before = format!("{}{completion}{suffix}", &before[..word_start]);
        let mut lines = self.textarea.lines().to_vec();
        lines[row] = format!("{new_before}{after}");
        self.textarea = editor(lines);
        let cursor_col = u16::try_from(new_before.chars().count()).unwrap_or(u16::MAX);
        self.textarea.move_cursor(CursorMove::Jump(
            u16::try_from(row).unwrap_or(u16::MAX),
            cursor_col,
        ));
        true
    }

    /// A hint for the slash command being typed, e.g. "/help: show every key".
    pub fn hint(&self) -> Option<String> {
        let text = self.text();
        let first = text.split_whitespace().next()?;
        if !first.starts_with('/') || text.contains('\n') {
            return None;
        }
        let matches: Vec<String> = COMMANDS
            .iter()
            .filter(|(c, _)| c.starts_with(first))
            .map(|(c, d)| format!("{c} — {d}"))
            .collect();
        if matches.is_empty() {
            Some(format!("unknown command {first}; /help lists them"))
        } else {
            Some(matches.join("   "))
        }
    }
}

/// The longest common prefix of all candidates (case as in the first one).
fn common_prefix(candidates: &[String]) -> Option<String> {
    let first = candidates.first()?;
    let mut len = first.chars().count();
    for c in &candidates[1..] {
        len = first
            .chars()
            .zip(c.chars())
            .take(len)
            .take_while(|(a, b)| a.to_lowercase().eq(b.to_lowercase()))
            .count();
    }
    Some(first.chars().take(len).collect())
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyModifiers};

    use super::*;

    fn typed(text: &str) -> Compose {
        let mut c = Compose::new();
        for ch in text.chars() {
            c.input(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE));
        }
        c
    }

    #[test]
    fn recall_walks_back_and_forth_through_sent_messages() {
        let mut c = Compose::new();
        c.set_text("first");
        c.take();
        c.set_text("second");
        c.take();
        assert!(c.recall(true));
        assert_eq!(c.text(), "second");
        assert!(c.recall(true));
        assert_eq!(c.text(), "first");
        assert!(c.recall(true));
        assert_eq!(c.text(), "first");
        assert!(c.recall(false));
        assert_eq!(c.text(), "second");
        assert!(c.recall(false));
        assert_eq!(c.text(), "");
    }

    #[test]
    fn recall_leaves_a_typed_draft_alone() {
        let mut c = Compose::new();
        c.set_text("old");
        c.take();
        let mut c2 = typed("draft");
        c2.history = c.history.clone();
        assert!(!c2.recall(true));
        assert_eq!(c2.text(), "draft");
    }

    #[test]
    fn paste_keeps_all_lines_in_one_message() {
        let mut c = Compose::new();
        c.paste("one\r\ntwo\nthree");
        assert_eq!(c.line_count(), 3);
        assert_eq!(c.text(), "one\ntwo\nthree");
    }

    #[test]
    fn tab_completes_names_and_commands() {
        let names = vec!["alice".to_owned(), "albert".to_owned(), "张伟".to_owned()];
        let mut c = typed("hi ali");
        assert!(c.complete(&names));
        assert_eq!(c.text(), "hi alice ");
        let mut c = typed("@张");
        assert!(c.complete(&names));
        assert_eq!(c.text(), "@张伟 ");
        let mut c = typed("al");
        assert!(
            !c.complete(&names),
            "alice and albert share nothing more than al"
        );
        assert_eq!(c.text(), "al");
        let mut c = typed("/he");
        assert!(c.complete(&names));
        assert_eq!(c.text(), "/help ");
        let mut c = typed("zed");
        assert!(!c.complete(&names));
    }

    #[test]
    fn hint_describes_the_command_being_typed() {
        assert_eq!(typed("/q").hint().unwrap(), "/quit — leave chatroom");
        assert!(typed("/nope").hint().unwrap().contains("unknown command"));
        assert_eq!(typed("hello").hint(), None);
    }
}
