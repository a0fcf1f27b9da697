//! Search through an index (issue 18 §1): an embedded tantivy index of the
//! history in the data directory, each node its own.
//!
//! - `grams`: the index's terms, the character n-grams of folded text;
//! - `fields`: its schema and documents;
//! - `writer`: the thread that owns the `IndexWriter`, adds what it is fed and
//!   commits about once a second, recording how far the index goes;
//! - `catch_up`: at start, what the index misses is read from the database
//!   (all of it when the index is new or damaged), while search answers from
//!   the database's scan;
//! - `query`: a page of results: the index's newest candidates, checked
//!   against their texts.
//!
//! The index is derived data. The store feeds each committed batch before it
//! acknowledges the senders, so what a sender had acknowledged can be found at
//! once; until the next commit such messages are searched in memory
//! ([`View::pending`]). In a cluster the other nodes' batches are fed as they
//! are delivered here, each message once. After a `kill -9` the next start
//! reads back everything after the last commit's mark (`writer::Mark`).

mod catch_up;
mod fields;
mod grams;
mod query;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sea_orm::DatabaseConnection;
use tantivy::{Index, IndexReader, ReloadPolicy};
use tracing::{info, warn};

pub use fields::Doc;
pub use query::page;

use crate::delivery::{Committed, Conversation};
use fields::Fields;

/// The index's folder in the data directory.
pub const DIR: &str = "search-index";

/// The index's folder for a server with this data directory: a cluster
/// node's has its id in its name, since nodes may share the directory.
pub fn dir_for(data_dir: &Path, node: Option<&str>) -> PathBuf {
    match node {
        None => data_dir.join(DIR),
        Some(node) => data_dir.join(format!("{DIR}-{}", crate::config::node_file_part(node))),
    }
}

/// What the index can answer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Reading what it misses from the database: searches use the scan.
    Building,
    /// Answering.
    Ready,
    /// It failed (a full disk, a damaged file): searches use the scan until
    /// the next start rebuilds it.
    Broken,
}

/// What the index holds, for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Its state.
    pub state: State,
    /// Messages in it (committed).
    pub messages: u64,
    /// Bytes on disk.
    pub bytes: u64,
}

/// A handle to the search index; cheap to clone.
#[derive(Clone)]
pub struct SearchIndex(Arc<Shared>);

struct Shared {
    core: Arc<Core>,
    /// To the writer thread, which stops (committing) once every handle is gone.
    ops: std::sync::mpsc::Sender<writer::Op>,
}

impl std::ops::Deref for Shared {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

/// What the handles and the writer thread share.
struct Core {
    dir: PathBuf,
    fields: Fields,
    reader: IndexReader,
    view: RwLock<View>,
    state: tokio::sync::watch::Sender<State>,
    /// Whether ids grow in commit order (one writer): what a start reads back
    /// follows from the highest id indexed, not from the time.
    one_writer: bool,
}

impl Core {
    fn set_state(&self, s: State) {
        self.state.send_replace(s);
    }

    fn size(&self) -> Size {
        Size {
            state: *self.state.borrow(),
            messages: self.reader.searcher().num_docs(),
            bytes: dir_bytes(&self.dir),
        }
    }

