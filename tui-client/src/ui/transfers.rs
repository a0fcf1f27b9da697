//! The transfers strip above the input, shown while transfers run: one row
//! each with the name, a gauge, bytes done of the total, the rate and the
//! time left.

use chatroom_shared::message::{Direction, human_size};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::symbols;
use ratatui::text::Line;
use ratatui::widgets::{Block, LineGauge, Paragraph, Widget};

use crate::app::{Sharing, TransferView};
use crate::net::TransferState;
use crate::text::truncate;

/// The strip of running transfers.
pub struct TransfersStrip<'a> {
    /// The transfers.
    pub sharing: &'a Sharing,
    /// The time now, to tell a stalled transfer.
    pub now: chatroom_shared::UnixMillis,
    /// The files pane is on screen (its x cancels; the title says so).
    pub files_pane: bool,
}

/// "12.3/100.0 MiB": bytes done of the total, in the total's unit.
pub fn done_of_total(done: u64, total: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if total < 1024 {
        return format!("{done}/{total} B");
    }
    let mut unit = 0;
    let mut scale = 1.0f64;
    while total as f64 / scale >= 1024.0 && unit < UNITS.len() - 1 {
        scale *= 1024.0;
        unit += 1;
    }
    format!(
        "{:.1}/{:.1} {}",
        done as f64 / scale,
        total as f64 / scale,
        UNITS[unit]
    )
}

/// "0:12", "1:02:03": a duration in seconds for people.
pub fn clock_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

fn row(t: &TransferView, now: chatroom_shared::UnixMillis, area: Rect, buf: &mut Buffer) {
    let [arrow, name, gauge, bytes, rate, left] = Layout::horizontal([
        Constraint::Length(2),
        Constraint::Length(22),
        Constraint::Min(8),
        Constraint::Length(18),
        Constraint::Length(12),
        Constraint::Length(7),
    ])
    .areas(area);
    let (symbol, color) = match t.direction {
        Direction::Upload => ("↑", Color::Magenta),
        Direction::Download => ("↓", Color::Cyan),
    };
    Line::from(symbol.fg(color).bold()).render(arrow, buf);
    Line::from(truncate(&t.name, usize::from(name.width.saturating_sub(1)))).render(name, buf);
    let waiting = matches!(t.state, TransferState::Started);
    LineGauge::default()
        .ratio(t.ratio())
        .line_set(symbols::line::THICK)
        .filled_style(Style::new().fg(color))
        .unfilled_style(Style::new().fg(Color::DarkGray))
        .render(gauge, buf);
    let bytes_text = if waiting && t.total == 0 {
        "preparing…".to_owned()
    } else {
        done_of_total(t.done, t.total)
    };
    Paragraph::new(bytes_text)
        .right_aligned()
        .render(bytes, buf);
    let stalled = !waiting && t.stalled(now);
    let rate_text = if stalled {
        "stalled".to_owned()
    } else if t.rate > 0 {
        format!("{}/s", human_size(t.rate))
    } else {
        String::new()
    };
    let rate_style = if stalled {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new().dim()
    };
    Paragraph::new(rate_text)
        .right_aligned()
        .style(rate_style)
        .render(rate, buf);
    // A stalled transfer's rate is stale: no time left is shown for it.
    let left_text = if stalled {
        String::new()
    } else {
        t.secs_left().map(clock_duration).unwrap_or_default()
    };
    Paragraph::new(left_text)
        .right_aligned()
        .dim()
        .render(left, buf);
}

impl Widget for TransfersStrip<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let title = if self.files_pane {
            " Transfers — x in the files pane cancels the newest "
        } else {
            " Transfers "
        };
        let block = Block::bordered()
            .title(title)
            .border_style(Style::new().fg(Color::DarkGray));
        let inner = block.inner(area);
        block.render(area, buf);
        let shown: Vec<&TransferView> = self.sharing.active().collect();
        let skip = shown.len().saturating_sub(usize::from(inner.height));
        for (i, t) in shown.into_iter().skip(skip).enumerate() {
            let Ok(i) = u16::try_from(i) else { break };
            if i >= inner.height {
                break;
            }
            row(
                t,
                self.now,
                Rect {
                    y: inner.y + i,
                    height: 1,
                    ..inner
                },
                buf,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_for_people() {
        assert_eq!(done_of_total(12_897_484, 104_857_600), "12.3/100.0 MiB");
        assert_eq!(done_of_total(10, 900), "10/900 B");
        assert_eq!(done_of_total(0, 2048), "0.0/2.0 KiB");
        assert_eq!(clock_duration(12), "0:12");
        assert_eq!(clock_duration(3723), "1:02:03");
    }

    fn strip_text(sharing: &Sharing, now: i64) -> String {
        let area = Rect::new(0, 0, 90, 3);
        let mut buf = Buffer::empty(area);
        TransfersStrip {
            sharing,
            now,
            files_pane: true,
        }
        .render(area, &mut buf);
        (0..area.width)
            .map(|x| buf[(x, 1)].symbol().to_owned())
            .collect::<String>()
    }

    #[test]
    fn a_transfer_that_stops_moving_shows_stalled_not_a_frozen_rate() {
        use crate::net::{TransferState, TransferUpdate};
        let mut sharing = Sharing::default();
        sharing.begin(1, "big.iso", Direction::Download, 1000, 0);
        let progress = |done| TransferUpdate {
            transfer_id: 1,
            name: "big.iso".into(),
            direction: Direction::Download,
            state: TransferState::Progress {
                done,
                total: 1000,
                rate: 100,
            },
        };
        sharing.update(progress(100), 1_000);
        let moving = strip_text(&sharing, 1_500);
        assert!(
            moving.contains("100 B/s") && moving.contains("0:09"),
            "{moving}"
        );
        // Nothing more for three seconds: the rate and time left are stale.
        let stalled = strip_text(&sharing, 4_000);
        assert!(stalled.contains("stalled"), "{stalled}");
        assert!(
            !stalled.contains("B/s") && !stalled.contains("0:09"),
            "{stalled}"
        );
        // Bytes move again: the rate is back.
        sharing.update(progress(200), 4_100);
        let again = strip_text(&sharing, 4_200);
        assert!(
            !again.contains("stalled") && again.contains("100 B/s"),
            "{again}"
        );
    }
}
