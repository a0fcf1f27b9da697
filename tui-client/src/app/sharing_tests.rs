//! File sharing in the app, driven only by events: the files pane, the
//! prompts, `/upload`, and transfer news.

use std::path::PathBuf;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    Direction, ErrorReply, FileInfo, FileList, FileShared, ServerMessage,
};
use crossterm::event::KeyCode;

use super::tests::{click, key, logged_in, type_text};
use super::*;
use crate::net::{NetEvent, TransferState, TransferUpdate};
use crate::ui::layout::chat_regions;

fn file(id: i64, name: &str, size: u64) -> FileInfo {
    FileInfo {
        id,
        name: name.into(),
        size,
        sha256: "a".repeat(64),
        uploader: "bob".into(),
        comment: None,
        ts: 1_767_225_600_000 + id,
    }
}

fn server(app: &mut App, msg: ServerMessage) -> Vec<Action> {
    app.update(AppEvent::Net(NetEvent::Server(msg)))
}

fn with_files() -> App {
    let mut app = logged_in();
    app.settings.download_dir = PathBuf::from("/home/alice/Downloads");
    server(
        &mut app,
        ServerMessage::FileList(FileList {
            seq: 2,
            files: vec![file(1, "a.txt", 10), file(2, "b.pdf", 12_897_484)],
            has_more: false,
            next: None,
        }),
    );
    app
}

fn to_files_pane(app: &mut App) {
    for _ in 0..4 {
        app.update(key(KeyCode::Tab));
    }
    assert_eq!(app.chat().unwrap().focus, Focus::Files);
}

fn transfer(app: &mut App, id: u64, state: TransferState) {
    app.update(AppEvent::Net(NetEvent::Transfer(TransferUpdate {
        transfer_id: id,
        name: "b.pdf".into(),
        direction: Direction::Download,
        state,
    })));
}

#[test]
fn file_shared_adds_the_file_once_and_a_notice() {
    let mut app = with_files();
    let shared = FileShared {
        file: file(3, "c.zip", 12_897_484),
    };
    server(&mut app, ServerMessage::FileShared(shared.clone()));
    server(&mut app, ServerMessage::FileShared(shared));
    let chat = app.chat().unwrap();
    assert_eq!(chat.sharing.files.len(), 3);
    let notices: Vec<&str> = chat
        .log()
        .entries()
        .iter()
        .filter(|e| e.text.contains("shared"))
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(notices, ["[bob] shared c.zip (12.3 MiB)"]);
}

#[test]
fn down_then_d_asks_where_and_enter_downloads_there() {
    let mut app = with_files();
    to_files_pane(&mut app);
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    assert_eq!(
        app.chat().unwrap().selected_file,
        1,
        "stops at the last file"
    );
    app.update(key(KeyCode::Char('d')));
    let prompt = app.chat().unwrap().sharing.prompt.as_ref().unwrap();
    assert_eq!(prompt.text(), "/home/alice/Downloads");
    // The directory is editable.
    for _ in 0.."Downloads".len() {
        app.update(key(KeyCode::Backspace));
    }
    type_text(&mut app, "tmp");
    let actions = app.update(key(KeyCode::Enter));
    assert_eq!(
        actions,
        vec![Action::Net(NetCommand::Download {
            transfer_id: 1,
            file: file(2, "b.pdf", 12_897_484),
            dir: PathBuf::from("/home/alice/tmp"),
        })]
    );
    let chat = app.chat().unwrap();
    assert!(chat.sharing.prompt.is_none());
    assert_eq!(chat.sharing.transfers[0].total, 12_897_484);
}

#[test]
fn esc_closes_the_prompt_without_downloading() {
    let mut app = with_files();
    to_files_pane(&mut app);
    app.update(key(KeyCode::Enter));
    assert!(app.chat().unwrap().sharing.prompt.is_some());
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    let chat = app.chat().unwrap();
    assert!(chat.sharing.prompt.is_none() && chat.sharing.transfers.is_empty());
    assert_eq!(chat.focus, Focus::Files);
}

#[test]
fn clicking_a_file_asks_where_to_save_it() {
    let mut app = with_files();
    let files = chat_regions(app.area, 1, 0, false).files.unwrap();
    // Each file takes two rows: the second file starts on the third row inside.
    app.update(click(files.x + 2, files.y + 3));
    let chat = app.chat().unwrap();
    assert_eq!(chat.focus, Focus::Files);
    match &chat.sharing.prompt {
        Some(Prompt::SaveTo { file, .. }) => assert_eq!(file.name, "b.pdf"),
        other => panic!("expected the save prompt, got {other:?}"),
    }
}

