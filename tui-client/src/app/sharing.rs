//! Keys and commands of file sharing: the files pane (select, download,
//! upload, cancel), the save/upload prompts, `/upload`, and what transfer
//! news does to the state.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{Direction, FileInfo, FileShared, human_size};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::chat::ChatView;
use super::files::{Prompt, line_editor};
use super::paths::{complete_path, expand_tilde, parse_upload};
use super::{Action, App, Screen};
use crate::net::{NetCommand, TransferState, TransferUpdate};

impl App {
    fn chat_mut(&mut self) -> Option<&mut ChatView> {
        match &mut self.screen {
            Screen::Chat(c) => Some(c),
            Screen::Login(_) => None,
        }
    }

    /// A key in the files pane; `None` when the pane does not use it.
    pub(super) fn on_files_key(&mut self, key: KeyEvent) -> Option<Vec<Action>> {
        let chat = self.chat_mut()?;
        let count = chat.sharing.files.len();
        match key.code {
            KeyCode::Up => chat.selected_file = chat.selected_file.saturating_sub(1),
            KeyCode::Down => {
                chat.selected_file = (chat.selected_file + 1).min(count.saturating_sub(1));
            }
            KeyCode::Enter | KeyCode::Char('d') => {
                let index = chat.selected_file;
                self.open_save_prompt(index);
            }
            KeyCode::Char('u') => {
                chat.sharing.prompt = Some(Prompt::Upload {
                    input: line_editor(""),
                });
            }
            KeyCode::Char('x') => return Some(self.cancel_last()),
            _ => return None,
        }
        Some(Vec::new())
    }

    /// Ask where to save the file at `index` of the list.
    pub(super) fn open_save_prompt(&mut self, index: usize) {
        let dir = self.settings.download_dir.display().to_string();
        let now = self.now;
        let Some(chat) = self.chat_mut() else { return };
        let Some(file) = chat.sharing.files.get(index).cloned() else {
            chat.notice(now, "No file selected: nothing has been shared yet.");
            return;
        };
        chat.selected_file = index;
        chat.sharing.prompt = Some(Prompt::SaveTo {
            file,
            input: line_editor(&dir),
        });
    }

    /// `x`: cancel the newest running transfer.
    fn cancel_last(&mut self) -> Vec<Action> {
        let now = self.now;
        let Some(chat) = self.chat_mut() else {
            return Vec::new();
        };
        match chat.sharing.last_active() {
            Some(t) => vec![Action::Net(NetCommand::CancelTransfer {
                transfer_id: t.id,
            })],
            None => {
                chat.notice(now, "No transfer is running.");
                Vec::new()
            }
        }
    }

