//! Where everything goes on the screen: pure functions of the terminal size
//! (and the input's height, the transfers strip, whether a game board is
//! open), used both for drawing and for finding what a mouse click hit. The
//! side column holds, top down, the conversations, who is online, shared
//! files and games (under the board while a game is on it).

use ratatui::layout::{Constraint, Layout, Position, Rect};

use super::board::Size as BoardSize;
use crate::app::{ChatView, Focus};

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

impl ChatRegions {
    /// True when the pane that `focus` names is on screen (Tab visits only
    /// those; the input and the messages always are).
    pub fn shows(&self, focus: Focus) -> bool {
        match focus {
            Focus::Input | Focus::Messages => true,
            Focus::Conversations => self.conversations.is_some(),
            Focus::Users => self.users.is_some(),
            Focus::Files => self.files.is_some(),
            Focus::Invites => self.invites.is_some(),
            Focus::Board => self.board.is_some(),
        }
    }
}

/// Rows a side pane needs to be shown: its borders and one row.
const SIDE_PANE_MIN: u16 = 3;
/// Rows each of the four side panes keeps below a large board.
const SIDE_PANE_UNDER_LARGE: u16 = 4;
/// Rows the message list needs: its borders and one line.
const MESSAGES_MIN: u16 = 3;
/// Rows the message list keeps under a board above it (no side column), for
/// the medium board and for the large one.
const MESSAGES_UNDER_MEDIUM: u16 = 4;
const MESSAGES_UNDER_LARGE: u16 = 8;
/// The side panes, most wanted first: when the column is short, the last
/// ones make way (and Tab skips them).
const SIDE_PRIORITY: [usize; 4] = [0, 3, 1, 2];

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
///
/// Every size from [`MIN_WIDTH`]×[`MIN_HEIGHT`] up gets a whole board (the
/// small one at least) and a message list: on a short screen the transfers
/// strip and the input's further lines get only the rows left over. The
/// board's size follows the room: with the side column, large from 33 rows
/// of column (every side pane keeps 4), medium from 15, else small; above
/// the messages, large when 8 rows of messages stay under it, medium when 4
/// do.
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
    let top_min = if board {
        BoardSize::Small.pane_height() + MESSAGES_MIN
    } else {
        MESSAGES_MIN
    };
    let mut spare = area.height.saturating_sub(1 + 3 + top_min);
    let rows = rows.min(spare.saturating_sub(2));
    let strip = if rows == 0 { 0 } else { rows + 2 };
    spare -= strip;
    let input_height = 3 + (lines - 1).min(spare);
    let [top, strip_area, input, status] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(strip),
        Constraint::Length(input_height),
        Constraint::Length(1),
    ])
    .areas(area);
    let transfers = (rows > 0).then_some(strip_area);
    if area.width < SIDEBAR_FROM_WIDTH {
        let (board, messages) = if board {
            let height = board_height(top.height, |size| match size {
                BoardSize::Large => MESSAGES_UNDER_LARGE,
                BoardSize::Medium => MESSAGES_UNDER_MEDIUM,
                BoardSize::Small => 0,
            });
            let [b, m] =
                Layout::vertical([Constraint::Length(height), Constraint::Fill(1)]).areas(top);
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
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(SIDEBAR_WIDTH)]).areas(top);
    let (board, rest) = if board {
        let mut height = board_height(side.height, |size| match size {
            BoardSize::Large => 4 * SIDE_PANE_UNDER_LARGE,
            BoardSize::Medium => 2 * SIDE_PANE_MIN,
            BoardSize::Small => 0,
        });
        if side.height.saturating_sub(height) < SIDE_PANE_MIN {
            height = side.height;
        }
        let [b, rest] =
            Layout::vertical([Constraint::Length(height), Constraint::Fill(1)]).areas(side);
        (Some(b), rest)
    } else {
        (None, side)
    };
    let [conversations, users, files, invites] = side_panes(rest, board.is_some());
    ChatRegions {
        messages,
        conversations,
        users,
        files,
        invites,
        board,
        transfers,
        input,
        status,
    }
}

/// The height of the board pane in `room` rows: the largest size that leaves
/// `keep(size)` rows for the rest, else the small one.
fn board_height(room: u16, keep: impl Fn(BoardSize) -> u16) -> u16 {
    BoardSize::ALL
        .into_iter()
        .find(|s| s.pane_height() + keep(*s) <= room)
        .unwrap_or(BoardSize::Small)
        .pane_height()
}

