//! Shared files and transfers as the app keeps them: the list of shared
//! files (from `file_list` and `file_shared`, each once), the transfers with
//! their progress, and the small prompts that ask where to save or what to
//! upload.

use chatroom_shared::UnixMillis;
use chatroom_shared::message::{Direction, FileInfo};
use tui_textarea::{CursorMove, TextArea};

use crate::net::{TransferState, TransferUpdate};

/// One transfer as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferView {
    /// The id the app gave it.
    pub id: u64,
    /// The file's name.
    pub name: String,
    /// Which way.
    pub direction: Direction,
    /// Bytes in place (resumed ones included).
    pub done: u64,
    /// The file's size (0 until known).
    pub total: u64,
    /// When the app started it.
    pub started_at: UnixMillis,
    /// Bytes per second, as the network task measured it.
    pub rate: u64,
    /// When its bytes last moved (or it began), for "stalled".
    pub moved_at: UnixMillis,
    /// Where it stands.
    pub state: TransferState,
}

impl TransferView {
    /// Still running.
    pub fn is_active(&self) -> bool {
        !self.state.is_finished()
    }

    /// Running, but no byte has moved for [`STALL_MS`]: its rate and time
    /// left are stale, and the strip says "stalled" instead.
    pub fn stalled(&self, now: UnixMillis) -> bool {
        self.is_active() && now.saturating_sub(self.moved_at) >= STALL_MS
    }

    /// Seconds left at the current rate, when there is a rate.
    pub fn secs_left(&self) -> Option<u64> {
        (self.rate > 0).then(|| self.total.saturating_sub(self.done).div_ceil(self.rate))
    }

    /// Done as a fraction of the total, 0.0 to 1.0.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0)
        }
    }
}

/// How long a running transfer may move no byte before it shows as stalled
/// (the network task reports progress about ten times a second while bytes
/// move).
pub const STALL_MS: UnixMillis = 3_000;

/// A one-line editor for a prompt, cursor at the end.
pub fn line_editor(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_owned()]);
    t.move_cursor(CursorMove::End);
    t
}

/// A small question over the main screen.
#[derive(Debug, Clone)]
pub enum Prompt {
    /// "Save to: <dir>" before downloading `file`.
    SaveTo {
        /// The file to download.
        file: FileInfo,
        /// The directory, editable.
        input: TextArea<'static>,
    },
    /// "Upload: <path>", with Tab completion of paths.
    Upload {
        /// The path, editable.
        input: TextArea<'static>,
    },
}

impl Prompt {
    /// The editor.
    pub fn input(&self) -> &TextArea<'static> {
        match self {
            Self::SaveTo { input, .. } | Self::Upload { input } => input,
        }
    }

    /// The editor, to change.
    pub fn input_mut(&mut self) -> &mut TextArea<'static> {
        match self {
            Self::SaveTo { input, .. } | Self::Upload { input } => input,
        }
    }

    /// What is typed.
    pub fn text(&self) -> String {
        self.input().lines().join("")
    }

    /// Replace what is typed, cursor at the end.
    pub fn set_text(&mut self, text: &str) {
        *self.input_mut() = line_editor(text);
    }

    /// The label before the editor.
    pub fn label(&self) -> &'static str {
        match self {
            Self::SaveTo { .. } => "Save to: ",
            Self::Upload { .. } => "Upload: ",
        }
    }

    /// The overlay's title.
    pub fn title(&self) -> String {
        match self {
            Self::SaveTo { file, .. } => format!(" Download {} ", file.name),
            Self::Upload { .. } => " Share a file with the room ".to_owned(),
        }
    }
}

/// The shared-files side of the main screen.
#[derive(Debug, Clone, Default)]
pub struct Sharing {
    /// Every shared file, by id (oldest first).
    pub files: Vec<FileInfo>,
    /// Transfers started in this run, oldest first.
    pub transfers: Vec<TransferView>,
    /// The open prompt, if any.
    pub prompt: Option<Prompt>,
}

impl Sharing {
    /// Add or refresh files (a `file_list`), each once, in id order.
    pub fn add_files(&mut self, files: impl IntoIterator<Item = FileInfo>) {
        for f in files {
            match self.files.iter_mut().find(|x| x.id == f.id) {
                Some(known) => *known = f,
                None => self.files.push(f),
            }
        }
        self.files.sort_by_key(|f| f.id);
    }

    /// A `file_shared` event: true when the file is new here.
    pub fn shared(&mut self, file: FileInfo) -> bool {
        if self.files.iter().any(|f| f.id == file.id) {
            return false;
        }
        self.add_files([file]);
        true
    }

