//! The events that drive the app: everything that can change its state.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::net::NetEvent;

/// One input to [`crate::app::App::update`].
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "each event is moved once through a bounded channel and handled at once; \
              boxing the server's messages would only add an allocation per message"
)]
pub enum AppEvent {
    /// A key press.
    Key(KeyEvent),
    /// A mouse click, drag or wheel turn.
    Mouse(MouseEvent),
    /// A bracketed paste: the whole pasted text at once.
    Paste(String),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// Something from the network task.
    Net(NetEvent),
    /// Time passing (for ages shown in panes); carries "now" in Unix milliseconds.
    Tick(i64),
    /// The time now (Unix milliseconds), given before the events of one turn
    /// of the main loop are applied: a countdown starting with an event (a
    /// game's 60 s) is measured from when it arrived, not from the last tick
    /// up to a second before (which showed "1:01").
    Clock(i64),
}