/// The side panes (conversations, users, files, games) in `column`, top
/// down: the usual shares when each gets its borders and a row; otherwise
/// (a short column, or one under a board) as many as fit, most wanted
/// first, sharing the rows equally (the rows that do not divide go to the
/// most wanted).
fn side_panes(column: Rect, board: bool) -> [Option<Rect>; 4] {
    if !board {
        let usual: [Rect; 4] = Layout::vertical([
            Constraint::Percentage(31),
            Constraint::Percentage(25),
            Constraint::Percentage(22),
            Constraint::Percentage(22),
        ])
        .areas(column);
        if usual.iter().all(|r| r.height >= SIDE_PANE_MIN) {
            return usual.map(Some);
        }
    }
    let n = (column.height / SIDE_PANE_MIN).min(4);
    if n == 0 {
        return [None; 4];
    }
    let (each, extra) = (column.height / n, column.height % n);
    let mut heights = [0u16; 4];
    for (rank, &pane) in SIDE_PRIORITY.iter().enumerate().take(usize::from(n)) {
        heights[pane] = each + u16::from(rank < usize::from(extra));
    }
    let mut y = column.y;
    heights.map(|height| {
        (height > 0).then(|| {
            let pane = Rect {
                y,
                height,
                ..column
            };
            y += height;
            pane
        })
    })
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
        assert!(tiny.board.unwrap().height >= BoardSize::Small.pane_height());
    }

    #[test]
    fn the_board_only_grows_with_the_screen_and_always_fits_whole() {
        for width in [MIN_WIDTH, 60, 71, 72, 80, 100, 220] {
            let mut last = 0;
            for height in MIN_HEIGHT..=60 {
                let r = chat_regions(Rect::new(0, 0, width, height), 1, 0, true);
                let b = r.board.unwrap();
                assert!(
                    b.height >= BoardSize::Small.pane_height(),
                    "{width}×{height}"
                );
                assert!(b.height >= last, "{width}×{height}: the board shrank");
                assert!(r.messages.height >= MESSAGES_MIN, "{width}×{height}");
                last = b.height;
            }
        }
        let at = |w, h| {
            let b = chat_regions(Rect::new(0, 0, w, h), 1, 0, true)
                .board
                .unwrap();
            crate::ui::board::geometry(b).size
        };
        assert_eq!(at(80, 24), BoardSize::Medium);
        assert_eq!(at(100, 30), BoardSize::Medium);
        assert_eq!(at(60, 20), BoardSize::Medium);
        assert_eq!(at(61, 24), BoardSize::Medium);
        assert_eq!(at(48, 17), BoardSize::Medium);
        assert_eq!(at(100, 37), BoardSize::Large);
        assert_eq!(at(100, 36), BoardSize::Medium);
        assert_eq!(at(60, 29), BoardSize::Large);
        assert_eq!(at(60, 28), BoardSize::Medium);
        assert_eq!(at(80, 19), BoardSize::Medium);
        assert_eq!(at(80, 18), BoardSize::Small);
        // The numbers README's "Screen sizes" gives.
        let files_at = |h| chat_regions(Rect::new(0, 0, 80, h), 1, 0, true).files;
        assert!(files_at(24).is_none() && files_at(25).is_some());
    }

    #[test]
    fn a_short_side_column_drops_the_least_wanted_panes() {
        let r = chat_regions(Rect::new(0, 0, 80, 24), 1, 0, true);
        assert!(r.conversations.is_some() && r.users.is_some() && r.invites.is_some());
        assert!(r.files.is_none(), "the files pane makes way for the board");
        assert!(!r.shows(Focus::Files) && r.shows(Focus::Board));
        let panes = [r.board, r.conversations, r.users, r.invites].map(Option::unwrap);
        assert_eq!(
            panes.iter().map(|p| p.height).sum::<u16>(),
            r.messages.height
        );
        for pair in panes.windows(2) {
            assert_eq!(pair[0].bottom(), pair[1].y, "{pair:?}");
        }
        let tight = chat_regions(Rect::new(0, 0, 72, 17), 6, 3, true);
        assert_eq!(tight.board.unwrap().height, BoardSize::Small.pane_height());
        assert!(tight.conversations.is_some());
        assert!(tight.users.is_none() && tight.files.is_none() && tight.invites.is_none());
        let short = chat_regions(Rect::new(0, 0, 72, 17), 1, 3, false);
        let shown = [short.conversations, short.users, short.files, short.invites];
        assert!(shown.iter().flatten().all(|p| p.height >= SIDE_PANE_MIN));
        assert!(short.conversations.is_some());
    }

    #[test]
    fn transfers_and_a_tall_input_give_way_to_a_whole_board() {
        let r = chat_regions(Rect::new(0, 0, MIN_WIDTH, MIN_HEIGHT), 6, 3, true);
        assert_eq!(r.board.unwrap().height, BoardSize::Small.pane_height());
        assert!(r.messages.height >= MESSAGES_MIN);
        assert!(r.input.height >= 3);
        assert_eq!(r.status.bottom(), MIN_HEIGHT);
        let roomy = chat_regions(Rect::new(0, 0, 100, 40), 6, 3, true);
        assert_eq!(roomy.input.height, MAX_INPUT_LINES + 2);
        assert_eq!(roomy.transfers.unwrap().height, MAX_TRANSFER_ROWS + 2);
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