#[test]
fn u_opens_the_upload_prompt_and_tab_completes_the_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("holiday photo.jpg"), b"x").unwrap();
    let mut app = with_files();
    to_files_pane(&mut app);
    app.update(key(KeyCode::Char('u')));
    type_text(&mut app, &format!("{}/hol", dir.path().display()));
    app.update(key(KeyCode::Tab));
    let full = format!("{}/holiday photo.jpg", dir.path().display());
    assert_eq!(
        app.chat().unwrap().sharing.prompt.as_ref().unwrap().text(),
        full
    );
    let actions = app.update(key(KeyCode::Enter));
    assert_eq!(
        actions,
        vec![Action::Net(NetCommand::Upload {
            transfer_id: 1,
            path: PathBuf::from(&full),
            comment: None,
        })]
    );
}

#[test]
fn upload_command_takes_the_rest_of_the_line_or_a_quoted_path_and_comment() {
    let mut app = with_files();
    type_text(&mut app, "/upload /tmp/my report.pdf");
    let actions = app.update(key(KeyCode::Enter));
    assert_eq!(
        actions,
        vec![Action::Net(NetCommand::Upload {
            transfer_id: 1,
            path: PathBuf::from("/tmp/my report.pdf"),
            comment: None,
        })]
    );
    type_text(&mut app, "/upload \"/tmp/my report.pdf\" Q3 numbers");
    let actions = app.update(key(KeyCode::Enter));
    assert_eq!(
        actions,
        vec![Action::Net(NetCommand::Upload {
            transfer_id: 2,
            path: PathBuf::from("/tmp/my report.pdf"),
            comment: Some("Q3 numbers".into()),
        })]
    );
    type_text(&mut app, "/upload");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    let last = app.chat().unwrap().log().entries().last().unwrap();
    assert!(last.text.starts_with("Usage: /upload"));
}

#[test]
fn x_cancels_the_newest_running_transfer_and_the_end_is_told() {
    let mut app = with_files();
    to_files_pane(&mut app);
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Enter));
    transfer(
        &mut app,
        1,
        TransferState::Progress {
            done: 5,
            total: 10,
            rate: 1,
        },
    );
    assert_eq!(app.chat().unwrap().sharing.transfer_rows(), 1);
    assert_eq!(
        app.update(key(KeyCode::Char('x'))),
        vec![Action::Net(NetCommand::CancelTransfer { transfer_id: 1 })]
    );
    transfer(&mut app, 1, TransferState::Cancelled);
    let chat = app.chat().unwrap();
    assert_eq!(chat.sharing.transfer_rows(), 0);
    assert_eq!(
        chat.log().entries().last().unwrap().text,
        "Download of a.txt cancelled."
    );
    assert!(
        app.update(key(KeyCode::Char('x'))).is_empty(),
        "nothing runs"
    );
}

fn upload_news(app: &mut App, id: u64, name: &str, state: TransferState) {
    app.update(AppEvent::Net(NetEvent::Transfer(TransferUpdate {
        transfer_id: id,
        name: name.into(),
        direction: Direction::Upload,
        state,
    })));
}

#[test]
fn too_many_uploads_reads_as_a_sentence_with_the_uploads_running() {
    let mut app = with_files();
    for id in 1..=4 {
        upload_news(&mut app, id, &format!("f{id}.bin"), TransferState::Started);
    }
    let refusal = ErrorReply::new(
        Some(9),
        ErrorCode::TooManyUploads,
        "you have 4 uploads running or waiting for their data connection, the most one \
         may have at once; wait for one to finish",
    );
    upload_news(
        &mut app,
        5,
        "f5.bin",
        TransferState::Refused(refusal.clone()),
    );
    let chat = app.chat().unwrap();
    assert_eq!(
        chat.log().entries().last().unwrap().text,
        "Upload of f5.bin did not start. You have 4 uploads running; wait for one to finish."
    );
    assert_eq!(
        chat.sharing.active().count(),
        4,
        "the refused one is not running"
    );
    // Refused although none runs here: another client of the same user has them.
    let mut app = with_files();
    upload_news(&mut app, 1, "f1.bin", TransferState::Refused(refusal));
    assert_eq!(
        app.chat().unwrap().log().entries().last().unwrap().text,
        "Upload of f1.bin did not start. You have as many uploads running as the server \
         allows (in another window, perhaps); wait for one to finish."
    );
}

#[test]
fn another_refusal_shows_the_servers_message_and_code() {
    let mut app = with_files();
    let refusal = ErrorReply::new(
        Some(3),
        ErrorCode::FileExists,
        "a file named a.txt is shared",
    );
    upload_news(&mut app, 1, "a.txt", TransferState::Refused(refusal));
    assert_eq!(
        app.chat().unwrap().log().entries().last().unwrap().text,
        "Upload of a.txt failed: a file named a.txt is shared (file_exists)"
    );
}

#[test]
fn a_finished_download_says_where_it_was_saved() {
    let mut app = with_files();
    transfer(
        &mut app,
        4,
        TransferState::Done {
            saved: Some(PathBuf::from("/d/b (1).pdf")),
        },
    );
    assert_eq!(
        app.chat().unwrap().log().entries().last().unwrap().text,
        "Saved b.pdf to /d/b (1).pdf."
    );
}
