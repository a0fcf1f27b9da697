//! A page of messages narrowed by words, matched as search matches them
//! (every folded word in the folded text; see
//! [`chatroom_shared::rules::search::fold`]), for `search` and for
//! `history`'s `text` filter alike.
//!
//! Through the index when it can answer: the first candidates in the
//! direction of travel that hold every word's grams, in a conversation the
//! reader may read, from the committed index and from what was fed since;
//! each checked against its text in the database (a long word's grams can all
//! occur without the word), until the page is full. Otherwise (no index, it
//! is still reading the history, a sender filter it does not hold, a word it
//! cannot narrow) the conversation is read page by page and each text checked:
//! the same meaning, at the cost of a scan.

use std::ops::Bound;
use std::sync::Arc;

use chatroom_shared::rules::search::{fold, holds_all};
use sea_orm::{ConnectionTrait, DbErr};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Order, Term};
use tracing::warn;

use super::fields::{Doc, Fields, conversation_term, id_value};
use super::{SearchIndex, State, grams};
use crate::db::history::{self, Cursor, Filters, Scope, StoredMessage};
use crate::delivery::Conversation;

/// Candidates asked of the index at once, at most.
const MAX_ROUND: usize = 4096;
/// Rows read at once when scanning.
const SCAN_PAGE: u64 = 1000;

/// One page of `scope`'s messages that pass `filters` and hold every one of
/// `words`, as [`history::page`] returns it (ascending ids; whether more exist
/// in the direction of travel).
pub async fn page(
    index: Option<&SearchIndex>,
    db: &impl ConnectionTrait,
    scope: &Scope,
    filters: &Filters,
    words: &[String],
    cursor: Cursor,
    limit: u64,
) -> Result<(Vec<StoredMessage>, bool), DbErr> {
    if words.is_empty() {
        return history::page(db, scope, filters, cursor, limit).await;
    }
    let mut words: Vec<String> = words.iter().map(|w| fold(w)).collect();
    words.sort_unstable();
    words.dedup();
    if let Some(index) = index
        && let Some(found) = index
            .page(db, scope, filters, &words, cursor, limit)
            .await?
    {
        return Ok(found);
    }
    scan(db, scope, filters, &words, cursor, limit).await
}

/// The page read from the database in order, each text checked.
async fn scan(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filters: &Filters,
    words: &[String],
    mut cursor: Cursor,
    limit: u64,
) -> Result<(Vec<StoredMessage>, bool), DbErr> {
    let want = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let forward = matches!(cursor, Cursor::After(_));
    let mut found = Vec::new();
    loop {
        let (rows, more) = history::page(db, scope, filters, cursor, SCAN_PAGE).await?;
        // In the direction of travel.
        let rows: Vec<StoredMessage> = if forward {
            rows
        } else {
            rows.into_iter().rev().collect()
        };
        let Some(last) = rows.last().map(|m| m.id) else {
            break;
        };
        found.extend(
            rows.into_iter()
                .filter(|m| holds_all(&fold(&m.text), words)),
        );
        if found.len() >= want || !more {
            break;
        }
        cursor = if forward {
            Cursor::After(last)
        } else {
            Cursor::Before(last)
        };
    }
    Ok(finish(found, want, forward))
}

/// Found messages in the direction of travel → the page in ascending order,
/// and whether more exist.
fn finish(mut found: Vec<StoredMessage>, want: usize, forward: bool) -> (Vec<StoredMessage>, bool) {
    let has_more = found.len() >= want;
    found.truncate(want - 1);
    if !forward {
        found.reverse();
    }
    (found, has_more)
}

/// What a query asks of the index, besides its direction.
struct Ask {
    scope: Scope,
    before_ts: Option<i64>,
    after_ts: Option<i64>,
    words: Vec<String>,
    grams: Vec<String>,
}

