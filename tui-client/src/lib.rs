//! The chatroom terminal client.
//!
//! Modules:
//! - [`event`]: the one event type the main loop feeds the app (keys, mouse,
//!   paste, resize, network, ticks).
//! - [`app`]: all client state, changed only by [`app::App::update`]; no IO.
//! - [`ui`]: drawing, a pure function of the state, built from widgets.
//! - [`net`]: the connection in its own tasks (one reads, one writes): login,
//!   keepalive, reconnect with backoff, resume, and filling the gap.
//! - [`outbox`]: the commands the screen loop hands the network task,
//!   never waiting for room.
//! - [`pace`]: when the main loop draws (input at once, network changes at
//!   most once per frame).
//! - [`text`]: widths of grapheme clusters and word wrap.
//! - [`config`]: the remembered server and user name; [`known_servers`]: the
//!   certificates pinned on first use.
//! - [`terminal`]: entering the full-screen mode and always restoring it.

pub mod app;
pub mod config;
pub mod event;
pub mod known_servers;
pub mod net;
pub mod outbox;
pub mod pace;
pub mod terminal;
pub mod text;
pub mod ui;
