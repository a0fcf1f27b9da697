//! The message list: chat messages, announcements, joins, leaves and the
//! client's own notices, wrapped to the pane's width, newest at the bottom.
//!
//! Every entry is laid out as "HH:MM [name]: text"; lines after the first are
//! indented to where the text starts, unless that leaves fewer than
//! [`MIN_TEXT_COLUMNS`] columns, in which case they start at column 0. All
//! text passes through [`text::sanitize_text`] first, so nothing a peer sends
//! can reach the terminal as a control sequence. Widths come from [`text`].

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

use chatroom_shared::message::LeaveReason;

use super::theme;
use crate::app::entry::{Entry, EntryKind};
use crate::text;

/// Continuation lines are indented under the text only if that leaves at
/// least this many columns; otherwise they use the full width.
pub const MIN_TEXT_COLUMNS: usize = 10;

/// Stands between the time and the name of one's own messages, where others'
/// messages have a space.
const OWN_MARKER: &str = "▸";
/// Label of announcements.
const ADMIN_LABEL: &str = "Admin:";
/// Stands between the time and the text of the client's notices.
const NOTICE_MARKER: &str = "* ";

/// The line heights a log keeps for its entries at one width, so that the
/// list skips what lies below the view without wrapping it.
#[derive(Debug, Clone, Copy)]
pub struct Heights<'a> {
    /// The width (inside the border) the heights are for.
    pub width: u16,
    /// Lines of each entry, in the order of the entries.
    pub each: &'a [u32],
    /// The sum of `each`.
    pub total: usize,
}

/// Draws the message list; built afresh for every frame from the app's state.
pub struct MessageList<'a> {
    /// The stored entries (and joins, notices), oldest first.
    pub entries: &'a [Entry],
    /// Shown after `entries`: own messages waiting for their ack.
    pub pending: &'a [Entry],
    /// The lines of each of `entries`, when known for some width: used only
    /// when it is the width drawn at. Without them the list wraps every
    /// entry from the bottom up to the top of the view.
    pub heights: Option<Heights<'a>>,
    /// Lines scrolled up from the bottom; 0 follows the newest entry. Larger
    /// values than [`max_scroll`] show the oldest line at the top.
    pub scroll: usize,
    /// The local time zone's offset, for the time column.
    pub utc_offset_secs: i32,
    /// Entries that arrived while scrolled up; when scrolled up and not 0,
    /// the last row says how many are waiting below.
    pub unseen_below: usize,
    /// A border or title around the list.
    pub block: Option<Block<'a>>,
    /// The stored message to highlight (where a jump from search went).
    pub marked: Option<i64>,
}

impl MessageList<'_> {
    /// The lines of one entry, highlighted when it is the marked one.
    fn lines_of(&self, entry: &Entry, width: usize) -> Vec<Line<'static>> {
        let lines = entry_lines(entry, width, self.utc_offset_secs);
        if entry.id.is_some() && entry.id == self.marked {
            lines
                .into_iter()
                .map(|line| line.patch_style(theme::jump_target()))
                .collect()
        } else {
            lines
        }
    }

    /// The rows of the view, bottom first, and the scroll they are at
    /// (clamped so the oldest line is at the top at most).
    fn visible(&self, width: u16, height: usize) -> (Vec<Line<'static>>, usize) {
        let cols = usize::from(width);
        let known = self
            .heights
            .filter(|h| h.width == width && h.each.len() == self.entries.len());
        let newest_first = self.pending.iter().rev().map(|e| (e, None)).chain(
            self.entries
                .iter()
                .enumerate()
                .rev()
                .map(|(i, e)| (e, known.map(|h| h.each[i] as usize))),
        );
        let Some(known) = known else {
            // Lay out only as many entries, newest first, as the view needs.
            let wanted = self.scroll.saturating_add(height);
            let mut lines: Vec<Line<'static>> = Vec::new();
            for (entry, _) in newest_first {
                lines.extend(self.lines_of(entry, cols).into_iter().rev());
                if lines.len() >= wanted {
                    break;
                }
            }
            let scroll = self.scroll.min(lines.len().saturating_sub(height));
            lines.drain(..scroll);
            lines.truncate(height);
            return (lines, scroll);
        };
        // The heights are known: skip what lies below the view by adding
        // them up, and wrap only the entries the view shows.
        let pending: Vec<Vec<Line<'static>>> = self
            .pending
            .iter()
            .map(|e| self.lines_of(e, cols))
            .collect();
        let total = known.total + pending.iter().map(Vec::len).sum::<usize>();
        let scroll = self.scroll.min(total.saturating_sub(height));
        let mut skip = scroll;
        let mut rows = Vec::with_capacity(height);
        let mut pending = pending.into_iter().rev();
        for (entry, lines_known) in newest_first {
            if rows.len() >= height {
                break;
            }
            if let Some(n) = lines_known
                && skip >= n
            {
                skip -= n;
                continue;
            }
            let lines = match lines_known {
                Some(_) => self.lines_of(entry, cols),
                None => pending.next().unwrap_or_default(),
            };
            if skip >= lines.len() {
                skip -= lines.len();
                continue;
            }
            rows.extend(lines.into_iter().rev().skip(skip));
            skip = 0;
        }
        rows.truncate(height);
        (rows, scroll)
    }
}

