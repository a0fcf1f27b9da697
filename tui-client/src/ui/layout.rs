//! Where everything goes on the screen: pure functions of the terminal size
//! (and the input's height, the transfers strip, whether a game board is
//! open), used both for drawing and for finding what a mouse click hit. The
//! side column holds, top down, the conversations, who is online, shared
//! files and games (under the board while a game is on it).

use ratatui::layout::{Constraint, Layout, Position, Rect};

use super::board;
use crate::app::ChatView;

/// Narrowest terminal the client draws in.
pub const MIN_WIDTH: u16 = 48;
/// Shortest terminal the client draws in.
pub const MIN_HEIGHT: u16 = 17;
/// Width of the side panes (conversations, users, files, invites) when
/// there is room.
pub const SIDEBAR_WIDTH: u16 = 26;
/// The side panes are shown from this terminal width on.
pub const SIDEBAR_FROM_WIDTH: u16 = 72;
/// Most lines the input box grows to.
pub const MAX_INPUT_LINES: u16 = 6;
/// Most rows of the transfers strip.
pub const MAX_TRANSFER_ROWS: u16 = 3;

/// True when the terminal is too small to draw in.
pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// True when `rect` contains the cell at column `x`, row `y`.
pub fn hit(rect: Rect, x: u16, y: u16) -> bool {
    rect.contains(Position { x, y })
}

/// The login form's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginRegions {
    /// The whole form box.
    pub form: Rect,
    /// Server field (with its border).
    pub server: Rect,
    /// User field.
    pub user: Rect,
    /// Password field.
    pub password: Rect,
    /// Login button.
    pub login: Rect,
    /// Register button.
    pub register: Rect,
    /// Status/error text.
    pub status: Rect,
    /// Key hints.
    pub keys: Rect,
}

/// Lines the login form's status gets at least.
const LOGIN_STATUS_LINES: u16 = 2;

/// Columns of the login form's status text in `area`.
pub fn login_status_width(area: Rect) -> u16 {
    area.width.saturating_sub(4).min(64).saturating_sub(4)
}

/// Lay out the login form, centred, with `status_lines` lines for its status (at
/// least two; a long warning makes the form taller, as far as the screen allows).
pub fn login_regions(area: Rect, status_lines: u16) -> LoginRegions {
    let width = area.width.saturating_sub(4).min(64);
    let status_lines = status_lines.max(LOGIN_STATUS_LINES);
    let height = 15u16.saturating_add(status_lines).min(area.height);
    let form = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let inner = Rect {
        x: form.x + 2,
        y: form.y + 1,
        width: form.width.saturating_sub(4),
        height: form.height.saturating_sub(2),
    };
    let [server, user, password, buttons, status, keys] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(status_lines),
        Constraint::Length(1),
    ])
    .areas(inner);
    let [login, _, register, _] = Layout::horizontal([
        Constraint::Length(12),
        Constraint::Length(2),
        Constraint::Length(14),
        Constraint::Min(0),
    ])
    .areas(buttons);
    LoginRegions {
        form,
        server,
        user,
        password,
        login,
        register,
        status,
        keys,
    }
}

/// The main screen's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatRegions {
    /// The message list (with its border).
    pub messages: Rect,
    /// The conversations (room, groups, direct messages), when there is room.
    pub conversations: Option<Rect>,
    /// Online users, when there is room.
    pub users: Option<Rect>,
    /// Shared files, when there is room.
    pub files: Option<Rect>,
    /// Game invitations, when there is room.
    pub invites: Option<Rect>,
    /// The tic-tac-toe board, while a game is on it: at the top of the side
    /// column, or above the messages when there is no side column.
    pub board: Option<Rect>,
    /// The transfers strip above the input, while transfers run.
    pub transfers: Option<Rect>,
    /// The input box (with its border).
    pub input: Rect,
    /// The status bar.
    pub status: Rect,
}

/// Rows each side pane keeps below an open board (its borders and two rows).
const SIDE_PANE_MIN: u16 = 4;
/// Rows the message list keeps below an open board when there is no side
/// column.
const MESSAGES_MIN: u16 = 5;

/// Lay out the main screen as `chat` needs it.
pub fn for_chat(area: Rect, chat: &ChatView) -> ChatRegions {
    chat_regions(
        area,
        super::input::rows_needed(&chat.compose, area.width.saturating_sub(2)),
        chat.sharing.transfer_rows(),
        chat.games.board.is_some(),
    )
}

