//! Paged lists: the one shape of every reply that lists things without a
//! bound (`file_list`, `group_list`, `member_list`, `game_list`, `user_list`;
//! PROTOCOL §3.4).
//!
//! A handler fetches at most `size + 1` entries after the request's cursor,
//! in the list's order (a keyset query with `LIMIT` on an indexed column, or a
//! range of an ordered map), and [`Page::cut`] makes the page of them: at most
//! `size` entries, fewer once their JSON would pass
//! [`chatroom_shared::MAX_LIST_PAGE_BYTES`], and whether more follow. So a
//! request costs in proportion to its page, never to the whole list, and a
//! page stays far below the frame limit whatever the length of names and
//! comments (one entry alone can be larger than the budget: a page holds at
//! least one, so paging always moves on).

use chatroom_shared::{MAX_LIST_PAGE, MAX_LIST_PAGE_BYTES};
use serde::Serialize;

/// The page size for a request's `limit`: the maximum when absent, else
/// clamped to 1 ... [`MAX_LIST_PAGE`] (as `history` clamps its `limit`).
pub fn page_size(limit: Option<u32>) -> usize {
    let max = MAX_LIST_PAGE as usize;
    limit.map_or(max, |l| (l as usize).clamp(1, max))
}

/// One page of a list: its entries, and whether more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The entries, in the list's order.
    pub items: Vec<T>,
    /// More entries follow this page.
    pub has_more: bool,
}

impl<T: Serialize> Page<T> {
    /// The page of `fetched` (up to `size + 1` entries after the cursor):
    /// within `size` entries and the byte budget.
    pub fn cut(fetched: Vec<T>, size: usize) -> Self {
        Self::cut_with(fetched, size, MAX_LIST_PAGE_BYTES as usize, json_len)
    }
}

impl<T> Page<T> {
    /// [`Page::cut`] with another byte budget and measure of an entry's JSON.
    pub fn cut_with(
        mut fetched: Vec<T>,
        size: usize,
        budget: usize,
        measure: impl Fn(&T) -> usize,
    ) -> Self {
        let mut has_more = fetched.len() > size;
        fetched.truncate(size.max(1));
        let mut bytes = 0;
        let mut keep = 0;
        for item in &fetched {
            // The entry and the comma before the next one.
            let len = measure(item) + 1;
            if keep > 0 && bytes + len > budget {
                break;
            }
            bytes += len;
            keep += 1;
        }
        if keep < fetched.len() {
            fetched.truncate(keep);
            has_more = true;
        }
        Self {
            items: fetched,
            has_more,
        }
    }

    /// The cursor for the next page (`key` of the last entry), when more follow.
    pub fn next<K>(&self, key: impl Fn(&T) -> K) -> Option<K> {
        if self.has_more {
            self.items.last().map(key)
        } else {
            None
        }
    }
}

/// The first `n` entries of two lists each sorted by `key`, merged in that
/// order; an entry whose key is in both (as for an instant while a user's
/// session moves between cluster nodes) comes once, from `a`.
pub fn merge_by<T, K: Ord>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    key: impl Fn(&T) -> K,
    n: usize,
) -> Vec<T> {
    use std::cmp::Ordering;
    let mut a = a.peekable();
    let mut b = b.peekable();
    let mut out = Vec::new();
    while out.len() < n {
        let order = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => key(x).cmp(&key(y)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        let next = match order {
            Ordering::Less => a.next(),
            Ordering::Greater => b.next(),
            Ordering::Equal => {
                b.next();
                a.next()
            }
        };
        out.extend(next);
    }
    out
}

/// Bytes of `item`'s JSON, as the reply will hold it.
pub fn json_len<T: Serialize + ?Sized>(item: &T) -> usize {
    let mut counter = Counter(0);
    // Our own types always serialize; a failure counts as nothing.
    let _ = serde_json::to_writer(&mut counter, item);
    counter.0
}

/// A writer that only counts.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped_like_history_pages() {
        assert_eq!(page_size(None), MAX_LIST_PAGE as usize);
        assert_eq!(page_size(Some(0)), 1);
        assert_eq!(page_size(Some(7)), 7);
        assert_eq!(page_size(Some(u32::MAX)), MAX_LIST_PAGE as usize);
    }

    #[test]
    fn one_entry_more_than_the_page_means_more_follow() {
        let page = Page::cut(vec![1, 2, 3], 2);
        assert_eq!(page.items, [1, 2]);
        assert!(page.has_more);
        assert_eq!(page.next(|n| *n), Some(2));
        let page = Page::cut(vec![1, 2], 2);
        assert!(!page.has_more);
        assert_eq!(page.next(|n| *n), None);
        let page = Page::<i32>::cut(vec![], 2);
        assert!(page.items.is_empty() && !page.has_more);
    }

    #[test]
    fn a_page_ends_before_its_entries_pass_the_byte_budget() {
        // Each entry is 10 bytes of JSON plus a comma: three fit in 33 bytes.
        let entries = vec!["12345678".to_owned(); 5];
        let page = Page::cut_with(entries, 5, 33, json_len);
        assert_eq!(page.items.len(), 3);
        assert!(page.has_more, "cut by bytes: more follow");
        let page = Page::cut_with(vec!["12345678".to_owned(); 3], 5, 33, json_len);
        assert_eq!(page.items.len(), 3);
        assert!(!page.has_more);
    }

    #[test]
    fn an_entry_larger_than_the_budget_still_makes_a_page_of_its_own() {
        let entries = vec!["x".repeat(100), "y".to_owned()];
        let page = Page::cut_with(entries, 5, 10, json_len);
        assert_eq!(page.items, ["x".repeat(100)]);
        assert!(page.has_more);
    }

    #[test]
    fn two_sorted_lists_merge_into_one_without_twins() {
        let here = ["ann", "cat", "eve"];
        let there = ["ben", "cat", "dan"];
        let merged = merge_by(here.into_iter(), there.into_iter(), |s| *s, 10);
        assert_eq!(merged, ["ann", "ben", "cat", "dan", "eve"]);
        assert_eq!(
            merge_by(here.into_iter(), there.into_iter(), |s| *s, 2),
            ["ann", "ben"]
        );
        assert_eq!(
            merge_by([].into_iter(), there.into_iter(), |s| *s, 9),
            there
        );
    }

    #[test]
    fn json_len_counts_escapes() {
        assert_eq!(json_len("a\"b"), 6);
        assert_eq!(json_len(&42), 2);
    }
}
