//! `chatroom`: the full-screen terminal client.
//!
//! Parses flags, restores the remembered server and user name, logs to a
//! file (never to the terminal it draws on), then runs the one event loop:
//! terminal events, network events and ticks go to `App::update`, its actions
//! are carried out, and the screen is drawn from the state: at once after
//! the user's input, at most once a frame while the network changes it
//! ([`pace`]).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chatroom_tui::app::{Action, App, Settings};
use chatroom_tui::event::AppEvent;
use chatroom_tui::net::{self, NetEvent};
use chatroom_tui::outbox::Outbox;
use chatroom_tui::pace::{self, Pacer};
use chatroom_tui::{config, terminal, ui};
use clap::Parser;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(
    name = "chatroom",
    version,
    about = "Chat in a chatroom server from a full-screen terminal client.",
    after_help = "In the client, F1 (or ?) lists every key and /command. The screen needs at least \
                  48x17 cells; the game board fits from there up, beside the chat from 72 columns."
)]
struct Args {
    /// Server address, HOST:PORT (default: the last one used, else 127.0.0.1:44302).
    #[arg(long, env = "CHATROOM_SERVER")]
    server: Option<String>,
    /// User name (default: the last one used).
    #[arg(long, env = "CHATROOM_USER")]
    user: Option<String>,
    /// Do not ring the terminal bell when a message names you.
    #[arg(long)]
    no_bell: bool,
    /// Ask before sending a message with more lines than this (pastes included).
    #[arg(long, default_value_t = 10)]
    confirm_lines: usize,
    /// Log file (default: chatroom.log in the platform's cache directory).
    #[arg(long, env = "CHATROOM_LOG")]
    log_file: Option<PathBuf>,
    /// Where the save prompt suggests putting downloads (default: the platform's download directory, else home).
    #[arg(long, env = "CHATROOM_DOWNLOAD_DIR")]
    download_dir: Option<PathBuf>,
    /// Where the last server and user name are remembered (default: the platform's config directory).
    #[arg(long, env = "CHATROOM_CONFIG")]
    config: Option<PathBuf>,
    /// Connect over plain TCP, without TLS: only on a trusted local network, since the
    /// password then crosses it in clear text (the server must run with --plain too).
    #[arg(long, env = "CHATROOM_PLAIN", conflicts_with_all = ["ca_file", "known_servers"])]
    plain: bool,
    /// Also trust the certificate authorities in this PEM file (for a private CA).
    #[arg(long, env = "CHATROOM_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// Where certificates trusted on first use are pinned (default: known_servers in the
    /// platform's config directory).
    #[arg(long, env = "CHATROOM_KNOWN_SERVERS")]
    known_servers: Option<PathBuf>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn init_logging(path: Option<PathBuf>) {
    let path = path.or_else(|| {
        directories::ProjectDirs::from("", "", "chatroom")
            .map(|d| d.cache_dir().join("chatroom.log"))
    });
    let Some(path) = path else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logging(args.log_file.clone());
    let config_path = args.config.clone().or_else(config::default_path);
    let remembered = config_path.as_deref().map(config::load).unwrap_or_default();
    let server = args
        .server
        .clone()
        .or(remembered.server)
        .unwrap_or_else(|| format!("127.0.0.1:{}", chatroom_shared::DEFAULT_PORT));
    let user = args.user.clone().or(remembered.user).unwrap_or_default();
    let settings = Settings {
        bell_on_mention: !args.no_bell,
        confirm_lines: args.confirm_lines,
        download_dir: args
            .download_dir
            .clone()
            .unwrap_or_else(chatroom_tui::app::paths::default_download_dir),
    };
    let transport = if args.plain {
        net::Transport::plain()
    } else {
        let known = args
            .known_servers
            .clone()
            .or_else(chatroom_tui::known_servers::default_path);
        net::Transport::tls(known, args.ca_file.as_deref())?
    };
    let offset = chrono::Local::now().offset().local_minus_utc();
    let app = App::new(&server, &user, settings, offset);

    let mut tui = terminal::enter().context("entering full-screen mode")?;
    let result = run(&mut tui, app, config_path, transport).await;
    terminal::restore();
    result
}

async fn run(
    tui: &mut terminal::Tui,
    mut app: App,
    config_path: Option<PathBuf>,
    transport: net::Transport,
) -> anyhow::Result<()> {
    let (net_tx, mut net_rx) = mpsc::channel(1024);
    let mut outbox = Outbox::new(net::spawn(net_tx, transport));
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let size = tui.size()?;
    app.update(AppEvent::Resize(size.width, size.height));
    app.update(AppEvent::Tick(now_ms()));
    let mut pacer = Pacer::default();
    pacer.changed(std::time::Instant::now(), true);
    loop {
        let now = std::time::Instant::now();
        if pacer.should_draw(now) {
            tui.draw(|frame| ui::draw(frame, &app))?;
            pacer.drawn(now);
        }
        let due = pacer.due();
        let wake = tokio::time::Instant::from_std(due.unwrap_or(now));
        let first = tokio::select! {
            event = input.next() => match event {
                Some(Ok(Event::Key(k))) => AppEvent::Key(k),
                Some(Ok(Event::Mouse(m))) => AppEvent::Mouse(m),
                Some(Ok(Event::Paste(text))) => AppEvent::Paste(text),
                Some(Ok(Event::Resize(w, h))) => AppEvent::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => return Ok(()),
            },
            Some(event) = net_rx.recv() => AppEvent::Net(event),
            _ = tick.tick() => AppEvent::Tick(now_ms()),
            // Commands that did not fit go out as the network task takes
            // them, while its events keep being read here.
            () = outbox.drain() => continue,
            () = tokio::time::sleep_until(wake), if due.is_some() => continue,
        };
        let input = pace::is_input(&first);
        // Take every network event that is already waiting before drawing again.
        let mut batch = vec![AppEvent::Clock(now_ms()), first];
        while batch.len() < 512 {
            match net_rx.try_recv() {
                Ok(event) => batch.push(AppEvent::Net(event)),
                Err(_) => break,
            }
        }
        for event in batch {
            for action in app.update(event) {
                match action {
                    Action::Net(cmd) => outbox.push(cmd),
                    Action::Bell => {
                        let mut out = std::io::stdout();
                        let _ = out.write_all(b"\x07");
                        let _ = out.flush();
                    }
                    Action::Remember { server, user } => {
                        if let Some(path) = &config_path {
                            let r = config::Remembered {
                                server: Some(server),
                                user: Some(user),
                            };
                            if let Err(e) = config::save(path, &r) {
                                tracing::warn!(error = %e, "could not remember the login");
                            }
                        }
                    }
                    Action::Quit => {
                        // Give the network task a moment to say goodbye.
                        // Commands still waiting (the goodbye among them) go out
                        // meanwhile.
                        let _ = tokio::time::timeout(Duration::from_secs(1), async {
                            loop {
                                tokio::select! {
                                    event = net_rx.recv() => match event {
                                        Some(NetEvent::Ended { .. }) | None => break,
                                        Some(_) => {}
                                    },
                                    () = outbox.drain() => {}
                                }
                            }
                        })
                        .await;
                        return Ok(());
                    }
                }
            }
        }
        pacer.changed(std::time::Instant::now(), input);
    }
}
