//! `tui`: what the terminal client's own work costs in a busy room, with no
//! terminal and no socket: the real `App` of chatroom-tui, drawn by its real
//! `ui::draw` into a ratatui `TestBackend` (the whole screen, diffed as a
//! terminal would be, minus writing it out).
//!
//! Two measures:
//! - **Frames.** With 100, 100,000 and 1,000,000 messages delivered to the
//!   main room, the cost of one frame (the event applied, then the screen
//!   drawn) for a keystroke, a scroll step (PageUp/PageDown, down to 20
//!   pages deep) and a new message; mean and p99 in microseconds, and the
//!   ratio of the largest scrollback to the smallest.
//! - **Following a room.** Messages arrive at a fixed rate (2,000/s by
//!   default), each decoded from its JSON frame as the network task does,
//!   through a channel into a loop shaped like the client's `main.rs`: the
//!   same batching and the same `Pacer`, so frames are coalesced to the
//!   display rate. Reported: process CPU time over wall time, frames drawn,
//!   and how far the loop was behind at the end.

use std::time::{Duration, Instant};

use chatroom_shared::message::{
    ChatMessage, LoginOk, MessageKind, OnlineUser, ServerMessage, Target, UserInfo,
};
use chatroom_tui::app::{App, Settings};
use chatroom_tui::event::AppEvent;
use chatroom_tui::net::NetEvent;
use chatroom_tui::pace::{self, Pacer};
use chatroom_tui::ui;
use clap::Parser;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use crate::percentiles::Samples;
use crate::proc_stats;

/// Flags of the `tui` scenario.
#[derive(Debug, Parser)]
pub struct Args {
    /// Scrollback sizes to measure frames at (messages delivered before).
    #[arg(long, value_delimiter = ',', default_values_t = [100usize, 100_000, 1_000_000])]
    sizes: Vec<usize>,
    /// Frames measured of each kind at each size.
    #[arg(long, default_value_t = 2_000)]
    frames: usize,
    /// The terminal's size, COLSxROWS.
    #[arg(long, default_value = "120x40")]
    screen: String,
    /// Messages per second of the room to follow (0: skip that part).
    #[arg(long, default_value_t = 2_000)]
    rate: u32,
    /// How long to follow the room, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Follow the room drawing after every batch of events, as the client
    /// did before its frames were paced (for comparison).
    #[arg(long)]
    no_pacing: bool,
}

/// Mean and p99 of one kind of frame at one scrollback size.
struct FrameCost {
    mean_us: f64,
    p99_us: f64,
}

impl FrameCost {
    fn of(samples: &[Duration]) -> Self {
        let mut s = Samples::default();
        let mut sum = Duration::ZERO;
        for d in samples {
            s.push(*d);
            sum += *d;
        }
        let n = samples.len().max(1) as f64;
        Self {
            mean_us: sum.as_secs_f64() * 1e6 / n,
            p99_us: s.ms(0.99) * 1000.0,
        }
    }
}

/// Run the scenario and print its figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (cols, rows) = parse_screen(&args.screen)?;
    println!(
        "tui: the client's App + ui::draw into a {cols}x{rows} TestBackend, {} frames of each kind",
        args.frames
    );
    println!(
        "{:>10}  {:>22}  {:>22}  {:>22}  {:>9}",
        "scrollback", "keystroke mean/p99 us", "scroll mean/p99 us", "new msg mean/p99 us", "kept"
    );
    let mut rows_out: Vec<(usize, [FrameCost; 3])> = Vec::new();
    for &size in &args.sizes {
        let (costs, kept) = frames_at(size, args.frames, cols, rows)?;
        println!(
            "{:>10}  {:>10.1} / {:>9.1}  {:>10.1} / {:>9.1}  {:>10.1} / {:>9.1}  {:>9}",
            size,
            costs[0].mean_us,
            costs[0].p99_us,
            costs[1].mean_us,
            costs[1].p99_us,
            costs[2].mean_us,
            costs[2].p99_us,
            kept
        );
        rows_out.push((size, costs));
    }
    if let (Some((small, a)), Some((large, b))) = (rows_out.first(), rows_out.last())
        && small != large
    {
        let ratio = |i: usize| b[i].mean_us / a[i].mean_us;
        println!(
            "ratio {large} vs {small} (mean): keystroke {:.2}x  scroll {:.2}x  new message {:.2}x",
            ratio(0),
            ratio(1),
            ratio(2)
        );
    }
    if args.rate > 0 {
        let length = Duration::from_secs(args.seconds);
        follow(args.rate, length, !args.no_pacing, cols, rows).await?;
    }
    Ok(())
}