    /// Say how large the index is, once it is ready.
    fn log_ready(&self) {
        let size = self.size();
        info!(
            messages = size.messages,
            bytes = size.bytes,
            "the search index is ready"
        );
    }
}

/// What was fed and is not visible in the committed index yet. A commit is
/// made visible (the reader reloaded) before its batches leave this list, so a
/// message is always in one or both (a search drops repeats by id). Held
/// only for a push or a copy of the list, never during IO: feeding never
/// waits for the index.
#[derive(Default)]
struct View {
    /// The fed batches in feeding order, each with its number.
    pending: Vec<(u64, Arc<Vec<Doc>>)>,
    /// The number the next fed batch gets.
    next: u64,
}

impl SearchIndex {
    /// Open the index in `dir` (making it, or making it again when it cannot
    /// be read), start its writer, and read what it misses from `db` in the
    /// background. `one_writer`: this server alone writes the database.
    pub fn open(
        dir: PathBuf,
        db: DatabaseConnection,
        one_writer: bool,
    ) -> Result<Self, tantivy::TantivyError> {
        let (schema, fields) = fields::schema();
        let index = match open_dir(&dir, &schema) {
            Ok(index) => index,
            Err(e) => {
                warn!(error = %e, dir = %dir.display(), "the search index cannot be read; building it again");
                let _ = std::fs::remove_dir_all(&dir);
                open_dir(&dir, &schema)?
            }
        };
        let mark = writer::Mark::of(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let (ops, rx) = std::sync::mpsc::channel();
        let core = Arc::new(Core {
            dir,
            fields,
            reader,
            view: RwLock::new(View::default()),
            state: tokio::sync::watch::Sender::new(State::Building),
            one_writer,
        });
        writer::start(index, Arc::clone(&core), rx, mark)?;
        let handle = Self(Arc::new(Shared { core, ops }));
        tokio::spawn(catch_up::run(db, handle.clone(), mark));
        Ok(handle)
    }

    /// Its state now.
    pub fn state(&self) -> State {
        *self.0.state.borrow()
    }

    /// Wait until it has read the history (or failed): from then on searches
    /// use it (tests, and the benchmark, wait for this).
    pub async fn ready(&self) -> State {
        let mut rx = self.0.state.subscribe();
        rx.wait_for(|s| *s != State::Building)
            .await
            .map_or(State::Broken, |s| *s)
    }

    /// Take the messages of a batch the store committed (before their
    /// senders are acknowledged). Never waits.
    pub fn stored(&self, docs: Vec<Doc>) {
        self.feed(docs);
    }

    /// Take a batch another node committed (or one read back from the
    /// database for want of it) as it is delivered here. The caller feeds
    /// each message once: the index adds it without looking for an earlier
    /// copy, which would cost a deletion per message.
    pub fn delivered(&self, batch: &Committed) {
        self.feed(docs_of(batch));
    }

    fn feed(&self, docs: Vec<Doc>) {
        if docs.is_empty() || self.state() == State::Broken {
            return;
        }
        let docs = Arc::new(docs);
        let mut view = self.0.view.write().unwrap_or_else(|p| p.into_inner());
        let n = view.next;
        view.next += 1;
        view.pending.push((n, Arc::clone(&docs)));
        let op = writer::Op::Add { n, docs };
        // An error: the writer stopped (it failed, and said so).
        let _ = self.0.ops.send(op);
    }

    /// Commit what was fed and wait for it (at shutdown, and in tests).
    pub async fn flush(&self) {
        let (done, rx) = tokio::sync::oneshot::channel();
        if self.0.ops.send(writer::Op::Flush(done)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Commit what was fed, let go of the index and stop its writer (at
    /// shutdown: the next server on this data directory can open it at once).
    pub async fn close(&self) {
        let (done, rx) = tokio::sync::oneshot::channel();
        if self.0.ops.send(writer::Op::Close(done)).is_ok() {
            let _ = rx.await;
        }
    }

    /// What it holds.
    pub fn size(&self) -> Size {
        self.0.size()
    }
}

/// Open the index in `dir`, or make it there.
fn open_dir(dir: &Path, schema: &tantivy::schema::Schema) -> tantivy::Result<Index> {
    std::fs::create_dir_all(dir)?;
    let index = if Index::exists(&tantivy::directory::MmapDirectory::open(dir)?)? {
        Index::open_in_dir(dir)?
    } else {
        Index::create_in_dir(dir, schema.clone())?
    };
    index
        .tokenizers()
        .register(grams::TOKENIZER, grams::GramTokenizer::default());
    if index.schema() != *schema {
        return Err(tantivy::TantivyError::SchemaError(
            "the index was made with another schema".into(),
        ));
    }
    Ok(index)
}

/// Bytes of the files in `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The documents of a committed batch, read from its frames (a cluster node
/// has only those for other nodes' batches); the conversation of each id from
/// the batch's threads.
pub fn docs_of(batch: &Committed) -> Vec<Doc> {
    #[derive(serde::Deserialize)]
    struct Stored {
        id: i64,
        ts: i64,
        #[serde(default)]
        from: Option<String>,
        text: String,
    }
    let place: std::collections::HashMap<i64, Conversation> = batch
        .threads
        .iter()
        .flat_map(|t| t.ids.iter().map(move |&id| (id, t.conversation)))
        .collect();
    batch
        .events
        .iter()
        .filter_map(|e| {
            let id = e.message_id?;
            let conversation = *place.get(&id)?;
            let json = e.frame.get(chatroom_shared::codec::HEADER_LEN..)?;
            let m: Stored = serde_json::from_slice(json).ok()?;
            (m.id == id).then_some(Doc {
                id,
                ts: m.ts,
                conversation,
                sender: m.from.map(Arc::from),
                text: m.text,
            })
        })
        .collect()
}
