//! The board widget: snapshots of each size and state, clicks mapped back
//! to cells, the size chosen for a pane, and the texts of results.

use chatroom_shared::message::{GameResult, GameView};
use ratatui::style::{Color, Modifier};

use super::*;

/// 2026-01-01 09:00 UTC.
const T0: i64 = 1_767_258_000_000;

fn view(moves: &[u8], status: GameStatus) -> GameView {
    let rules = chatroom_shared::tictactoe::TicTacToe::from_moves(moves).unwrap();
    let turn = match rules.turn() {
        Some(Mark::X) => Some("alice".to_owned()),
        Some(Mark::O) => Some("bob".to_owned()),
        None => None,
    };
    GameView {
        id: 7,
        status,
        x: "alice".into(),
        o: Some("bob".into()),
        moves: moves.to_vec(),
        board: rules.board_string(),
        turn: turn.filter(|_| status == GameStatus::Playing),
        deadline: (status == GameStatus::Playing).then_some(T0 + 42_000),
        result: None,
        created: T0 - 60_000,
    }
}

fn board(game: GameView, cursor: u8) -> Board {
    Board {
        game,
        role: Role::Player(Mark::X),
        cursor,
        awaiting: false,
        resign_asked: false,
    }
}

/// The pane's text, then the same rows with `#` where a cell has a
/// background (the winning line) and `^` where it is reversed (the cursor).
fn render(board: &Board, w: u16, h: u16, focused: bool) -> String {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    view_of(board, focused).render(area, &mut buf);
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out.push_str("-- highlights --\n");
    for y in 0..h {
        let row: String = (0..w)
            .map(|x| {
                let c = &buf[(x, y)];
                if c.bg != Color::Reset {
                    '#'
                } else if c.modifier.contains(Modifier::REVERSED) {
                    '^'
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(row.trim_end_matches('.'));
        out.push('\n');
    }
    out
}

fn view_of(board: &Board, focused: bool) -> BoardView<'_> {
    BoardView {
        board,
        me: "alice",
        now: T0,
        focused,
    }
}

#[test]
fn snapshot_empty_board_your_turn() {
    let b = board(view(&[], GameStatus::Playing), 4);
    insta::assert_snapshot!(render(&b, 26, 17, true));
}

#[test]
fn snapshot_mid_game_with_the_cursor() {
    // X centre, O top left, X top right, O bottom left: X (alice, the
    // user) to move, the cursor on 6.
    let mine = board(view(&[4, 0, 2, 6], GameStatus::Playing), 5);
    insta::assert_snapshot!(render(&mine, 26, 9, true));
    // One move earlier: bob's turn; dots in the empty cells.
    let theirs = board(view(&[4, 0, 2], GameStatus::Playing), 5);
    insta::assert_snapshot!("medium_bobs_turn", render(&theirs, 26, 9, true));
}

#[test]
fn snapshot_your_move_while_the_board_has_no_focus() {
    // The title and border say it is the user's move; no cursor is shown.
    let mine = board(view(&[4, 0], GameStatus::Playing), 5);
    insta::assert_snapshot!(render(&mine, 26, 9, false));
}

#[test]
fn snapshot_the_board_asks_before_resigning() {
    let mut b = board(view(&[4, 0], GameStatus::Playing), 5);
    b.resign_asked = true;
    insta::assert_snapshot!(render(&b, 26, 9, true));
}

#[test]
fn snapshot_a_win_with_the_line_highlighted() {
    // X takes the diagonal 2-4-6.
    let mut game = view(&[4, 0, 2, 1, 6], GameStatus::Over);
    game.result = Some(GameResult {
        winner: Some("alice".into()),
        loser: Some("bob".into()),
        reason: EndReason::Line,
        line: Some([2, 4, 6]),
        summary: "alice beat bob at tic-tac-toe".into(),
    });
    let b = board(game, 4);
    insta::assert_snapshot!(render(&b, 26, 17, true));
}

#[test]
fn snapshot_small_board_when_the_pane_is_short() {
    let b = board(view(&[4, 0], GameStatus::Playing), 8);
    insta::assert_snapshot!(render(&b, 24, 7, true));
    let theirs = board(view(&[4, 0, 2], GameStatus::Playing), 8);
    insta::assert_snapshot!("small_bobs_turn", render(&theirs, 24, 7, true));
}

#[test]
fn nothing_is_drawn_outside_the_pane_whatever_its_size() {
    // Too short and too narrow panes, which the layout never makes, are
    // cut, never overflowed.
    let mut over = view(&[4, 0, 2, 6], GameStatus::Over);
    over.result = Some(GameResult {
        winner: Some("bob".into()),
        loser: Some("alice".into()),
        reason: EndReason::Timeout,
        line: None,
        summary: String::new(),
    });
    let games = [
        board(view(&[4, 0, 2], GameStatus::Playing), 4),
        board(view(&[4, 0, 2, 6], GameStatus::Playing), 4),
        board(over, 4),
    ];
    let screen = Rect::new(0, 0, 40, 30);
    for b in &games {
        for h in 0..24 {
            for w in 0..30 {
                let area = Rect::new(5, 3, w, h);
                let mut buf = Buffer::empty(screen);
                for cell in &mut buf.content {
                    cell.set_symbol("~");
                }
                view_of(b, true).render(area, &mut buf);
                for pos in screen.positions().filter(|p| !area.contains(*p)) {
                    assert_eq!(buf[pos].symbol(), "~", "{w}×{h}: drawn at {pos:?}");
                }
            }
        }
    }
}

#[test]
fn every_size_shows_all_nine_cells_inside_its_own_pane() {
    for size in Size::ALL {
        let area = Rect::new(2, 1, size.pane_width().max(24), size.pane_height());
        let g = geometry(area);
        assert_eq!(g.size, size);
        let theirs = board(view(&[4, 0, 2], GameStatus::Playing), 4);
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 30));
        view_of(&theirs, false).render(area, &mut buf);
        let inner = Block::bordered().inner(area);
        for cell in 0..9 {
            let r = g.cell_rect(cell);
            assert_eq!(r.intersection(inner), r, "{size:?}: cell {cell} at {r:?}");
            let mid = buf[(r.x + r.width / 2, r.y + r.height / 2)].symbol();
            assert!(
                ["X", "O", "·"].contains(&mid),
                "{size:?}: cell {cell} shows {mid:?}"
            );
        }
    }
}