fn parse_screen(s: &str) -> anyhow::Result<(u16, u16)> {
    let (c, r) = s
        .split_once('x')
        .ok_or_else(|| anyhow::anyhow!("--screen is COLSxROWS, e.g. 120x40"))?;
    Ok((c.parse()?, r.parse()?))
}

/// A logged-in client on a `cols` × `rows` screen, the main room shown.
fn logged_in(cols: u16, rows: u16) -> App {
    let mut app = App::new("127.0.0.1:1", "alice", Settings::default(), 0);
    app.update(AppEvent::Resize(cols, rows));
    for c in "password1".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.update(key(KeyCode::Enter));
    let online: Vec<OnlineUser> = ["alice", "bob", "carol"]
        .iter()
        .map(|n| OnlineUser {
            name: (*n).into(),
            since: 0,
        })
        .collect();
    app.update(AppEvent::Net(NetEvent::LoggedIn {
        ok: LoginOk {
            seq: 1,
            user: UserInfo {
                id: 1,
                name: "alice".into(),
            },
            token: "t".into(),
            token_expires: 0,
            online_count: online.len() as u64,
            online,
            online_next: None,
            recent: Vec::new(),
        },
        resumed: false,
    }));
    app
}

fn key(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::from(code))
}

/// Message `id` of the room: a chat line of varied length, some wrapping.
fn message(id: i64) -> ChatMessage {
    const WORDS: [&str; 8] = [
        "the", "build", "passed", "on", "every", "platform", "tonight,", "again",
    ];
    let n = 4 + (id % 7) as usize * 5;
    let text: Vec<&str> = (0..n)
        .map(|i| WORDS[(i + id as usize) % WORDS.len()])
        .collect();
    ChatMessage {
        id,
        ts: 1_767_225_600_000 + id,
        kind: MessageKind::Message,
        from: ["bob", "carol", "dave"][(id % 3) as usize].into(),
        text: text.join(" "),
        to: Target::Room,
    }
}

fn deliver(app: &mut App, id: i64) {
    app.update(AppEvent::Net(NetEvent::Server(ServerMessage::Message(
        message(id),
    ))));
}

/// The frame costs at one scrollback size: keystroke, scroll, new message;
/// and how many entries the room's list keeps in memory.
fn frames_at(
    size: usize,
    frames: usize,
    cols: u16,
    rows: u16,
) -> anyhow::Result<([FrameCost; 3], usize)> {
    let mut app = logged_in(cols, rows);
    let mut next = 1;
    for _ in 0..size {
        deliver(&mut app, next);
        next += 1;
    }
    let mut term = Terminal::new(TestBackend::new(cols, rows))?;
    term.draw(|f| ui::draw(f, &app))?;
    let mut frame = |app: &mut App, event: AppEvent| -> anyhow::Result<Duration> {
        let t = Instant::now();
        app.update(event);
        term.draw(|f| ui::draw(f, app))?;
        Ok(t.elapsed())
    };
    let mut keystroke = Vec::with_capacity(frames);
    for i in 0..frames {
        let k = if i % 2 == 0 {
            KeyCode::Char('a')
        } else {
            KeyCode::Backspace
        };
        keystroke.push(frame(&mut app, key(k))?);
    }
    let mut scroll = Vec::with_capacity(frames);
    for i in 0..frames {
        let k = if i % 40 < 20 {
            KeyCode::PageUp
        } else {
            KeyCode::PageDown
        };
        scroll.push(frame(&mut app, key(k))?);
    }
    frame(&mut app, key(KeyCode::End))?;
    let mut new_message = Vec::with_capacity(frames);
    for _ in 0..frames {
        let id = next;
        next += 1;
        let event = AppEvent::Net(NetEvent::Server(ServerMessage::Message(message(id))));
        new_message.push(frame(&mut app, event)?);
    }
    let kept = app.chat().map_or(0, |c| c.log().entries().len());
    Ok((
        [
            FrameCost::of(&keystroke),
            FrameCost::of(&scroll),
            FrameCost::of(&new_message),
        ],
        kept,
    ))
}