impl Ask {
    fn admits(&self, d: &Doc) -> bool {
        let readable = match &self.scope {
            Scope::Room => d.conversation == Conversation::Room,
            Scope::Group { id, since } => {
                d.conversation == Conversation::Group(*id) && since.is_none_or(|s| d.ts >= s)
            }
            Scope::Direct { me, peer } => d.conversation == Conversation::direct(*me, *peer),
            Scope::Inbox { .. } => false,
            Scope::Readable { me, groups } => match d.conversation {
                Conversation::Room => true,
                Conversation::Group(g) => groups
                    .iter()
                    .any(|&(id, since)| id == g && since.is_none_or(|s| d.ts >= s)),
                Conversation::Direct(a, b) => a == *me || b == *me,
            },
        };
        readable
            && self.before_ts.is_none_or(|t| d.ts < t)
            && self.after_ts.is_none_or(|t| d.ts > t)
            && holds_all(&fold(&d.text), &self.words)
    }
}

impl SearchIndex {
    /// The page through the index; `None` when it cannot answer.
    async fn page(
        &self,
        db: &impl ConnectionTrait,
        scope: &Scope,
        filters: &Filters,
        words: &[String],
        cursor: Cursor,
        limit: u64,
    ) -> Result<Option<(Vec<StoredMessage>, bool)>, DbErr> {
        if self.state() != State::Ready
            || filters.from.is_some()
            || matches!(scope, Scope::Inbox { .. })
        {
            return Ok(None);
        }
        let mut all_grams = Vec::new();
        for w in words {
            let Some(g) = grams::of_word(w) else {
                return Ok(None);
            };
            all_grams.extend(g);
        }
        all_grams.sort_unstable();
        all_grams.dedup();
        let ask = Arc::new(Ask {
            scope: scope.clone(),
            before_ts: filters.before_ts,
            after_ts: filters.after_ts,
            words: words.to_vec(),
            grams: all_grams,
        });
        let forward = matches!(cursor, Cursor::After(_));
        let want = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
        let mut found: Vec<StoredMessage> = Vec::new();
        let mut cursor = cursor;
        let mut round = want.saturating_mul(2).clamp(64, MAX_ROUND);
        loop {
            let index = self.clone();
            let a = Arc::clone(&ask);
            let asked =
                tokio::task::spawn_blocking(move || index.candidates(&a, cursor, round)).await;
            let (ids, exhausted) = match asked {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    warn!(error = %e, "the search index failed a search; scanning instead");
                    return Ok(None);
                }
                Err(e) => {
                    warn!(error = %e, "a search in the index stopped; scanning instead");
                    return Ok(None);
                }
            };
            let Some(&last) = ids.last() else { break };
            let mut rows = history::by_ids(db, &ids).await?;
            if forward {
                rows.sort_unstable_by_key(|m| m.id);
            } else {
                rows.sort_unstable_by_key(|m| std::cmp::Reverse(m.id));
            }
            for m in rows {
                if holds_all(&fold(&m.text), &ask.words) {
                    found.push(m);
                    if found.len() == want {
                        break;
                    }
                }
            }
            if found.len() >= want || exhausted {
                break;
            }
            cursor = if forward {
                Cursor::After(last)
            } else {
                Cursor::Before(last)
            };
            round = round.saturating_mul(2).min(MAX_ROUND);
        }
        Ok(Some(finish(found, want, forward)))
    }

    /// Up to `k` candidate ids beyond `cursor` in its direction, from the
    /// committed index and from what was fed since; and whether there are no
    /// more beyond them.
    fn candidates(&self, ask: &Ask, cursor: Cursor, k: usize) -> tantivy::Result<(Vec<i64>, bool)> {
        // The committed index and the messages not in it yet, as one view.
        let (searcher, pending) = {
            let view = self.0.view.read().unwrap_or_else(|p| p.into_inner());
            let pending: Vec<Arc<Doc>> = view.pending.iter().map(|(_, d)| Arc::clone(d)).collect();
            (self.0.reader.searcher(), pending)
        };
        let forward = matches!(cursor, Cursor::After(_));
        let order = if forward { Order::Asc } else { Order::Desc };
        let query = build(&self.0.fields, ask, cursor);
        let top: Vec<(Option<u64>, tantivy::DocAddress)> = searcher.search(
            &query,
            &TopDocs::with_limit(k).order_by_fast_field::<u64>("id", order),
        )?;
        let mut exhausted = top.len() < k;
        let mut ids: Vec<i64> = top
            .into_iter()
            .filter_map(|(id, _)| id.and_then(|id| i64::try_from(id).ok()))
            .collect();
        ids.extend(
            pending
                .iter()
                .filter(|d| match cursor {
                    Cursor::Latest => true,
                    Cursor::Before(b) => d.id < b,
                    Cursor::After(a) => d.id > a,
                })
                .filter(|d| ask.admits(d))
                .map(|d| d.id),
        );
        if forward {
            ids.sort_unstable();
        } else {
            ids.sort_unstable_by_key(|&id| std::cmp::Reverse(id));
        }
        ids.dedup();
        if ids.len() > k {
            ids.truncate(k);
            exhausted = false;
        }
        Ok((ids, exhausted))
    }
}