/// Lay out the main screen for an input of `input_lines` lines,
/// `transfer_rows` running transfers (the strip is left out when 0), and a
/// game board when `board` is true.
pub fn chat_regions(
    area: Rect,
    input_lines: usize,
    transfer_rows: usize,
    board: bool,
) -> ChatRegions {
    let lines = u16::try_from(input_lines)
        .unwrap_or(MAX_INPUT_LINES)
        .clamp(1, MAX_INPUT_LINES);
    let rows = u16::try_from(transfer_rows)
        .unwrap_or(MAX_TRANSFER_ROWS)
        .min(MAX_TRANSFER_ROWS);
    let strip = if rows == 0 { 0 } else { rows + 2 };
    let [top, strip_area, input, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(strip),
        Constraint::Length(lines + 2),
        Constraint::Length(1),
    ])
    .areas(area);
    let transfers = (rows > 0).then_some(strip_area);
    if area.width < SIDEBAR_FROM_WIDTH {
        let (board, messages) = if board {
            let height = board::pane_height(top.height.saturating_sub(MESSAGES_MIN));
            let [b, m] =
                Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(top);
            (Some(b), m)
        } else {
            (None, top)
        };
        return ChatRegions {
            messages,
            conversations: None,
            users: None,
            files: None,
            invites: None,
            board,
            transfers,
            input,
            status,
        };
    }
    let [messages, side] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(SIDEBAR_WIDTH)]).areas(top);
    let (board, [conversations, users, files, invites]) = if board {
        // While a game is on the board, the four panes below it share the
        // rest equally (the conversations get what does not divide).
        let height = board::pane_height(side.height.saturating_sub(4 * SIDE_PANE_MIN));
        let [b, rest] =
            Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(side);
        let each = rest.height / 4;
        let panes = Layout::vertical([
            Constraint::Length(rest.height - 3 * each),
            Constraint::Length(each),
            Constraint::Length(each),
            Constraint::Length(each),
        ])
        .areas(rest);
        (Some(b), panes)
    } else {
        let panes = Layout::vertical([
            Constraint::Percentage(31),
            Constraint::Percentage(25),
            Constraint::Percentage(22),
            Constraint::Percentage(22),
        ])
        .areas(side);
        (None, panes)
    };
    ChatRegions {
        messages,
        conversations: Some(conversations),
        users: Some(users),
        files: Some(files),
        invites: Some(invites),
        board,
        transfers,
        input,
        status,
    }
}

/// The centred box of the help overlay.
pub fn overlay(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width.saturating_sub(2));
    let height = height.min(area.height.saturating_sub(2));
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_layout_fills_the_screen_and_hides_the_sidebar_when_narrow() {
        let wide = chat_regions(Rect::new(0, 0, 100, 30), 1, 0, false);
        assert_eq!(wide.status, Rect::new(0, 29, 100, 1));
        assert_eq!(wide.input.height, 3);
        assert_eq!(wide.messages.width + SIDEBAR_WIDTH, 100);
        assert!(wide.users.is_some() && wide.files.is_some() && wide.invites.is_some());
        let convs = wide.conversations.unwrap();
        assert_eq!((convs.y, convs.bottom()), (0, wide.users.unwrap().y));
        let narrow = chat_regions(Rect::new(0, 0, 60, 20), 3, 0, false);
        assert!(narrow.users.is_none());
        assert_eq!(narrow.input.height, 5);
        assert_eq!(narrow.messages.width, 60);
        let tall_input = chat_regions(Rect::new(0, 0, 60, 30), 40, 0, false);
        assert_eq!(tall_input.input.height, MAX_INPUT_LINES + 2);
        assert!(wide.transfers.is_none());
        let busy = chat_regions(Rect::new(0, 0, 100, 30), 1, 9, false);
        let strip = busy.transfers.unwrap();
        assert_eq!(strip.height, MAX_TRANSFER_ROWS + 2);
        assert_eq!(strip.y + strip.height, busy.input.y);
    }

    #[test]
    fn an_open_board_goes_on_top_of_the_side_column_or_above_the_messages() {
        let plain = chat_regions(Rect::new(0, 0, 110, 32), 1, 0, false);
        assert!(plain.board.is_none());
        let wide = chat_regions(Rect::new(0, 0, 110, 32), 1, 0, true);
        let b = wide.board.unwrap();
        let convs = wide.conversations.unwrap();
        assert_eq!((b.x, b.y, b.width), (convs.x, 0, SIDEBAR_WIDTH));
        assert_eq!(b.bottom(), convs.y);
        assert!(convs.height >= SIDE_PANE_MIN);
        assert_eq!(wide.invites.unwrap().bottom(), wide.messages.bottom());
        assert_eq!(wide.messages, plain.messages, "the chat keeps its room");
        let tall = chat_regions(Rect::new(0, 0, 110, 50), 1, 0, true);
        assert!(tall.board.unwrap().height > b.height, "a larger grid");
        let narrow = chat_regions(Rect::new(0, 0, 60, 30), 1, 0, true);
        let nb = narrow.board.unwrap();
        assert_eq!((nb.y, nb.width), (0, 60));
        assert_eq!(nb.bottom(), narrow.messages.y);
        assert!(narrow.messages.height >= MESSAGES_MIN);
        let tiny = chat_regions(Rect::new(0, 0, MIN_WIDTH, MIN_HEIGHT), 1, 0, true);
        assert!(tiny.messages.height >= MESSAGES_MIN);
        assert!(tiny.board.unwrap().height >= 3);
    }

    #[test]
    fn login_form_is_centred_and_its_parts_do_not_overlap() {
        let r = login_regions(Rect::new(0, 0, 80, 24), 2);
        assert_eq!(r.form.width, 64);
        for (a, b) in [
            (r.server, r.user),
            (r.user, r.password),
            (r.password, r.login),
            (r.login, r.register),
        ] {
            assert!(!a.intersects(b), "{a:?} overlaps {b:?}");
        }
        assert!(hit(r.login, r.login.x, r.login.y));
        assert!(!hit(r.login, r.register.x, r.register.y));
    }

    #[test]
    fn minimum_size() {
        assert!(too_small(Rect::new(0, 0, 47, 30)));
        assert!(too_small(Rect::new(0, 0, 80, 16)));
        assert!(!too_small(Rect::new(0, 0, 48, 17)));
    }
}