impl Widget for MessageList<'_> {
    fn render(mut self, area: Rect, buf: &mut Buffer) {
        let area = match self.block.take() {
            Some(block) => {
                let inner = block.inner(area);
                block.render(area, buf);
                inner
            }
            None => area,
        };
        if area.is_empty() {
            return;
        }
        let (rows, scroll) = self.visible(area.width, usize::from(area.height));
        let bottom = area.bottom();
        for (row, line) in (1..).zip(&rows) {
            buf.set_line(area.x, bottom - row, line, area.width);
        }
        if scroll > 0 && self.unseen_below > 0 {
            let row = Rect {
                y: bottom - 1,
                height: 1,
                ..area
            };
            draw_unseen_marker(self.unseen_below, row, buf);
        }
    }
}

/// Every line of every entry at this width, oldest first, for callers that
/// need the whole layout (the widget itself lays out only what it shows).
pub fn rendered_lines(entries: &[Entry], width: u16, utc_offset_secs: i32) -> Vec<Line<'static>> {
    entries
        .iter()
        .flat_map(|e| entry_lines(e, usize::from(width), utc_offset_secs))
        .collect()
}

/// How many lines one entry takes at this width (what a log keeps per entry).
pub fn entry_height(entry: &Entry, width: u16) -> usize {
    // The time column is five cells at every offset, so the offset does not
    // change the height.
    entry_lines(entry, usize::from(width), 0).len()
}

/// How many lines the entries take at this width.
pub fn line_count(entries: &[Entry], width: u16, utc_offset_secs: i32) -> usize {
    entries
        .iter()
        .map(|e| entry_lines(e, usize::from(width), utc_offset_secs).len())
        .sum()
}

/// The largest useful `scroll` for a list drawn in `width` × `height` cells
/// (inside its block): the oldest line is then at the top.
pub fn max_scroll(entries: &[Entry], width: u16, height: u16, utc_offset_secs: i32) -> usize {
    line_count(entries, width, utc_offset_secs).saturating_sub(usize::from(height))
}

/// The "↓ N new messages below" text.
fn unseen_text(n: usize) -> String {
    let noun = if n == 1 { "message" } else { "messages" };
    format!(" ↓ {n} new {noun} below ")
}

fn draw_unseen_marker(n: usize, row: Rect, buf: &mut Buffer) {
    let label = text::truncate(&unseen_text(n), usize::from(row.width));
    for x in row.left()..row.right() {
        buf[(x, row.y)].reset();
    }
    let label_width = u16::try_from(text::str_width(&label)).unwrap_or(row.width);
    let x = row.x + row.width.saturating_sub(label_width) / 2;
    buf.set_stringn(
        x,
        row.y,
        &label,
        usize::from(row.width),
        theme::new_messages_marker(),
    );
}