    /// A transfer the app just asked for.
    pub fn begin(
        &mut self,
        id: u64,
        name: &str,
        direction: Direction,
        total: u64,
        now: UnixMillis,
    ) {
        self.transfers.push(TransferView {
            id,
            name: name.to_owned(),
            direction,
            done: 0,
            total,
            started_at: now,
            rate: 0,
            moved_at: now,
            state: TransferState::Started,
        });
    }

    /// News from the network task. Returns the transfer when this update
    /// finished it (for a notice); later updates of a finished one are ignored.
    pub fn update(&mut self, u: TransferUpdate, now: UnixMillis) -> Option<&TransferView> {
        let i = match self.transfers.iter().position(|t| t.id == u.transfer_id) {
            Some(i) => i,
            None => {
                self.begin(u.transfer_id, &u.name, u.direction, 0, now);
                self.transfers.len() - 1
            }
        };
        let t = &mut self.transfers[i];
        if t.state.is_finished() {
            return None;
        }
        if let TransferState::Progress { done, total, rate } = &u.state {
            if *done != t.done {
                t.moved_at = now;
            }
            t.done = *done;
            t.total = *total;
            t.rate = *rate;
        }
        if matches!(u.state, TransferState::Done { .. }) {
            t.done = t.total;
        }
        t.state = u.state;
        t.state.is_finished().then_some(&*t)
    }

    /// Transfers still running, oldest first.
    pub fn active(&self) -> impl Iterator<Item = &TransferView> {
        self.transfers.iter().filter(|t| t.is_active())
    }

    /// How many transfer rows the strip above the input shows.
    pub fn transfer_rows(&self) -> usize {
        self.active()
            .count()
            .min(usize::from(crate::ui::layout::MAX_TRANSFER_ROWS))
    }

    /// The newest running transfer (what `x` cancels).
    pub fn last_active(&self) -> Option<&TransferView> {
        self.transfers.iter().rev().find(|t| t.is_active())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn file(id: i64, name: &str) -> FileInfo {
        FileInfo {
            id,
            name: name.into(),
            size: 1000 * id as u64,
            sha256: "0".repeat(64),
            uploader: "bob".into(),
            comment: None,
            ts: id,
        }
    }

    fn update(id: u64, state: TransferState) -> TransferUpdate {
        TransferUpdate {
            transfer_id: id,
            name: "a.bin".into(),
            direction: Direction::Download,
            state,
        }
    }

    #[test]
    fn files_are_listed_once_in_id_order() {
        let mut s = Sharing::default();
        s.add_files([file(2, "b"), file(1, "a")]);
        assert!(s.shared(file(3, "c")));
        assert!(!s.shared(file(2, "b")), "already listed");
        s.add_files([file(1, "a"), file(2, "b"), file(3, "c")]);
        let ids: Vec<i64> = s.files.iter().map(|f| f.id).collect();
        assert_eq!(ids, [1, 2, 3]);
    }

    #[test]
    fn transfer_progress_then_finish_once() {
        let mut s = Sharing::default();
        s.begin(7, "a.bin", Direction::Download, 100, 5);
        let progress = TransferState::Progress {
            done: 40,
            total: 100,
            rate: 20,
        };
        assert!(s.update(update(7, progress), 6).is_none());
        let t = &s.transfers[0];
        assert_eq!((t.done, t.total, t.rate), (40, 100, 20));
        assert_eq!(t.secs_left(), Some(3));
        assert!((t.ratio() - 0.4).abs() < 1e-9);
        assert_eq!(s.transfer_rows(), 1);
        assert_eq!(s.last_active().map(|t| t.id), Some(7));
        let done = s.update(update(7, TransferState::Done { saved: None }), 7);
        assert_eq!(done.map(|t| t.done), Some(100));
        assert!(s.update(update(7, TransferState::Cancelled), 8).is_none());
        assert_eq!(s.transfer_rows(), 0);
        assert!(s.last_active().is_none());
    }

    #[test]
    fn prompt_text_is_one_line_with_the_cursor_at_the_end() {
        let mut p = Prompt::Upload {
            input: line_editor("/tmp/x"),
        };
        assert_eq!(p.text(), "/tmp/x");
        assert_eq!(p.input().cursor(), (0, 6));
        p.set_text("/tmp/report.pdf");
        assert_eq!(p.text(), "/tmp/report.pdf");
        assert_eq!(p.label(), "Upload: ");
    }
}
