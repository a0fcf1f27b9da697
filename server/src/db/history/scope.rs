//! What a history read selects, as SQL conditions: the conversation
//! ([`Scope`]: the room, a group, a direct conversation, an inbox, everything
//! a user may read) and its narrowing ([`Filters`]: time, sender, words).

use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, Condition};

use super::TargetKind;
use crate::db::entity::chat_history;
use crate::delivery::Conversation;

/// Which messages a query may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The main room.
    Room,
    /// One group; with a cut-off, only messages sent at or after it.
    Group {
        /// The group.
        id: i64,
        /// Earliest send time visible (a private group's join-time cut-off).
        since: Option<i64>,
    },
    /// The direct messages between two users.
    Direct {
        /// One of them.
        me: i64,
        /// The other.
        peer: i64,
    },
    /// The direct messages sent to one user (by anyone).
    Inbox {
        /// The recipient.
        me: i64,
    },
    /// Everything a user may read: the room, these groups (each with its cut-off), and
    /// the direct messages to or from `me`.
    Readable {
        /// The reader.
        me: i64,
        /// The groups, with their cut-offs.
        groups: Vec<(i64, Option<i64>)>,
    },
}

/// Narrowing of a history query beyond its scope and cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Only messages sent before this time.
    pub before_ts: Option<i64>,
    /// Only messages sent after this time.
    pub after_ts: Option<i64>,
    /// Only messages from this account.
    pub from: Option<i64>,
    /// Only messages containing every one of these words (as `LOWER()` of the database
    /// lowers both: ASCII letters on SQLite, every letter of the locale elsewhere). The
    /// scan [`crate::search::page`] falls back on while the search index is not ready.
    pub words: Vec<String>,
}

fn group_condition(id: i64, since: Option<i64>) -> Condition {
    let mut c = Condition::all()
        .add(chat_history::Column::TargetKind.eq(TargetKind::Group.code()))
        .add(chat_history::Column::TargetId.eq(id));
    if let Some(since) = since {
        c = c.add(chat_history::Column::SendTime.gte(since));
    }
    c
}

fn room_condition() -> Condition {
    Condition::all()
        .add(chat_history::Column::TargetKind.eq(TargetKind::Room.code()))
        .add(chat_history::Column::TargetId.eq(0i64))
}

impl From<Conversation> for Scope {
    /// The whole conversation, as a cluster node reads back what it missed.
    fn from(c: Conversation) -> Self {
        match c {
            Conversation::Room => Self::Room,
            Conversation::Group(id) => Self::Group { id, since: None },
            Conversation::Direct(me, peer) => Self::Direct { me, peer },
        }
    }
}

impl Scope {
    fn condition(&self) -> Condition {
        use chat_history::Column as C;
        match self {
            Self::Room => room_condition(),
            Self::Group { id, since } => group_condition(*id, *since),
            Self::Direct { .. } => self
                .parts()
                .into_iter()
                .fold(Condition::any(), |any, part| any.add(part)),
            Self::Inbox { me } => Condition::all()
                .add(C::TargetKind.eq(TargetKind::User.code()))
                .add(C::TargetId.eq(*me)),
            Self::Readable { me, groups } => {
                let mut any = Condition::any().add(room_condition()).add(
                    Condition::all()
                        .add(C::TargetKind.eq(TargetKind::User.code()))
                        .add(
                            Condition::any()
                                .add(C::Uid.eq(*me))
                                .add(C::TargetId.eq(*me)),
                        ),
                );
                for (id, since) in groups {
                    any = any.add(group_condition(*id, *since));
                }
                any
            }
        }
    }
}

impl Scope {
    /// The scope as conditions whose union it is, each one range of an index:
    /// a direct conversation is its two directions (each read on
    /// `idx_chat_history_pair`, so a page costs the same however many direct
    /// messages the history holds; as one condition with an OR the database
    /// read every direct message there is); any other scope is itself.
    pub(super) fn parts(&self) -> Vec<Condition> {
        use chat_history::Column as C;
        let sent = |from: i64, to: i64| {
            Condition::all()
                .add(C::TargetKind.eq(TargetKind::User.code()))
                .add(C::TargetId.eq(to))
                .add(C::Uid.eq(from))
        };
        match *self {
            Self::Direct { me, peer } if me == peer => vec![sent(me, me)],
            Self::Direct { me, peer } => vec![sent(me, peer), sent(peer, me)],
            _ => vec![self.condition()],
        }
    }
}

/// `word` as a LIKE pattern matching it anywhere, with `!` escaping the pattern's own
/// special characters (an escape character that needs no escaping in any backend's
/// string literals). Its case is left to the database's `LOWER()`, which lowers the
/// text too (see [`Filters::condition`]).
fn contains_pattern(word: &str) -> String {
    let mut p = String::from("%");
    for ch in word.chars() {
        if matches!(ch, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

impl Filters {
    /// The filters as one condition on `chat_history` rows.
    pub(super) fn condition(&self) -> Condition {
        use chat_history::Column as C;
        let mut c = Condition::all();
        if let Some(t) = self.before_ts {
            c = c.add(C::SendTime.lt(t));
        }
        if let Some(t) = self.after_ts {
            c = c.add(C::SendTime.gt(t));
        }
        if let Some(uid) = self.from {
            c = c.add(C::Uid.eq(uid));
        }
        // `LOWER(text) LIKE LOWER(pattern)`: both sides lowered by the same function, so
        // a word is always found as typed. (Lowering the word in Rust instead made
        // `ÉCOLE` miss itself on SQLite, whose LOWER() only lowers ASCII letters.)
        for word in &self.words {
            let pattern = Expr::expr(Func::lower(Expr::val(contains_pattern(word))))
                .binary(BinOper::Escape, Expr::Constant('!'.into()));
            c = c.add(
                Expr::expr(Func::lower(Expr::col((chat_history::Entity, C::Comment))))
                    .binary(BinOper::Like, pattern),
            );
        }
        c
    }
}