/// The lines of one entry at this width.
fn entry_lines(entry: &Entry, width: usize, utc_offset_secs: i32) -> Vec<Line<'static>> {
    let time = Span::styled(theme::clock(entry.ts, utc_offset_secs), theme::timestamp());
    let body = text::sanitize_text(&entry.text);
    match &entry.kind {
        EntryKind::Message { from, own, mention } => {
            let name_room = width
                .saturating_sub(text::str_width(&time.content) + 5)
                .max(1);
            // "[name]: text", as the seed shows it; the brackets keep names
            // apart from the text whatever characters they hold.
            let name = format!(
                "[{}]",
                text::truncate(&text::sanitize_line(from), name_room)
            );
            let gap = if *own {
                Span::styled(OWN_MARKER, theme::own_marker(from))
            } else {
                Span::raw(" ")
            };
            let head = vec![
                time,
                gap,
                Span::styled(name, theme::name(from, *own)),
                Span::raw(": "),
            ];
            let pending = *own && entry.id.is_none();
            lay_out(head, &body, theme::message_text(*mention, pending), width)
        }
        EntryKind::Announcement => {
            let head = vec![
                time,
                Span::raw(" "),
                Span::styled(ADMIN_LABEL, theme::announcement_label()),
                Span::raw(" "),
            ];
            lay_out(head, &body, theme::announcement_text(), width)
        }
        EntryKind::Joined(name) => {
            let line = format!("[{}] joined the chat room", text::sanitize_line(name));
            lay_out(vec![time, Span::raw(" ")], &line, theme::presence(), width)
        }
        EntryKind::Left(name, reason) => {
            let name = text::sanitize_line(name);
            let line = match leave_reason(*reason) {
                Some(why) => format!("[{name}] left the chat room ({why})"),
                None => format!("[{name}] left the chat room"),
            };
            lay_out(vec![time, Span::raw(" ")], &line, theme::presence(), width)
        }
        EntryKind::Notice => {
            let head = vec![
                time,
                Span::raw(" "),
                Span::styled(NOTICE_MARKER, theme::notice()),
            ];
            lay_out(head, &body, theme::notice(), width)
        }
    }
}

/// Why someone left, as shown after "left the chat room"; nothing for a
/// plain quit.
fn leave_reason(reason: LeaveReason) -> Option<&'static str> {
    match reason {
        LeaveReason::Quit => None,
        LeaveReason::Disconnected => Some("disconnected"),
        LeaveReason::Timeout => Some("timed out"),
        LeaveReason::TooSlow => Some("too slow"),
        LeaveReason::Kicked => Some("kicked"),
        LeaveReason::Banned => Some("banned"),
    }
}

