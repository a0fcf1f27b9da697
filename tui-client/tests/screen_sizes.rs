//! The whole screen at every size the client accepts, in every state that
//! changes the layout: the login form, the chat with its side panes, the
//! board in each game state (focused or not), the help and search overlays,
//! the confirmation of a long message, the transfers strip and a tall input,
//! and the online pane with 10,000 online (loading a page, finding).
//! Each screen is drawn through a recording [`Canvas`] into a TestBackend-like
//! buffer, and for every size the test asserts that
//!
//! - every piece writes only inside the area the layout gave it;
//! - panes do not overlap, and each bordered pane's border is intact (its
//!   corners, its sides, titles only at the ends of its top and bottom
//!   edges), where no overlay covers it;
//! - the board shows all nine cells, each inside the board, with the rules
//!   between them.
//!
//! This is the test that catches a board drawn over its own border and the
//! pane below it (80×24), or shrunk to its centre cell (100×30, 60×20): it
//! found 855 broken screens in a first, larger grid before the fix.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chatroom_shared::message::{
    ChatMessage, Direction, EndReason, GameList, GameResult, GameState, GameStatus, GameUpdate,
    MessageKind, ServerMessage, Target,
};
use chatroom_tui::app::App;
use chatroom_tui::event::AppEvent;
use chatroom_tui::net::{NetEvent, TransferState, TransferUpdate};
use chatroom_tui::ui::{self, Canvas, Part, board, layout};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect};
use ratatui::widgets::Widget;

use common::{
    T0, among_10000, game, key, main_screen, new_app, screen_with_a_game, server, type_text,
};

/// Widths and heights tried: the smallest accepted, both sides of where the
/// side column appears (72) and of where the board changes size, the common
/// terminal sizes, and large ones (each size costs a full draw per state).
const WIDTHS: [u16; 8] = [48, 60, 61, 71, 72, 80, 100, 220];
const HEIGHTS: [u16; 9] = [17, 18, 19, 20, 24, 25, 30, 37, 60];

/// A symbol no widget draws: what a cell outside a piece's area holds while
/// the piece is drawn.
const UNTOUCHED: &str = "\u{E000}";

/// A canvas that draws each piece on a scratch screen of [`UNTOUCHED`]
/// cells, copies what it drew inside its area onto the screen, and records
/// every cell it changed outside.
struct Recorder {
    buf: Buffer,
    scratch: Buffer,
    untouched: Cell,
    parts: Vec<(Part, Rect)>,
    strays: Vec<String>,
}

impl Recorder {
    fn new(area: Rect) -> Self {
        let mut untouched = Cell::EMPTY;
        untouched.set_symbol(UNTOUCHED);
        Self {
            buf: Buffer::empty(area),
            scratch: Buffer::filled(area, untouched.clone()),
            untouched,
            parts: Vec::new(),
            strays: Vec::new(),
        }
    }

    fn symbol(&self, x: u16, y: u16) -> &str {
        self.buf[(x, y)].symbol()
    }
}

impl Canvas for Recorder {
    fn area(&self) -> Rect {
        self.buf.area
    }

    fn render<W: Widget>(&mut self, part: Part, widget: W, area: Rect) {
        let screen = self.buf.area;
        assert_eq!(
            area.intersection(screen),
            area,
            "{part:?} at {area:?} is off the screen"
        );
        widget.render(area, &mut self.scratch);
        let width = usize::from(screen.width);
        for (i, cell) in self.scratch.content.iter_mut().enumerate() {
            let drawn = cell.symbol() != UNTOUCHED;
            if !drawn && *cell == self.untouched {
                continue;
            }
            let (x, y) = (i % width, i / width);
            let pos = Position {
                x: screen.x + u16::try_from(x).unwrap(),
                y: screen.y + u16::try_from(y).unwrap(),
            };
            if area.contains(pos) {
                if drawn {
                    self.buf[pos] = cell.clone();
                } else {
                    self.buf[pos].set_style(cell.style());
                }
            } else {
                self.strays.push(format!(
                    "{part:?} (at {area:?}) wrote {:?} at {},{}",
                    cell.symbol(),
                    pos.x,
                    pos.y
                ));
            }
            *cell = self.untouched.clone();
        }
        self.parts.push((part, area));
    }
}

/// The screen as text, for failure messages.
fn text(rec: &Recorder) -> String {
    let area = rec.buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let s = rec.symbol(x, y);
            skip = unicode_width(s).saturating_sub(1);
            out.push_str(s);
        }
        out.push('\n');
    }
    out
}