    /// A key while a prompt is open: edit, Tab completes, Enter confirms,
    /// Esc closes.
    pub(super) fn on_prompt_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let Some(chat) = self.chat_mut() else {
            return Vec::new();
        };
        let Some(prompt) = &mut chat.sharing.prompt else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => chat.sharing.prompt = None,
            KeyCode::Tab => {
                let dirs_only = matches!(prompt, Prompt::SaveTo { .. });
                if let Some(done) = complete_path(&prompt.text(), dirs_only) {
                    prompt.set_text(&done);
                }
            }
            KeyCode::Enter => {
                let Some(prompt) = chat.sharing.prompt.take() else {
                    return Vec::new();
                };
                let text = prompt.text().trim().to_owned();
                return match prompt {
                    Prompt::SaveTo { file, .. } => {
                        let dir = if text.is_empty() { ".".into() } else { text };
                        self.download(file, &dir)
                    }
                    Prompt::Upload { .. } if text.is_empty() => Vec::new(),
                    Prompt::Upload { .. } => self.upload(&text, None),
                };
            }
            // One line only: no new lines, no other panes.
            KeyCode::BackTab => {}
            KeyCode::Char('m' | 'j') if key.modifiers.contains(KeyModifiers::CONTROL) => {}
            _ => {
                prompt.input_mut().input(key);
            }
        }
        Vec::new()
    }

    /// Pasted text goes into the open prompt (on one line).
    pub(super) fn paste_into_prompt(&mut self, text: &str) -> bool {
        let Some(prompt) = self.chat_mut().and_then(|c| c.sharing.prompt.as_mut()) else {
            return false;
        };
        let line: String = text.chars().filter(|c| !c.is_control()).collect();
        prompt.input_mut().insert_str(line);
        true
    }

    /// `/upload PATH` or `/upload "PATH" comment`.
    pub(super) fn upload_command(&mut self, args: &str) -> Vec<Action> {
        match parse_upload(args) {
            Ok((path, comment)) => self.upload(&path, comment),
            Err(usage) => {
                let now = self.now;
                if let Some(chat) = self.chat_mut() {
                    chat.notice(now, usage);
                }
                Vec::new()
            }
        }
    }

    fn upload(&mut self, path: &str, comment: Option<String>) -> Vec<Action> {
        let transfer_id = self.new_transfer_id();
        let now = self.now;
        let path = expand_tilde(path);
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let Some(chat) = self.chat_mut() else {
            return Vec::new();
        };
        chat.sharing
            .begin(transfer_id, &name, Direction::Upload, 0, now);
        vec![Action::Net(NetCommand::Upload {
            transfer_id,
            path,
            comment,
        })]
    }

    fn download(&mut self, file: FileInfo, dir: &str) -> Vec<Action> {
        let transfer_id = self.new_transfer_id();
        let now = self.now;
        let Some(chat) = self.chat_mut() else {
            return Vec::new();
        };
        chat.sharing
            .begin(transfer_id, &file.name, Direction::Download, file.size, now);
        vec![Action::Net(NetCommand::Download {
            transfer_id,
            file,
            dir: expand_tilde(dir),
        })]
    }

    fn new_transfer_id(&mut self) -> u64 {
        self.next_transfer_id += 1;
        self.next_transfer_id
    }

    /// News about a transfer; a finished one also gets a notice.
    pub(super) fn on_transfer(&mut self, u: TransferUpdate) -> Vec<Action> {
        let now = self.now;
        let Some(chat) = self.chat_mut() else {
            return Vec::new();
        };
        let Some(t) = chat.sharing.update(u, now).cloned() else {
            return Vec::new();
        };
        let what = match t.direction {
            Direction::Upload => "Upload",
            Direction::Download => "Download",
        };
        let text = match &t.state {
            TransferState::Done { saved: Some(path) } => {
                format!("Saved {} to {}.", t.name, path.display())
            }
            TransferState::Done { saved: None } => format!("Uploaded {}.", t.name),
            TransferState::Failed(why) => format!("{what} of {} failed: {why}", t.name),
            TransferState::Refused(e) if e.code == ErrorCode::TooManyUploads => {
                let running = chat
                    .sharing
                    .active()
                    .filter(|a| a.direction == Direction::Upload)
                    .count();
                format!(
                    "{what} of {} did not start. {}",
                    t.name,
                    too_many_uploads(running)
                )
            }
            TransferState::Refused(e) => {
                format!("{what} of {} failed: {} ({})", t.name, e.message, e.code)
            }
            TransferState::Cancelled => format!("{what} of {} cancelled.", t.name),
            TransferState::Started | TransferState::Progress { .. } => return Vec::new(),
        };
        chat.notice(now, text);
        Vec::new()
    }
}

/// What `too_many_uploads` means, for people, with the uploads this client has
/// `running` (the others may run in another client of the same user).
pub fn too_many_uploads(running: usize) -> String {
    match running {
        0 => "You have as many uploads running as the server allows (in another window, \
              perhaps); wait for one to finish."
            .to_owned(),
        1 => "You have 1 upload running; wait for it to finish.".to_owned(),
        n => format!("You have {n} uploads running; wait for one to finish."),
    }
}

/// "[name] shared X (12.3 MiB)": the line a `file_shared` adds to the list.
pub fn shared_notice(shared: &FileShared) -> String {
    let f = &shared.file;
    let mut text = format!(
        "[{}] shared {} ({})",
        f.uploader,
        f.name,
        human_size(f.size)
    );
    if let Some(c) = f.comment.as_deref().filter(|c| !c.is_empty()) {
        text.push_str(": ");
        text.push_str(c);
    }
    text
}
