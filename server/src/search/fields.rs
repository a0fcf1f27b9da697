//! The index's schema and its documents: one per stored message, with its id,
//! time, conversation, the parties of a direct conversation, and the grams of
//! its folded text. The text itself stays in the database.

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::delivery::Conversation;

use super::grams;

/// Ids per bucket of the index's `bucket` field: `id >> BUCKET_BITS`.
pub const BUCKET_BITS: u32 = 14;

/// A stored message as the index takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    /// Message id.
    pub id: i64,
    /// Send time, unix milliseconds (a private group's join-time cut-off).
    pub ts: i64,
    /// Where it was written.
    pub conversation: Conversation,
    /// The sender's account name; `None` for an announcement.
    pub sender: Option<std::sync::Arc<str>>,
    /// Its text as written (folded when indexed and when searched).
    pub text: String,
}

/// The fields, by name.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Message id (`u64`): sorted on, ranged on, deleted by.
    pub id: Field,
    /// The id's bucket (`id >> BUCKET_BITS`): newest first is read a window
    /// of buckets at a time.
    pub bucket: Field,
    /// Send time (`i64`).
    pub ts: Field,
    /// The conversation ([`conversation_term`]).
    pub conversation: Field,
    /// Each party of a direct conversation (its account id in decimal).
    pub party: Field,
    /// The sender's name key ([`chatroom_shared::rules::name_key`]).
    pub sender: Field,
    /// The grams of the folded text.
    pub gram: Field,
}

/// The schema, and its fields.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_u64_field("id", INDEXED | FAST);
    let bucket = b.add_u64_field("bucket", INDEXED);
    let ts = b.add_i64_field("ts", INDEXED | FAST);
    let conversation = b.add_text_field("conversation", STRING);
    let party = b.add_text_field("party", STRING);
    let sender = b.add_text_field("sender", STRING);
    // Whether a message holds a gram, not how often or where.
    let grams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(grams::TOKENIZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let gram = b.add_text_field("gram", grams);
    (
        b.build(),
        Fields {
            id,
            bucket,
            ts,
            conversation,
            party,
            sender,
            gram,
        },
    )
}

/// The term naming a conversation: `r` for the room, `g<id>` for a group,
/// `d<low>.<high>` for a direct conversation.
pub fn conversation_term(c: Conversation) -> String {
    match c {
        Conversation::Room => "r".to_owned(),
        Conversation::Group(id) => format!("g{id}"),
        Conversation::Direct(a, b) => format!("d{a}.{b}"),
    }
}

/// A message id as the index holds it (ids are positive).
pub fn id_value(id: i64) -> u64 {
    u64::try_from(id).unwrap_or(0)
}

/// The name keys of the senders the index met lately. A name's key (its
/// confusable skeleton) costs more to compute than the rest of a document, and
/// a chat's messages come from few senders at a time; names never change, so
/// a key once computed stays right. Emptied when full, to stay small.
#[derive(Debug, Default)]
pub struct NameKeys(std::collections::HashMap<std::sync::Arc<str>, String>);

impl NameKeys {
    /// Names remembered at most.
    const CAPACITY: usize = 4096;

    /// The name key of `name` ([`chatroom_shared::rules::name_key`]).
    pub fn of(&mut self, name: &std::sync::Arc<str>) -> &str {
        if self.0.len() >= Self::CAPACITY && !self.0.contains_key(name) {
            self.0.clear();
        }
        self.0
            .entry(name.clone())
            .or_insert_with(|| chatroom_shared::rules::name_key(name))
    }
}

impl Doc {
    /// The index document; `keys` gives the sender's name key.
    pub fn to_document(&self, f: &Fields, keys: &mut NameKeys) -> TantivyDocument {
        let mut d = TantivyDocument::new();
        d.add_u64(f.id, id_value(self.id));
        d.add_u64(f.bucket, id_value(self.id) >> BUCKET_BITS);
        d.add_i64(f.ts, self.ts);
        d.add_text(f.conversation, conversation_term(self.conversation));
        if let Conversation::Direct(a, b) = self.conversation {
            d.add_text(f.party, a.to_string());
            if b != a {
                d.add_text(f.party, b.to_string());
            }
        }
        if let Some(name) = &self.sender {
            d.add_text(f.sender, keys.of(name));
        }
        d.add_text(f.gram, chatroom_shared::rules::search::fold(&self.text));
        d
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_remembered_name_key_is_the_name_key() {
        let mut keys = NameKeys::default();
        for i in 0..NameKeys::CAPACITY + 10 {
            let name: Arc<str> = format!("ＢＯＢ{i}").into();
            assert_eq!(keys.of(&name), chatroom_shared::rules::name_key(&name));
            assert_eq!(keys.of(&name), chatroom_shared::rules::name_key(&name));
        }
        assert!(keys.0.len() <= NameKeys::CAPACITY);
    }
}