fn unicode_width(s: &str) -> usize {
    chatroom_tui::text::str_width(s)
}

const HORIZONTAL: [&str; 3] = ["─", "═", "━"];
const VERTICAL: [&str; 3] = ["│", "║", "┃"];

/// What is wrong with the border of the pane `part` at `area`, ignoring
/// cells that a later piece (an overlay) covers.
fn border_faults(rec: &Recorder, index: usize, part: Part, area: Rect) -> Vec<String> {
    let covered = |x: u16, y: u16| covered(rec, index, x, y);
    let mut faults = Vec::new();
    if area.width < 2 || area.height < 2 {
        faults.push(format!("{part:?} at {area:?} is too small for a border"));
        return faults;
    }
    let (left, right, top, bottom) = (area.left(), area.right() - 1, area.top(), area.bottom() - 1);
    let corners = [
        (left, top, ["┌", "╔", "╭", "┏"]),
        (right, top, ["┐", "╗", "╮", "┓"]),
        (left, bottom, ["└", "╚", "╰", "┗"]),
        (right, bottom, ["┘", "╝", "╯", "┛"]),
    ];
    for (x, y, allowed) in corners {
        if !covered(x, y) && !allowed.contains(&rec.symbol(x, y)) {
            faults.push(format!(
                "{part:?}: corner {x},{y} is {:?}",
                rec.symbol(x, y)
            ));
        }
    }
    for y in top + 1..bottom {
        for x in [left, right] {
            if !covered(x, y) && !VERTICAL.contains(&rec.symbol(x, y)) {
                faults.push(format!("{part:?}: side {x},{y} is {:?}", rec.symbol(x, y)));
            }
        }
    }
    // A top or bottom edge is a rule with titles only at its ends: no text
    // between two stretches of rule.
    for y in [top, bottom] {
        if (left..=right).any(|x| covered(x, y)) {
            continue;
        }
        let rule: Vec<bool> = (left + 1..right)
            .map(|x| HORIZONTAL.contains(&rec.symbol(x, y)))
            .collect();
        let first = rule.iter().position(|r| *r);
        let last = rule.iter().rposition(|r| *r);
        if let (Some(first), Some(last)) = (first, last)
            && rule[first..=last].iter().any(|r| !r)
        {
            faults.push(format!(
                "{part:?}: text in the middle of the edge at row {y}"
            ));
        }
    }
    faults
}

/// True when a piece drawn after piece `index` covers the cell at `x`, `y`.
fn covered(rec: &Recorder, index: usize, x: u16, y: u16) -> bool {
    rec.parts[index + 1..]
        .iter()
        .any(|(_, r)| r.contains(Position { x, y }))
}

/// What is wrong with the board drawn at `area` (piece `index`): each of
/// the nine cells must be inside the board's borders and show a mark, its
/// key or a dot, with a rule between it and the next cell (unless an
/// overlay covers them).
fn board_faults(rec: &Recorder, index: usize, area: Rect) -> Vec<String> {
    let inner = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    let g = board::geometry(area);
    let mut faults = Vec::new();
    for cell in 0..9u8 {
        let r = g.cell_rect(cell);
        if r.intersection(inner) != r || r.is_empty() {
            faults.push(format!(
                "cell {} at {r:?} is outside the board {inner:?}",
                cell + 1
            ));
            continue;
        }
        let (x, y) = (r.x + r.width / 2, r.y + r.height / 2);
        let visible = |x: u16, y: u16| !covered(rec, index, x, y);
        let shown = rec.symbol(x, y);
        let key = (cell + 1).to_string();
        if visible(x, y) && !["X", "O", "·", key.as_str()].contains(&shown) {
            faults.push(format!("cell {} shows {shown:?}", cell + 1));
        }
        let right = r.right();
        if cell % 3 < 2 && visible(right, y) && !VERTICAL.contains(&rec.symbol(right, y)) {
            faults.push(format!("no rule right of cell {}", cell + 1));
        }
        let gap = cell < 6 && g.cell_rect(cell + 3).y > r.bottom();
        if gap && visible(x, r.bottom()) && !HORIZONTAL.contains(&rec.symbol(x, r.bottom())) {
            faults.push(format!("no rule below cell {}", cell + 1));
        }
    }
    faults
}

