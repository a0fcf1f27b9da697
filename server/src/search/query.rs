//! A page of messages narrowed by words, matched as search matches them
//! (every folded word in the folded text; see
//! [`chatroom_shared::rules::search::fold`]), for `search` and for
//! `history`'s `text` filter alike: the first candidates in the direction of
//! travel that hold every word's grams, in a conversation the reader may read
//! (from a sender, between times), from the committed index and from what was
//! fed since; each checked against its text in the database (a long word's
//! grams can all occur without the word), until the page is full.

use std::ops::Bound;
use std::sync::Arc;

use chatroom_shared::rules::name_key;
use chatroom_shared::rules::search::{fold, holds_all};
use sea_orm::{ConnectionTrait, DbErr};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Order, Searcher, Term};
use tracing::warn;

use super::fields::{BUCKET_BITS, Doc, Fields, conversation_term, id_value};
use super::{SearchIndex, State, grams};
use crate::db::history::{self, Cursor, Filters, Scope, StoredMessage};
use crate::delivery::Conversation;

/// Candidates asked of the index at once, at most.
const MAX_ROUND: usize = 4096;
/// Widest window of buckets read newest first before the rest is asked at once.
const MAX_WINDOW: u64 = 8;

/// One page of `scope`'s messages that pass `filters`, as [`history::page`]
/// returns it (ascending ids; whether more exist in the direction of travel),
/// with `filters.words` matched as search matches words: through the index
/// when it is ready. Until then (it is reading the history, or it failed) the
/// database scans, matching words as its `LOWER()` does. `from_key` is the
/// name key of `filters.from`'s account, which the index knows senders by.
/// Its time goes to the operator's search latency figure.
pub async fn page(
    index: Option<&SearchIndex>,
    db: &impl ConnectionTrait,
    scope: &Scope,
    filters: &Filters,
    from_key: Option<&str>,
    cursor: Cursor,
    limit: u64,
) -> Result<(Vec<StoredMessage>, bool), DbErr> {
    let started = std::time::Instant::now();
    let found = match index {
        Some(index) if !filters.words.is_empty() => {
            index
                .page(db, scope, filters, from_key, cursor, limit)
                .await?
        }
        _ => None,
    };
    let found = match found {
        Some(found) => found,
        None => history::page(db, scope, filters, cursor, limit).await?,
    };
    metrics::histogram!(crate::metrics::SEARCH_SECONDS).record(started.elapsed());
    Ok(found)
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
    from_key: Option<String>,
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
            && self
                .from_key
                .as_deref()
                .is_none_or(|k| d.sender.as_deref().is_some_and(|s| name_key(s) == k))
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
        from_key: Option<&str>,
        cursor: Cursor,
        limit: u64,
    ) -> Result<Option<(Vec<StoredMessage>, bool)>, DbErr> {
        if self.state() != State::Ready
            || (filters.from.is_some() && from_key.is_none())
            || matches!(scope, Scope::Inbox { .. })
        {
            return Ok(None);
        }
        let mut words: Vec<String> = filters.words.iter().map(|w| fold(w)).collect();
        words.sort_unstable();
        words.dedup();
        let mut all_grams = Vec::new();
        for w in &words {
            let Some(g) = grams::of_word(w) else {
                return Ok(None);
            };
            all_grams.extend(g);
        }
        all_grams.sort_unstable();
        all_grams.dedup();
        let ask = Arc::new(Ask {
            scope: scope.clone(),
            from_key: from_key.map(str::to_owned),
            before_ts: filters.before_ts,
            after_ts: filters.after_ts,
            words,
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
            let pending: Vec<Arc<Vec<Doc>>> =
                view.pending.iter().map(|(_, d)| Arc::clone(d)).collect();
            (self.0.reader.searcher(), pending)
        };
        let forward = matches!(cursor, Cursor::After(_));
        let (mut ids, mut exhausted) = self.committed(&searcher, ask, cursor, k)?;
        ids.extend(
            pending
                .iter()
                .flat_map(|batch| batch.iter())
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
        // With exactly `k` it says there may be more, as the committed part
        // does: whether it knew depended on where the last ids were (committed
        // or not yet), so the same search answered two ways.
        if ids.len() >= k {
            ids.truncate(k);
            exhausted = false;
        }
        Ok((ids, exhausted))
    }
}

impl SearchIndex {
    /// Up to `k` ids beyond `cursor` from the committed index, in its
    /// direction, and whether there are no more. Newest first is read window
    /// by window of ids ([`BUCKET_BITS`]), each eight times the last, so a
    /// page of common words costs one window's matches however long the
    /// history; past [`MAX_WINDOW`] buckets the rest is asked at once (rare
    /// words: their few matches).
    fn committed(
        &self,
        searcher: &Searcher,
        ask: &Ask,
        cursor: Cursor,
        k: usize,
    ) -> tantivy::Result<(Vec<i64>, bool)> {
        let f = &self.0.fields;
        let Some((lowest, highest)) = id_span(searcher)? else {
            return Ok((Vec::new(), true));
        };
        let forward = matches!(cursor, Cursor::After(_));
        let order = if forward { Order::Asc } else { Order::Desc };
        let first = match cursor {
            Cursor::Latest => highest,
            Cursor::Before(b) => id_value(b).saturating_sub(1).min(highest),
            Cursor::After(a) => id_value(a).saturating_add(1).max(lowest),
        };
        if (forward && first > highest) || (!forward && first < lowest) {
            return Ok((Vec::new(), true));
        }
        let (low_bucket, high_bucket) = (lowest >> BUCKET_BITS, highest >> BUCKET_BITS);
        // The first window is the cursor's bucket: the ids in it on the near
        // side of the cursor are collected too and dropped (at most a
        // bucket's worth), as a range query on ids would cost a pass over
        // the whole segment.
        let bucket_start = (first >> BUCKET_BITS) << BUCKET_BITS;
        let mut skip = match cursor {
            Cursor::Latest => 0,
            Cursor::Before(b) => (bucket_start + (1 << BUCKET_BITS)).saturating_sub(id_value(b)),
            Cursor::After(a) => (id_value(a) + 1).saturating_sub(bucket_start),
        };
        let beyond = |id: i64| match cursor {
            Cursor::Latest => true,
            Cursor::Before(b) => id < b,
            Cursor::After(a) => id > a,
        };
        let mut ids: Vec<i64> = Vec::new();
        let mut next = first >> BUCKET_BITS;
        let mut width = 1u64;
        loop {
            let wanted = k - ids.len();
            let last_window = width > MAX_WINDOW;
            // The buckets of this window, in the direction of travel; the
            // last window is everything left.
            let (from, to) = if last_window {
                if forward {
                    (next, high_bucket)
                } else {
                    (low_bucket, next)
                }
            } else if forward {
                (next, next.saturating_add(width - 1).min(high_bucket))
            } else {
                (next.saturating_sub(width - 1).max(low_bucket), next)
            };
            let mut window: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Must, Box::new(build(f, ask)))];
            if !last_window {
                let buckets = (from..=to).map(|b| Term::from_field_u64(f.bucket, b));
                window.push((Occur::Must, any_of(buckets)));
            } else if forward {
                window.push((
                    Occur::Must,
                    Box::new(RangeQuery::new(
                        Bound::Included(Term::from_field_u64(f.id, from << BUCKET_BITS)),
                        Bound::Unbounded,
                    )),
                ));
            } else {
                window.push((
                    Occur::Must,
                    Box::new(RangeQuery::new(
                        Bound::Unbounded,
                        Bound::Excluded(Term::from_field_u64(f.id, (to + 1) << BUCKET_BITS)),
                    )),
                ));
            }
            let limit = wanted.saturating_add(usize::try_from(skip).unwrap_or(usize::MAX));
            skip = 0;
            let top: Vec<(Option<u64>, tantivy::DocAddress)> = searcher.search(
                &BooleanQuery::new(window),
                &TopDocs::with_limit(limit).order_by_fast_field::<u64>("id", order),
            )?;
            ids.extend(
                top.into_iter()
                    .filter_map(|(id, _)| id.and_then(|id| i64::try_from(id).ok()))
                    .filter(|&id| beyond(id))
                    .take(wanted),
            );
            let at_end = last_window
                || if forward {
                    to >= high_bucket
                } else {
                    from <= low_bucket
                };
            if ids.len() >= k {
                return Ok((ids, false));
            }
            if at_end {
                return Ok((ids, true));
            }
            next = if forward { to + 1 } else { from - 1 };
            width = width.saturating_mul(8);
        }
    }
}

