//! The games pane (the invite board): open invitations with the time left to
//! accept them, and games in play ("alice vs bob"), one line each, newest
//! last. [`crate::ui::side::row_at`] maps a click back to a row.

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{GameStatus, GameView};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::board::countdown;
use super::side::SideList;
use super::theme;
use crate::app::{ChatView, Focus};
use crate::text::{str_width, truncate};

/// The games pane, `width` columns wide inside its borders.
pub fn invites(chat: &ChatView, now: UnixMillis, width: u16) -> SideList<'static> {
    let watching = chat
        .games
        .board
        .as_ref()
        .filter(|b| b.mark().is_none())
        .map(|b| b.game.id);
    let items: Vec<Line<'static>> = chat
        .games
        .listed
        .iter()
        .map(|g| row(g, &chat.me, now, usize::from(width), watching == Some(g.id)))
        .collect();
    SideList {
        title: "Games",
        count: items.len() as u64,
        items,
        selected: chat.games.selected,
        focused: chat.focus == Focus::Invites,
        empty: "No game invitations. Press n here, or type /game.",
        note: None,
    }
}

/// One game as a line: "#3 alice invites · 4:32 left", "#3 alice vs bob".
fn row(g: &GameView, me: &str, now: UnixMillis, width: usize, watching: bool) -> Line<'static> {
    let id = format!("#{} ", g.id);
    let shown = |n: &str| {
        if n == me {
            "you".to_owned()
        } else {
            n.to_owned()
        }
    };
    let mine = g.x == me || g.o.as_deref() == Some(me);
    let (names, rest): (Vec<String>, Vec<String>) = match g.status {
        GameStatus::Open => {
            let verb = if g.x == me { " invite" } else { " invites" };
            let left = g.deadline.map(|d| countdown(d, now)).unwrap_or_default();
            (
                vec![shown(&g.x)],
                vec![
                    format!("{verb} · {left} left"),
                    format!("{verb} · {left}"),
                    format!(" · {left}"),
                ],
            )
        }
        _ => {
            let o = g.o.as_deref().map_or_else(|| "?".to_owned(), shown);
            let tail = if watching { " · watching" } else { "" };
            (vec![shown(&g.x), o], vec![tail.to_owned(), String::new()])
        }
    };
    // The longest tail next to which the names fit; else the shortest, with
    // the names cut.
    let room = width.saturating_sub(str_width(&id));
    let sep = if names.len() > 1 { 4 } else { 0 };
    let names_width: usize = names.iter().map(|n| str_width(n)).sum::<usize>() + sep;
    let tail = rest
        .iter()
        .find(|t| str_width(t) + names_width <= room)
        .or(rest.last())
        .cloned()
        .unwrap_or_default();
    let per_name = if str_width(&tail) + names_width <= room {
        room
    } else {
        room.saturating_sub(str_width(&tail) + sep) / names.len().max(1)
    };
    let mut spans = vec![Span::styled(id, theme::timestamp())];
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" vs "));
        }
        let raw = if n == "you" { me } else { n.as_str() };
        spans.push(Span::styled(
            truncate(n, per_name),
            Style::new().fg(theme::user_color(raw)),
        ));
    }
    spans.push(Span::styled(tail, theme::timestamp()));
    let line = Line::from(spans);
    if mine {
        line.patch_style(Style::new().add_modifier(Modifier::BOLD))
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn game(id: i64, status: GameStatus, x: &str, o: Option<&str>) -> GameView {
        GameView {
            id,
            status,
            x: x.into(),
            o: o.map(str::to_owned),
            moves: vec![],
            board: ".........".into(),
            turn: None,
            deadline: Some(272_000),
            result: None,
            created: 0,
        }
    }

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn rows_say_who_invites_and_how_long_is_left_or_who_plays() {
        let open = game(3, GameStatus::Open, "alice", None);
        assert_eq!(
            text(&row(&open, "bob", 0, 40, false)),
            "#3 alice invites · 4:32 left"
        );
        assert_eq!(
            text(&row(&open, "bob", 0, 24, false)),
            "#3 alice invites · 4:32"
        );
        assert_eq!(
            text(&row(&open, "alice", 0, 24, false)),
            "#3 you invite · 4:32"
        );
        assert_eq!(
            text(&row(&open, "alice", 0, 25, false)),
            "#3 you invite · 4:32 left"
        );
        let long = game(3, GameStatus::Open, "maximilian_the_great", None);
        let cut = text(&row(&long, "bob", 0, 24, false));
        assert!(str_width(&cut) <= 24, "{cut}");
        assert!(cut.starts_with("#3 maxi") && cut.ends_with("4:32"), "{cut}");
        let playing = game(4, GameStatus::Playing, "alice", Some("bob"));
        assert_eq!(
            text(&row(&playing, "carol", 0, 24, false)),
            "#4 alice vs bob"
        );
        assert_eq!(text(&row(&playing, "bob", 0, 24, false)), "#4 alice vs you");
        assert_eq!(
            text(&row(&playing, "carol", 0, 24, true)),
            "#4 alice vs bob",
            "no room to say watching"
        );
        assert_eq!(
            text(&row(&playing, "carol", 0, 30, true)),
            "#4 alice vs bob · watching"
        );
    }
}