#[test]
fn clicks_map_to_the_cell_drawn_there_in_every_size() {
    for (w, h) in [(26, 17), (26, 9), (24, 7), (60, 40)] {
        let area = Rect::new(3, 5, w, h);
        let g = geometry(area);
        for cell in 0..9 {
            let r = g.cell_rect(cell);
            assert_eq!(cell_at(area, r.x, r.y), Some(cell), "{w}x{h}");
            assert_eq!(cell_at(area, r.right() - 1, r.bottom() - 1), Some(cell));
            assert!(area.contains(r.as_position()), "{w}x{h}: {r:?}");
        }
        // The rules and the borders are no cell.
        assert_eq!(cell_at(area, area.x, area.y), None);
        let first = g.cell_rect(0);
        assert_eq!(cell_at(area, first.right(), first.y), None, "a rule");
    }
}

#[test]
fn the_largest_size_that_fits_is_chosen() {
    let heights = Size::ALL.map(Size::pane_height);
    assert_eq!(heights, [17, 9, 7]);
    assert_eq!(geometry(Rect::new(0, 0, 26, 30)).size, Size::Large);
    assert_eq!(geometry(Rect::new(0, 0, 26, 17)).size, Size::Large);
    assert_eq!(geometry(Rect::new(0, 0, 26, 16)).size, Size::Medium);
    assert_eq!(geometry(Rect::new(0, 0, 20, 17)).size, Size::Medium);
    assert_eq!(geometry(Rect::new(0, 0, 26, 9)).size, Size::Medium);
    assert_eq!(geometry(Rect::new(0, 0, 26, 8)).size, Size::Small);
}

#[test]
fn countdown_rounds_up_and_stops_at_zero() {
    assert_eq!(countdown(T0 + 42_000, T0), "0:42");
    assert_eq!(countdown(T0 + 41_001, T0), "0:42");
    assert_eq!(countdown(T0 + 300_000, T0), "5:00");
    assert_eq!(countdown(T0 - 5, T0), "0:00");
}

#[test]
fn results_read_from_the_users_side() {
    let mut b = board(view(&[0, 3, 1, 4, 2], GameStatus::Over), 4);
    let result = |winner: &str, loser: &str, reason| GameResult {
        winner: Some(winner.into()),
        loser: Some(loser.into()),
        reason,
        line: None,
        summary: String::new(),
    };
    b.game.result = Some(result("alice", "bob", EndReason::Line));
    assert_eq!(result_text(&b, "alice"), "You won: 3 in a row");
    assert_eq!(result_text(&b, "bob"), "You lost: 3 in a row");
    b.game.result = Some(result("bob", "alice", EndReason::Resign));
    assert_eq!(result_text(&b, "alice"), "You lost: you resigned");
    assert_eq!(result_text(&b, "carol"), "bob won: alice resigned");
    b.game.result = Some(result("bob", "alice", EndReason::Timeout));
    assert_eq!(result_text(&b, "bob"), "You won: alice ran out of time");
    b.game.result = Some(GameResult {
        winner: None,
        loser: None,
        reason: EndReason::Draw,
        line: None,
        summary: String::new(),
    });
    assert_eq!(result_text(&b, "alice"), "Draw: nobody won");
}

#[test]
fn the_foot_says_the_most_that_fits() {
    let mut over = view(&[4, 0, 2, 6], GameStatus::Over);
    over.result = Some(GameResult {
        winner: Some("bob".into()),
        loser: Some("alice".into()),
        reason: EndReason::Timeout,
        line: None,
        summary: String::new(),
    });
    let b = board(over, 4);
    let v = view_of(&b, false);
    assert_eq!(v.status(40).to_string(), "You lost: you ran out of time");
    assert_eq!(v.status(24).to_string(), "You lost");
    let mut theirs = board(view(&[4], GameStatus::Playing), 4);
    theirs.game.o = Some("bartholomew_the_third".into());
    theirs.game.turn = theirs.game.o.clone();
    let v = view_of(&theirs, false);
    assert_eq!(v.status(40).to_string(), "bartholomew…'s turn (O) · 0:42");
    assert_eq!(v.status(24).to_string(), "barth…'s turn (O) · 0:42");
    assert_eq!(v.status(20).to_string(), "their turn · 0:42");
    assert_eq!(v.status(12).to_string(), "their turn");
}