/// Follow a room at `rate` messages/s for `length`, the way `main.rs` does
/// (without `paced`, drawing after every batch, as it did before).
async fn follow(
    rate: u32,
    length: Duration,
    paced: bool,
    cols: u16,
    rows: u16,
) -> anyhow::Result<()> {
    let mut app = logged_in(cols, rows);
    for id in 1..=5_000 {
        deliver(&mut app, id);
    }
    let mut term = Terminal::new(TestBackend::new(cols, rows))?;
    let (tx, mut rx) = mpsc::channel(1024);
    // The room: every millisecond the messages due by then, each decoded
    // from its frame as the network task decodes it.
    let frames: Vec<bytes::Bytes> = (0..1_000)
        .map(|i| chatroom_shared::encode_frame(&ServerMessage::Message(message(i))))
        .collect::<Result<_, _>>()?;
    let sent_total = u64::from(rate) * length.as_secs();
    let room = tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        let mut sent: u64 = 0;
        while sent < sent_total {
            tick.tick().await;
            let due = (start.elapsed().as_secs_f64() * f64::from(rate)) as u64;
            while sent < due.min(sent_total) {
                let body = &frames[(sent % 1_000) as usize][4..];
                let Ok(ServerMessage::Message(mut m)) = serde_json::from_slice(body) else {
                    return;
                };
                m.id = 10_000 + sent as i64;
                if tx
                    .send(NetEvent::Server(ServerMessage::Message(m)))
                    .await
                    .is_err()
                {
                    return;
                }
                sent += 1;
            }
        }
    });
    let pid = std::process::id();
    let cpu0 = proc_stats::cpu_seconds(pid).unwrap_or(f64::NAN);
    let wall0 = Instant::now();
    let mut pacer = Pacer::default();
    pacer.changed(Instant::now(), true);
    let mut drawn = 0u64;
    let mut applied = 0u64;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut largest_batch = 0;
    loop {
        let now = Instant::now();
        if pacer.should_draw(now) {
            term.draw(|f| ui::draw(f, &app))?;
            pacer.drawn(now);
            drawn += 1;
        }
        let due = pacer.due();
        let wake = tokio::time::Instant::from_std(due.unwrap_or(now));
        let first = tokio::select! {
            event = rx.recv() => match event {
                Some(event) => AppEvent::Net(event),
                None => break,
            },
            _ = tick.tick() => AppEvent::Tick(now_ms()),
            () = tokio::time::sleep_until(wake), if due.is_some() => continue,
        };
        let input = pace::is_input(&first);
        let mut batch = vec![AppEvent::Clock(now_ms()), first];
        while batch.len() < 512 {
            match rx.try_recv() {
                Ok(event) => batch.push(AppEvent::Net(event)),
                Err(_) => break,
            }
        }
        largest_batch = largest_batch.max(batch.len() - 1);
        for event in batch {
            if matches!(event, AppEvent::Net(_)) {
                applied += 1;
            }
            app.update(event);
        }
        pacer.changed(Instant::now(), input || !paced);
    }
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = proc_stats::cpu_seconds(pid).unwrap_or(f64::NAN) - cpu0;
    room.await?;
    let last = app
        .chat()
        .and_then(|c| c.log().last_id())
        .unwrap_or_default();
    let how = if paced { "paced" } else { "a frame per batch" };
    println!(
        "follow ({how}): {rate} msg/s for {:.1} s: CPU {:.1} % of one core ({cpu:.2} s CPU / {wall:.2} s wall), \
         {drawn} frames ({:.0}/s), {applied} of {sent_total} messages applied (largest batch {largest_batch}), \
         last id {last}, kept {} entries, done {:.2} s after the room stopped",
        wall,
        100.0 * cpu / wall,
        drawn as f64 / wall,
        app.chat().map_or(0, |c| c.log().entries().len()),
        (wall - length.as_secs_f64()).max(0.0),
    );
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
