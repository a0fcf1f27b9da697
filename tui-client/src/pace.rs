//! When the main loop draws: at once after the user's own input, and at most
//! once per [`FRAME`] while only the network or the clock changes the state.
//!
//! A busy room delivers thousands of messages a second; drawing after each
//! one would spend the client's time on frames nobody can see (a terminal
//! shows a few dozen a second) and let it fall behind the room. The
//! [`Pacer`] coalesces those changes into one frame per interval, while a
//! key, a click, a paste or a resize is still drawn without waiting. It only
//! decides; the caller passes the time in, so it is tested without a clock.

use std::time::{Duration, Instant};

use crate::event::AppEvent;

/// The shortest time between two frames drawn for network and clock
/// changes (30 frames a second).
pub const FRAME: Duration = Duration::from_millis(33);

/// Decides when the next frame is drawn.
#[derive(Debug, Clone)]
pub struct Pacer {
    frame: Duration,
    last_draw: Option<Instant>,
    due: Option<Instant>,
}

impl Pacer {
    /// A pacer drawing network changes at most once per `frame`; the first
    /// frame is due at once.
    pub fn new(frame: Duration) -> Self {
        Self {
            frame,
            last_draw: None,
            due: None,
        }
    }

    /// The state changed at `now`: by the user's `input` (drawn at once), or
    /// by the network or the clock (drawn one frame after the last draw).
    pub fn changed(&mut self, now: Instant, input: bool) {
        let at = match self.last_draw {
            Some(last) if !input => (last + self.frame).max(now),
            _ => now,
        };
        self.due = Some(self.due.map_or(at, |due| due.min(at)));
    }

    /// When the next frame is due; `None` when nothing changed since the
    /// last one.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// True when a frame should be drawn at `now`.
    pub fn should_draw(&self, now: Instant) -> bool {
        self.due.is_some_and(|due| due <= now)
    }

    /// A frame was drawn at `now`.
    pub fn drawn(&mut self, now: Instant) {
        self.last_draw = Some(now);
        self.due = None;
    }
}

impl Default for Pacer {
    fn default() -> Self {
        Self::new(FRAME)
    }
}

/// True for the user's own input (keys, mouse, paste, resize), which is
/// drawn at once; false for network events and time passing.
pub fn is_input(event: &AppEvent) -> bool {
    !matches!(
        event,
        AppEvent::Net(_) | AppEvent::Tick(_) | AppEvent::Clock(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Duration = Duration::from_millis(33);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_first_change_and_input_are_drawn_at_once() {
        let t0 = Instant::now();
        let mut p = Pacer::new(F);
        assert!(!p.should_draw(t0), "nothing changed yet");
        p.changed(t0, false);
        assert!(p.should_draw(t0), "nothing was drawn before");
        p.drawn(t0);
        p.changed(t0 + ms(1), true);
        assert!(p.should_draw(t0 + ms(1)), "a key right after a frame");
    }

    #[test]
    fn network_changes_wait_for_the_frame_and_coalesce() {
        let t0 = Instant::now();
        let mut p = Pacer::new(F);
        p.drawn(t0);
        for i in 1..30 {
            p.changed(t0 + ms(i), false);
        }
        assert_eq!(p.due(), Some(t0 + F), "one frame for all of them");
        assert!(!p.should_draw(t0 + ms(32)));
        assert!(p.should_draw(t0 + F));
        p.drawn(t0 + F);
        assert_eq!(p.due(), None, "nothing new since");
    }

    #[test]
    fn a_change_long_after_the_last_frame_is_drawn_at_once() {
        let t0 = Instant::now();
        let mut p = Pacer::new(F);
        p.drawn(t0);
        p.changed(t0 + ms(500), false);
        assert_eq!(p.due(), Some(t0 + ms(500)));
    }

    #[test]
    fn input_while_a_network_frame_waits_brings_it_forward() {
        let t0 = Instant::now();
        let mut p = Pacer::new(F);
        p.drawn(t0);
        p.changed(t0 + ms(2), false);
        p.changed(t0 + ms(3), true);
        assert_eq!(p.due(), Some(t0 + ms(3)));
        p.changed(t0 + ms(4), false);
        assert_eq!(p.due(), Some(t0 + ms(3)), "never later than already due");
    }

    #[test]
    fn keys_are_input_and_network_events_are_not() {
        use crossterm::event::{KeyCode, KeyEvent};
        assert!(is_input(&AppEvent::Key(KeyEvent::from(KeyCode::Char('a')))));
        assert!(is_input(&AppEvent::Resize(80, 24)));
        assert!(!is_input(&AppEvent::Tick(0)));
        assert!(!is_input(&AppEvent::Clock(0)));
    }
}