/// `head` then `body` wrapped after it: continuation lines indented under the
/// body's start, or at column 0 when the indent would leave too little room.
fn lay_out(head: Vec<Span<'static>>, body: &str, style: Style, width: usize) -> Vec<Line<'static>> {
    let head_width: usize = head.iter().map(|s| text::str_width(&s.content)).sum();
    let room = width.saturating_sub(head_width);
    let (wrapped, indent) = if room >= MIN_TEXT_COLUMNS {
        (text::wrap(body, room), head_width)
    } else {
        (text::wrap_with_first(body, room, width), 0)
    };
    let mut wrapped = wrapped.into_iter();
    let mut first = head;
    if let Some(line) = wrapped.next().filter(|l| !l.is_empty()) {
        first.push(Span::styled(line, style));
    }
    let mut lines = vec![Line::from(first)];
    for line in wrapped {
        let mut spans = Vec::with_capacity(2);
        if indent > 0 {
            spans.push(Span::raw(" ".repeat(indent)));
        }
        if !line.is_empty() {
            spans.push(Span::styled(line, style));
        }
        lines.push(Line::from(spans));
    }
    lines
}

#[cfg(test)]
mod tests {
    use insta::assert_snapshot;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::{Color, Modifier};

    use super::*;

    /// 2026-01-01 at `h:m` UTC, in Unix milliseconds.
    fn at(h: i64, m: i64) -> i64 {
        1_767_225_600_000 + (h * 60 + m) * 60_000
    }

    fn entry(kind: EntryKind, text: &str, h: i64, m: i64) -> Entry {
        Entry {
            id: Some(1),
            ts: at(h, m),
            kind,
            text: text.to_owned(),
        }
    }

    fn msg(from: &str, text: &str, h: i64, m: i64) -> Entry {
        let kind = EntryKind::Message {
            from: from.into(),
            own: false,
            mention: false,
        };
        entry(kind, text, h, m)
    }

    fn own(text: &str, h: i64, m: i64) -> Entry {
        let kind = EntryKind::Message {
            from: "me".into(),
            own: true,
            mention: false,
        };
        entry(kind, text, h, m)
    }

    fn list(entries: &[Entry], scroll: usize, unseen_below: usize) -> MessageList<'_> {
        MessageList {
            entries,
            pending: &[],
            heights: None,
            scroll,
            utc_offset_secs: 0,
            unseen_below,
            block: Some(Block::bordered().title(" chat ")),
            marked: None,
        }
    }

    /// The buffer's text, one row per line, skipping cells hidden by wide
    /// clusters.
    fn buffer_text(buf: &Buffer) -> String {
        let mut out = String::new();
        for y in buf.area.top()..buf.area.bottom() {
            let mut hidden = 0;
            for x in buf.area.left()..buf.area.right() {
                let symbol = buf[(x, y)].symbol();
                if hidden == 0 {
                    out.push_str(symbol);
                    hidden = text::str_width(symbol).max(1);
                }
                hidden -= 1;
            }
            out.push('\n');
        }
        out
    }

    fn draw(list: MessageList<'_>, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| f.render_widget(list, f.area())).unwrap();
        buffer_text(terminal.backend().buffer())
    }

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    fn mix() -> Vec<Entry> {
        vec![
            entry(EntryKind::Joined("李小龙".into()), "", 9, 0),
            msg("alice", "good morning 😀", 9, 1),
            msg("李小龙", "早上好！今天天气很好。", 9, 2),
            entry(EntryKind::Announcement, "maintenance at noon", 9, 3),
            own("👩\u{200D}👩\u{200D}👧 🇫🇷 ❤\u{FE0F} e\u{301}", 9, 4),
            entry(
                EntryKind::Left("bob".into(), LeaveReason::TooSlow),
                "",
                9,
                5,
            ),
            entry(EntryKind::Notice, "reconnecting…", 9, 6),
        ]
    }

    #[test]
    fn entries_read_time_name_text() {
        let lines = rendered_lines(&mix(), 60, 0);
        assert_eq!(
            plain(&lines),
            [
                "09:00 [李小龙] joined the chat room",
                "09:01 [alice]: good morning 😀",
                "09:02 [李小龙]: 早上好！今天天气很好。",
                "09:03 Admin: maintenance at noon",
                "09:04▸[me]: 👩\u{200D}👩\u{200D}👧 🇫🇷 ❤\u{FE0F} e\u{301}",
                "09:05 [bob] left the chat room (too slow)",
                "09:06 * reconnecting…",
            ]
        );
    }

    #[test]
    fn leave_reasons_show_in_parentheses_except_quit() {
        let cases = [
            (LeaveReason::Quit, "[bob] left the chat room"),
            (
                LeaveReason::Disconnected,
                "[bob] left the chat room (disconnected)",
            ),
            (LeaveReason::Timeout, "[bob] left the chat room (timed out)"),
            (LeaveReason::TooSlow, "[bob] left the chat room (too slow)"),
            (LeaveReason::Kicked, "[bob] left the chat room (kicked)"),
            (LeaveReason::Banned, "[bob] left the chat room (banned)"),
        ];
        for (reason, want) in cases {
            let e = entry(EntryKind::Left("bob".into(), reason), "", 0, 0);
            assert_eq!(
                plain(&rendered_lines(&[e], 80, 0)),
                [format!("00:00 {want}")]
            );
        }
    }

    #[test]
    fn continuation_lines_are_indented_under_the_text() {
        let e = msg("bob", "one two three four five six seven eight", 12, 0);
        let lines = plain(&rendered_lines(&[e], 30, 0));
        assert_eq!(
            lines,
            [
                "12:00 [bob]: one two three",
                "             four five six",
                "             seven eight"
            ]
        );
    }

    #[test]
    fn narrow_room_continues_at_column_zero() {
        let e = msg("alexandra", "hi there, how are you", 12, 0);
        let lines = plain(&rendered_lines(&[e], 20, 0));
        assert_eq!(lines, ["12:00 [alexandra]: ", "hi there, how are", "you"]);
    }

    #[test]
    fn lines_never_exceed_the_width() {
        let mut entries = mix();
        entries.push(msg(
            "a_rather_long_name_of_32_chars__",
            "x".repeat(100).as_str(),
            1,
            2,
        ));
        entries.push(msg(
            "名前名前名前名前名前名前",
            "中文 text\twith\ttabs\nand lines",
            1,
            2,
        ));
        for width in 13..80u16 {
            for line in rendered_lines(&entries, width, 0) {
                let w: usize = line.spans.iter().map(|s| text::str_width(&s.content)).sum();
                assert!(w <= usize::from(width), "{width}: {line}");
            }
        }
    }

    #[test]
    fn control_characters_are_shown_inert() {
        let e = msg("ev\u{1b}il", "\u{1b}[2Jgone?\u{7}\u{9b}31m", 0, 0);
        let lines = plain(&rendered_lines(&[e], 80, 0));
        assert_eq!(
            lines,
            ["00:00 [ev\u{FFFD}il]: \u{FFFD}[2Jgone?\u{FFFD}\u{FFFD}31m"]
        );
    }

    #[test]
    fn max_scroll_counts_wrapped_lines() {
        let entries = vec![
            msg("bob", "one two three four five six seven eight", 12, 0),
            own("hi", 12, 1),
        ];
        assert_eq!(line_count(&entries, 30, 0), 4);
        assert_eq!(max_scroll(&entries, 30, 3, 0), 1);
        assert_eq!(max_scroll(&entries, 30, 10, 0), 0);
        assert_eq!(rendered_lines(&entries, 30, 0).len(), 4);
    }

    #[test]
    fn newest_is_at_the_bottom_and_scroll_is_clamped() {
        let entries: Vec<Entry> = (0..10)
            .map(|i| msg("bob", &format!("m{i}"), 1, i))
            .collect();
        let bottom = draw(list(&entries, 0, 0), 20, 5);
        assert!(bottom.lines().nth(3).unwrap().contains("m9"));
        assert!(bottom.lines().nth(1).unwrap().contains("m7"));
        let top = draw(list(&entries, 7, 0), 20, 5);
        assert!(top.lines().nth(1).unwrap().contains("m0"));
        assert_eq!(draw(list(&entries, 1000, 0), 20, 5), top);
    }

    #[test]
    fn known_heights_draw_exactly_what_wrapping_everything_draws() {
        let mut entries = mix();
        for i in 0..40 {
            let text = "word ".repeat(i % 9 + 1);
            entries.push(msg("bob", &text, 2, i as i64));
        }
        let mut pending = own("waiting for its ack", 3, 0);
        pending.id = None;
        let pending = [pending.clone(), pending];
        let width = 24;
        let each: Vec<u32> = entries
            .iter()
            .map(|e| entry_height(e, width - 2) as u32)
            .collect();
        let total = each.iter().map(|&h| h as usize).sum();
        for scroll in [0, 1, 2, 3, 7, 30, 60, total - 5, total, 10_000] {
            let base = MessageList {
                pending: &pending,
                ..list(&entries, scroll, 2)
            };
            let known = MessageList {
                pending: &pending,
                heights: Some(Heights {
                    width: width - 2,
                    each: &each,
                    total,
                }),
                ..list(&entries, scroll, 2)
            };
            assert_eq!(draw(known, width, 9), draw(base, width, 9), "{scroll}");
        }
    }

    #[test]
    fn heights_for_another_width_are_not_used() {
        let entries = mix();
        let wrong = vec![5; entries.len()];
        let known = MessageList {
            heights: Some(Heights {
                width: 70,
                each: &wrong,
                total: 5 * entries.len(),
            }),
            ..list(&entries, 0, 0)
        };
        assert_eq!(draw(known, 48, 9), draw(list(&entries, 0, 0), 48, 9));
    }

    #[test]
    fn few_entries_sit_at_the_bottom() {
        let entries = [msg("bob", "only", 1, 0)];
        let text = draw(list(&entries, 0, 0), 20, 5);
        assert!(text.lines().nth(3).unwrap().contains("[bob]: only"));
        assert!(!text.lines().nth(1).unwrap().contains("bob"));
    }

    #[test]
    fn marker_shows_only_when_scrolled_up_with_unseen_messages() {
        let entries: Vec<Entry> = (0..10)
            .map(|i| msg("bob", &format!("m{i}"), 1, i))
            .collect();
        let marker = |s: usize, n: usize| draw(list(&entries, s, n), 30, 6).contains("new message");
        assert!(marker(2, 3));
        assert!(!marker(0, 3));
        assert!(!marker(2, 0));
        assert!(draw(list(&entries, 2, 1), 30, 6).contains("↓ 1 new message below"));
    }

    #[test]
    fn styles_set_entries_apart() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 3));
        let mention = Entry {
            kind: EntryKind::Message {
                from: "bob".into(),
                own: false,
                mention: true,
            },
            ..msg("bob", "hey me", 0, 0)
        };
        let entries = [
            entry(EntryKind::Announcement, "hi", 0, 0),
            own("x", 0, 0),
            mention,
        ];
        let widget = MessageList {
            block: None,
            ..list(&entries, 0, 0)
        };
        widget.render(buf.area, &mut buf);
        let admin = buf[(6, 0)].style();
        assert_eq!(admin.fg, Some(Color::Yellow));
        assert!(admin.add_modifier.contains(Modifier::BOLD));
        assert_eq!(buf[(5, 1)].symbol(), OWN_MARKER);
        assert!(buf[(6, 1)].style().add_modifier.contains(Modifier::BOLD));
        assert_eq!(buf[(13, 2)].symbol(), "h");
        assert_eq!(buf[(13, 2)].style().bg, Some(Color::Yellow));
        assert_ne!(buf[(6, 2)].style().bg, Some(Color::Yellow));
    }

    #[test]
    fn pending_own_messages_are_dim() {
        let mut pending = own("sending", 0, 0);
        pending.id = None;
        let lines = rendered_lines(&[pending, own("sent", 0, 0)], 40, 0);
        let body = |l: &Line<'_>| l.spans.last().unwrap().style;
        assert!(body(&lines[0]).add_modifier.contains(Modifier::DIM));
        assert!(!body(&lines[1]).add_modifier.contains(Modifier::DIM));
    }

    #[test]
    fn snapshot_mixed_scripts_and_announcement() {
        assert_snapshot!(draw(list(&mix(), 0, 0), 48, 9));
    }

    #[test]
    fn snapshot_wrapped_long_message() {
        let long = "Wrapping keeps words whole where it can: \
                    https://example.com/a/very/long/path/that/must/break and 中文也可以在字符之间换行。 \
                    Emoji 👩\u{200D}👩\u{200D}👧 stay whole.\n\tTabs and new lines too.";
        let entries = [
            msg("alice", "short one", 10, 0),
            msg("bob", long, 10, 1),
            own("ok", 10, 2),
        ];
        assert_snapshot!(draw(list(&entries, 0, 0), 40, 14));
    }

    #[test]
    fn snapshot_scrolled_up_with_new_messages_marker() {
        let entries: Vec<Entry> = (0..12)
            .map(|i| {
                msg(
                    ["alice", "bob", "carol"][i % 3],
                    &format!("message {i}"),
                    11,
                    i as i64,
                )
            })
            .collect();
        assert_snapshot!(draw(list(&entries, 4, 3), 40, 8));
    }

    #[test]
    fn snapshot_narrow_width() {
        let mut entries = mix();
        entries.push(msg("alexandra", "a narrow pane still reads well", 9, 7));
        assert_snapshot!(draw(list(&entries, 0, 0), 20, 22));
    }
}