/// Everything wrong with the screen of `app` at its size.
fn faults(app: &App) -> (Vec<String>, Recorder) {
    let mut rec = Recorder::new(app.area);
    ui::draw_on(&mut rec, app);
    let mut faults = rec.strays.clone();
    let panes: Vec<(usize, Part, Rect)> = rec
        .parts
        .iter()
        .enumerate()
        .filter(|(_, (p, _))| matches!(p, Part::Pane(_) | Part::Board))
        .map(|(i, (p, r))| (i, *p, *r))
        .collect();
    for (i, (_, a, ra)) in panes.iter().enumerate() {
        for (_, b, rb) in &panes[i + 1..] {
            if ra.intersects(*rb) {
                faults.push(format!("{a:?} at {ra:?} overlaps {b:?} at {rb:?}"));
            }
        }
    }
    for (i, (part, area)) in rec.parts.iter().enumerate() {
        if matches!(part, Part::Pane(_) | Part::Board | Part::Overlay(_)) {
            faults.extend(border_faults(&rec, i, *part, *area));
        }
        if *part == Part::Board {
            faults.extend(board_faults(&rec, i, *area));
        }
    }
    if let Some(form) = app.login() {
        let area = app.area;
        let lines = chatroom_tui::ui::login::status_lines(form, area);
        let r = layout::login_regions(area, lines);
        let mut boxes = vec![r.form, r.server, r.user, r.password, r.login, r.register];
        boxes.retain(|b| b.height >= 2);
        for b in boxes {
            faults.extend(border_faults(
                &rec,
                rec.parts.len() - 1,
                Part::Plain("login"),
                b,
            ));
        }
    }
    (faults, rec)
}

fn press(app: &mut App, code: KeyCode, modifiers: KeyModifiers) {
    app.update(AppEvent::Key(KeyEvent::new(code, modifiers)));
}

fn transfer(app: &mut App, id: u64, name: &str) {
    app.update(AppEvent::Net(NetEvent::Transfer(TransferUpdate {
        transfer_id: id,
        name: name.into(),
        direction: Direction::Download,
        state: TransferState::Progress {
            done: 12_897_484,
            total: 104_857_600,
            rate: 4_404_019,
        },
    })));
}

/// A finished game on alice's board.
fn finished(moves: &[u8], result: GameResult) -> App {
    let mut app = screen_with_a_game();
    let mut over = game(3, "alice", Some("bob"), moves, 0);
    over.status = GameStatus::Over;
    over.turn = None;
    over.deadline = None;
    over.result = Some(result);
    server(
        &mut app,
        ServerMessage::GameUpdate(GameUpdate { game: over }),
    );
    app
}

