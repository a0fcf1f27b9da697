//! Entering the full-screen terminal mode and always leaving it again.
//!
//! [`enter`] switches to raw mode and the alternate screen and enables mouse
//! capture and bracketed paste; [`restore`] undoes all of it. A panic hook
//! restores the terminal before the panic message is printed, so a crash
//! never leaves the user's terminal unusable.

use std::io::{Stdout, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
    supports_keyboard_enhancement,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal type the client draws on.
pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Whether [`enter`] turned the keyboard enhancement on, so [`restore`] turns
/// it off without asking the terminal again. Asking is a query the terminal
/// answers on standard input: asked while leaving, the answer (`^[[?1;2c`)
/// arrived after the program had gone, and was typed into the shell.
static KEYBOARD_ENHANCED: AtomicBool = AtomicBool::new(false);

/// Enter full-screen mode and install the panic hook that leaves it.
pub fn enter() -> std::io::Result<Tui> {
    install_panic_hook();
    enable_raw_mode()?;
    let mut out = stdout();
    execute!(
        out,
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )?;
    // Where the terminal can report Shift-Enter apart from Enter, ask it to.
    // The terminal is asked once, here, while nothing else reads its answers.
    if supports_keyboard_enhancement().unwrap_or(false)
        && execute!(
            out,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        )
        .is_ok()
    {
        KEYBOARD_ENHANCED.store(true, Ordering::SeqCst);
    }
    let mut terminal = Terminal::new(CrosstermBackend::new(out))?;
    terminal.clear()?;
    Ok(terminal)
}

/// Leave full-screen mode: raw mode off, main screen back, cursor shown.
/// Safe to call more than once. It sends the terminal no query, so nothing
/// answers after the program has gone.
pub fn restore() {
    let mut out = stdout();
    if KEYBOARD_ENHANCED.swap(false, Ordering::SeqCst) {
        let _ = execute!(out, PopKeyboardEnhancementFlags);
    }
    let _ = execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}