/// The lowest and highest id in the committed index.
fn id_span(searcher: &Searcher) -> tantivy::Result<Option<(u64, u64)>> {
    let mut span: Option<(u64, u64)> = None;
    for segment in searcher.segment_readers() {
        if segment.num_docs() == 0 {
            continue;
        }
        let column = segment.fast_fields().u64("id")?;
        let (lo, hi) = (column.min_value(), column.max_value());
        span = Some(span.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
    }
    Ok(span)
}

/// Documents with any of these terms, through their posting lists (a
/// `TermSetQuery` would first collect every document of every term into a
/// bitset: the whole room, for a search).
fn any_of(terms: impl IntoIterator<Item = Term>) -> Box<dyn Query> {
    let clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .into_iter()
        .map(|t| (Occur::Should, term_query(t)))
        .collect();
    Box::new(BooleanQuery::new(clauses))
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

/// The index query: every gram, the scope, the sender, the time bounds.
fn build(f: &Fields, ask: &Ask) -> BooleanQuery {
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
            any.push((Occur::Should, any_of(open)));
            any.push((
                Occur::Should,
                term_query(Term::from_field_text(f.party, &me.to_string())),
            ));
            Box::new(BooleanQuery::new(any))
        }
    };
    must.push((Occur::Must, scope));
    if let Some(key) = &ask.from_key {
        must.push((
            Occur::Must,
            term_query(Term::from_field_text(f.sender, key)),
        ));
    }
    if ask.before_ts.is_some() || ask.after_ts.is_some() {
        let lower = ask.after_ts.map_or(Bound::Unbounded, |t| {
            Bound::Excluded(Term::from_field_i64(f.ts, t))
        });
        let upper = ask.before_ts.map_or(Bound::Unbounded, |t| {
            Bound::Excluded(Term::from_field_i64(f.ts, t))
        });
        must.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    BooleanQuery::new(must)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: i64, conversation: Conversation, text: &str) -> Doc {
        Doc {
            id,
            ts: 1_000 + id,
            conversation,
            sender: Some(Arc::from("alice")),
            text: text.to_owned(),
        }
    }

    /// What `candidates` must give: the admitted ids beyond the cursor, in its
    /// direction, the first `k`, and whether fewer than `k` exist (with
    /// exactly `k` it cannot know that none follow, and says there may be).
    fn brute(docs: &[Doc], ask: &Ask, cursor: Cursor, k: usize) -> (Vec<i64>, bool) {
        let mut ids: Vec<i64> = docs
            .iter()
            .filter(|d| match cursor {
                Cursor::Latest => true,
                Cursor::Before(b) => d.id < b,
                Cursor::After(a) => d.id > a,
            })
            .filter(|d| ask.admits(d))
            .map(|d| d.id)
            .collect();
        if matches!(cursor, Cursor::After(_)) {
            ids.sort_unstable();
        } else {
            ids.sort_unstable_by_key(|&id| std::cmp::Reverse(id));
        }
        let all = ids.len() < k;
        ids.truncate(k);
        (ids, all)
    }

    /// Pages through windows of id buckets, committed and in memory, give
    /// exactly what a pass over every message gives: dense and sparse
    /// matches over many buckets, every cursor direction, page sizes below
    /// and above a bucket's matches.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn windows_of_buckets_give_what_a_full_pass_gives() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&crate::db::sqlite_url_for(dir.path()))
            .await
            .unwrap();
        crate::db::migrate(&db).await.unwrap();
        let index = SearchIndex::open(dir.path().join("index"), db, true).unwrap();
        assert_eq!(index.ready().await, State::Ready);
        // 40 buckets of ids; "common" in every 3rd message, "rare" in every
        // 9,001st; a group the reader may not read, and direct messages.
        let span = 40i64 << BUCKET_BITS;
        let docs: Vec<Doc> = (1..=span)
            .step_by(5)
            .map(|id| {
                let c = match id % 7 {
                    0 => Conversation::Group(9),
                    1 => Conversation::direct(1, 2),
                    2 => Conversation::direct(2, 3),
                    _ => Conversation::Room,
                };
                let mut text = format!("message {id}");
                if id % 3 == 0 {
                    text.push_str(" common");
                }
                if id % 9_001 == 0 {
                    text.push_str(" rare");
                }
                doc(id, c, &text)
            })
            .collect();
        let (committed, in_memory) = docs.split_at(docs.len() * 3 / 4);
        index.stored(committed.to_vec());
        index.flush().await;
        index.stored(in_memory.to_vec());
        let f = |w: &str| fold(w);
        for word in ["common", "rare", "message"] {
            let ask = Ask {
                scope: Scope::Readable {
                    me: 1,
                    groups: Vec::new(),
                },
                from_key: None,
                before_ts: None,
                after_ts: None,
                words: vec![f(word)],
                grams: grams::of_word(&f(word)).unwrap(),
            };
            for cursor in [
                Cursor::Latest,
                Cursor::Before(span / 2 + 3),
                Cursor::Before(1 << BUCKET_BITS),
                Cursor::Before(3),
                Cursor::After(0),
                Cursor::After(span / 3 + 1),
                Cursor::After(span - 10),
            ] {
                for k in [1, 50, 700] {
                    let got = index.candidates(&ask, cursor, k).unwrap();
                    assert_eq!(
                        got,
                        brute(&docs, &ask, cursor, k),
                        "{word} {cursor:?} k={k}"
                    );
                }
            }
        }
        index.close().await;
    }
}