/// Every state tried, by name.
fn states() -> Vec<(&'static str, App)> {
    let mut states = Vec::new();
    states.push(("login", new_app(80, 24)));
    let mut warned = new_app(80, 24);
    type_text(&mut warned, "password1");
    key(&mut warned, KeyCode::Enter);
    warned.update(AppEvent::Net(NetEvent::Untrusted {
        server: "chat.example:44302".into(),
        warning: "WARNING: the certificate of chat.example:44302 has CHANGED since it was \
                  pinned. Someone may be intercepting the connection, so the client did not \
                  connect and sent no password."
            .into(),
    }));
    states.push(("login with a warning", warned));

    let mut chat = main_screen();
    server(
        &mut chat,
        ServerMessage::Message(ChatMessage {
            id: 9,
            ts: T0,
            kind: MessageKind::Message,
            from: "bob".into(),
            text: "lunch?".into(),
            to: Target::User {
                user: "alice".into(),
            },
        }),
    );
    server(
        &mut chat,
        ServerMessage::GameList(GameList {
            seq: 4,
            games: vec![
                game(2, "さくら", None, &[], 272),
                game(5, "dave", Some("carol"), &[4], 50),
            ],
            has_more: false,
            next: None,
        }),
    );
    states.push(("chat", chat.clone()));

    let mut unfocused = screen_with_a_game();
    key(&mut unfocused, KeyCode::Esc);
    states.push(("board, my turn, not focused", unfocused));
    states.push(("board, my turn, focused", screen_with_a_game()));
    let mut theirs = screen_with_a_game();
    server(
        &mut theirs,
        ServerMessage::GameUpdate(GameUpdate {
            game: game(3, "alice", Some("bob"), &[4, 0, 2, 6, 3], 55),
        }),
    );
    states.push(("board, their turn", theirs));
    let mut awaiting = screen_with_a_game();
    key(&mut awaiting, KeyCode::Char('8'));
    states.push(("board, move on its way", awaiting));
    let mut asked = screen_with_a_game();
    key(&mut asked, KeyCode::Char('r'));
    states.push(("board, resign asked", asked));
    states.push((
        "board, won",
        finished(
            &[4, 0, 2, 6, 3, 8, 5],
            GameResult {
                winner: Some("alice".into()),
                loser: Some("bob".into()),
                reason: EndReason::Line,
                line: Some([3, 4, 5]),
                summary: "alice beat bob at tic-tac-toe".into(),
            },
        ),
    ));
    states.push((
        "board, draw",
        finished(
            &[0, 1, 2, 4, 3, 5, 7, 6, 8],
            GameResult {
                winner: None,
                loser: None,
                reason: EndReason::Draw,
                line: None,
                summary: "alice and bob drew at tic-tac-toe".into(),
            },
        ),
    ));
    states.push((
        "board, lost on time",
        finished(
            &[4, 0, 2],
            GameResult {
                winner: Some("bob".into()),
                loser: Some("alice".into()),
                reason: EndReason::Timeout,
                line: None,
                summary: "bob beat alice at tic-tac-toe (alice ran out of time)".into(),
            },
        ),
    ));
    let mut watching = chat.clone();
    for _ in 0..20 {
        key(&mut watching, KeyCode::Backspace);
    }
    type_text(&mut watching, "/watch 5");
    key(&mut watching, KeyCode::Enter);
    server(
        &mut watching,
        ServerMessage::GameState(GameState {
            seq: 5,
            game: game(5, "dave", Some("carol"), &[4, 0], 50),
        }),
    );
    states.push(("board, watching", watching));

    let mut help = screen_with_a_game();
    key(&mut help, KeyCode::F(1));
    states.push(("help over the board", help));
    let mut search = chat.clone();
    for _ in 0..20 {
        key(&mut search, KeyCode::Backspace);
    }
    type_text(&mut search, "/search review");
    key(&mut search, KeyCode::Enter);
    states.push(("search", search));
    let mut confirm = main_screen();
    for _ in 0..11 {
        type_text(&mut confirm, "line");
        press(&mut confirm, KeyCode::Enter, KeyModifiers::ALT);
    }
    key(&mut confirm, KeyCode::Enter);
    states.push(("confirm a long message", confirm));

    let mut strip = screen_with_a_game();
    transfer(&mut strip, 1, "会议记录.zip");
    states.push(("board and a transfer", strip.clone()));
    transfer(&mut strip, 2, "notes.txt");
    transfer(&mut strip, 3, "quarterly-report-2025-final-v2.pdf");
    states.push(("board and three transfers", strip.clone()));
    let mut tall = strip;
    key(&mut tall, KeyCode::Esc);
    for _ in 0..6 {
        press(&mut tall, KeyCode::Enter, KeyModifiers::ALT);
        type_text(&mut tall, "more");
    }
    states.push(("board, three transfers and a tall input", tall));
    let mut crowd = among_10000(100, 30);
    key(&mut crowd, KeyCode::End);
    states.push(("10,000 online, a page on its way", crowd));
    let mut finding = among_10000(100, 30);
    key(&mut finding, KeyCode::Char('/'));
    type_text(&mut finding, "user12345678901234567890");
    states.push(("10,000 online, finding a long name", finding));
    for (name, app) in &states {
        let board = app.chat().is_some_and(|c| c.games.board.is_some());
        assert_eq!(board, name.contains("board"), "{name}");
    }
    states
}

#[test]
fn every_pane_keeps_to_its_area_and_the_board_is_whole_at_every_size() {
    let states = states();
    let mut report = Vec::new();
    for &w in &WIDTHS {
        for &h in &HEIGHTS {
            for (name, app) in &states {
                let mut app = app.clone();
                app.update(AppEvent::Resize(w, h));
                let (faults, rec) = faults(&app);
                if !faults.is_empty() {
                    report.push(format!(
                        "{w}×{h}, {name}:\n  {}\n{}",
                        faults[..faults.len().min(6)].join("\n  "),
                        text(&rec)
                    ));
                }
            }
        }
    }
    let shown: Vec<&String> = report.iter().take(3).collect();
    assert!(
        report.is_empty(),
        "{} screens are broken; the first ones:\n{}",
        report.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
