//! Colours and styles of the client, in one place, so every pane looks alike
//! and the look can change without touching the widgets.
//!
//! Colours are the terminal's named colours (which follow its theme) plus two
//! from the 256-colour cube; highlights set both foreground and background so
//! they stay readable on dark and light themes. Also the clock format.

use chatroom_shared::tictactoe::Mark;
use ratatui::style::{Color, Modifier, Style};

/// The colours user names are drawn in: chosen to stay readable on common
/// dark and light themes, never the default foreground or background, and not the
/// yellow reserved for the administrator.
pub const PALETTE: [Color; 12] = [
    Color::Red,
    Color::Green,
    Color::Indexed(39), // sky blue (ANSI blue is too dark on dark themes)
    Color::Magenta,
    Color::Cyan,
    Color::LightRed,
    Color::LightGreen,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::Indexed(208), // orange
    Color::Indexed(141), // lavender
];

/// The colour of a user's name: the same on every client and every run (an
/// FNV-1a hash of the name), so people are recognised at a glance.
pub fn user_color(name: &str) -> Color {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    PALETTE[hash as usize % PALETTE.len()]
}

/// "HH:MM" of a timestamp (Unix milliseconds) at a UTC offset, for the time
/// column of the message list.
pub fn clock(ts_millis: i64, utc_offset_secs: i32) -> String {
    let secs = ts_millis
        .div_euclid(1000)
        .saturating_add(i64::from(utc_offset_secs));
    let of_day = secs.rem_euclid(86_400);
    format!("{:02}:{:02}", of_day / 3600, of_day % 3600 / 60)
}

/// "MM-DD HH:MM" of a timestamp at a UTC offset, where the day matters too
/// (search results span days).
pub fn day_and_clock(ts_millis: i64, utc_offset_secs: i32) -> String {
    let secs = ts_millis
        .div_euclid(1000)
        .saturating_add(i64::from(utc_offset_secs));
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => t.format("%m-%d %H:%M").to_string(),
        None => clock(ts_millis, utc_offset_secs),
    }
}

/// The message a jump from search results went to: underlined and bright,
/// so the eye finds it.
pub fn jump_target() -> Style {
    Style::new()
        .add_modifier(Modifier::UNDERLINED)
        .add_modifier(Modifier::BOLD)
}

/// The time column: present but quiet.
pub fn timestamp() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// A sender's name in the user's colour; bold for one's own messages.
pub fn name(name: &str, own: bool) -> Style {
    let style = Style::new().fg(user_color(name));
    if own {
        style.add_modifier(Modifier::BOLD)
    } else {
        style
    }
}

/// The marker in front of one's own messages (drawn in the own name's style).
pub fn own_marker(name: &str) -> Style {
    self::name(name, true)
}

/// The text of a chat message: plain, highlighted when it mentions the user,
/// dim while one's own message waits for the server's acknowledgement.
pub fn message_text(mention: bool, pending: bool) -> Style {
    if mention {
        Style::new().fg(Color::Black).bg(Color::Yellow)
    } else if pending {
        Style::new().add_modifier(Modifier::DIM)
    } else {
        Style::new()
    }
}

/// "[bob] joined the chat room" and "[bob] left the chat room": background
/// noise, dimmed.
pub fn presence() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// The "Admin:" label of announcements.
pub fn announcement_label() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

/// The text of announcements.
pub fn announcement_text() -> Style {
    Style::new().fg(Color::Yellow)
}

/// Notes from the client itself (reconnecting, errors, help): italic, so they
/// never pass for something a person wrote.
pub fn notice() -> Style {
    Style::new().add_modifier(Modifier::ITALIC)
}

/// A pane's border: bright when the pane has the keyboard focus, dim
/// otherwise.
pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::DIM)
    }
}

/// A player's mark on the board: X and O in colours of their own, bold.
pub fn mark(mark: Mark) -> Style {
    let color = match mark {
        Mark::X => Color::LightCyan,
        Mark::O => Color::LightMagenta,
    };
    Style::new().fg(color).add_modifier(Modifier::BOLD)
}

/// The lines of the tic-tac-toe grid: quiet, so the marks stand out.
pub fn board_rules() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// The key (1-9) shown in an empty cell while the user may move.
pub fn cell_key() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// The board's cursor cell: reversed, like a selected row.
pub fn board_cursor() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// The cells of the winning line: a background that reads on any theme.
pub fn winning_cell() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Green)
        .add_modifier(Modifier::BOLD)
}

/// "your turn (X)": hard to miss.
pub fn your_turn() -> Style {
    Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)
}

/// The status bar: reversed, so it reads as a bar on any theme.
pub fn status_bar() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// Something in the status bar that needs attention (offline, errors).
pub fn status_alert() -> Style {
    Style::new()
        .fg(Color::White)
        .bg(Color::Red)
        .add_modifier(Modifier::BOLD)
}

/// The "N new messages below" marker of a scrolled-up message list.
pub fn new_messages_marker() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Cyan)
        .add_modifier(Modifier::BOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_colors_are_stable_and_spread_over_the_palette() {
        // Frozen (32-bit FNV-1a of the name, modulo the 12 colours, worked
        // out by hand): changing the hash or the palette's order would
        // recolour everyone.
        assert_eq!(PALETTE.len(), 12);
        assert_eq!(user_color(""), PALETTE[1], "offset basis 2166136261");
        assert_eq!(user_color("alice"), PALETTE[11], "hash 2267157479");
        assert_eq!(user_color("bob"), PALETTE[8], "hash 2261164244");
        let used: std::collections::HashSet<_> =
            (0..200).map(|i| user_color(&format!("user{i}"))).collect();
        assert_eq!(used.len(), PALETTE.len());
    }

    #[test]
    fn user_colors_are_never_the_default_or_admin_yellow() {
        for c in PALETTE {
            assert!(!matches!(
                c,
                Color::Reset | Color::Black | Color::White | Color::Yellow | Color::LightYellow
            ));
        }
    }

    #[test]
    fn clock_shows_hours_and_minutes_at_the_offset() {
        // 2026-01-01T00:00:00Z
        let midnight = 1_767_225_600_000;
        assert_eq!(clock(midnight, 0), "00:00");
        assert_eq!(clock(midnight + 59_999, 0), "00:00");
        assert_eq!(clock(midnight + (13 * 60 + 7) * 60_000, 0), "13:07");
        assert_eq!(clock(midnight, 2 * 3600), "02:00");
        assert_eq!(clock(midnight, -(5 * 3600 + 1800)), "18:30");
        assert_eq!(clock(-1, 0), "23:59");
        assert_eq!(clock(i64::MIN, i32::MIN).len(), 5);
        assert_eq!(clock(i64::MAX, i32::MAX).len(), 5);
    }

    #[test]
    fn day_and_clock_adds_the_date_at_the_offset() {
        let midnight = 1_767_225_600_000;
        assert_eq!(day_and_clock(midnight, 0), "01-01 00:00");
        assert_eq!(day_and_clock(midnight, -3600), "12-31 23:00");
        assert_eq!(
            day_and_clock(i64::MAX, i32::MAX).len(),
            5,
            "out of range: the clock"
        );
    }

    #[test]
    fn highlights_differ_from_plain_text() {
        assert_ne!(message_text(true, false), message_text(false, false));
        assert_ne!(border(true), border(false));
        assert!(name("bob", true).add_modifier.contains(Modifier::BOLD));
        assert!(!name("bob", false).add_modifier.contains(Modifier::BOLD));
    }
}