fn term_query(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::Basic))
}

/// Sent at or after `since`.
fn sent_since(f: &Fields, since: i64) -> Box<dyn Query> {
    Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_i64(f.ts, since)),
        Bound::Unbounded,
    ))
}

/// The index query: every gram, the scope, the time bounds, beyond the cursor.
fn build(f: &Fields, ask: &Ask, cursor: Cursor) -> BooleanQuery {
    let mut must: Vec<(Occur, Box<dyn Query>)> = ask
        .grams
        .iter()
        .map(|g| (Occur::Must, term_query(Term::from_field_text(f.gram, g))))
        .collect();
    let conv = |c: Conversation| Term::from_field_text(f.conversation, &conversation_term(c));
    let group = |id: i64, since: Option<i64>| -> Box<dyn Query> {
        match since {
            None => term_query(conv(Conversation::Group(id))),
            Some(since) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, term_query(conv(Conversation::Group(id)))),
                (Occur::Must, sent_since(f, since)),
            ])),
        }
    };
    let scope: Box<dyn Query> = match &ask.scope {
        Scope::Room => term_query(conv(Conversation::Room)),
        Scope::Group { id, since } => group(*id, *since),
        Scope::Direct { me, peer } => term_query(conv(Conversation::direct(*me, *peer))),
        // Never asked (see `page`): nothing.
        Scope::Inbox { .. } => Box::new(BooleanQuery::new(Vec::new())),
        Scope::Readable { me, groups } => {
            let mut open = vec![conv(Conversation::Room)];
            let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for &(id, since) in groups {
                match since {
                    None => open.push(conv(Conversation::Group(id))),
                    Some(_) => any.push((Occur::Should, group(id, since))),
                }
            }
            any.push((Occur::Should, Box::new(TermSetQuery::new(open))));
            any.push((
                Occur::Should,
                term_query(Term::from_field_text(f.party, &me.to_string())),
            ));
            Box::new(BooleanQuery::new(any))
        }
    };
    must.push((Occur::Must, scope));
    if ask.before_ts.is_some() || ask.after_ts.is_some() {
        let lower = ask.after_ts.map_or(Bound::Unbounded, |t| {
            Bound::Excluded(Term::from_field_i64(f.ts, t))
        });
        let upper = ask.before_ts.map_or(Bound::Unbounded, |t| {
            Bound::Excluded(Term::from_field_i64(f.ts, t))
        });
        must.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    let id = |v: i64| Term::from_field_u64(f.id, id_value(v));
    match cursor {
        Cursor::Latest => {}
        Cursor::Before(b) => must.push((
            Occur::Must,
            Box::new(RangeQuery::new(Bound::Unbounded, Bound::Excluded(id(b)))),
        )),
        Cursor::After(a) => must.push((
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Excluded(id(a.max(0))),
                Bound::Unbounded,
            )),
        )),
    }
    BooleanQuery::new(must)
}
