//! Joins and leaves, gathered: what the hub tells whom when users come and go.
//!
//! Telling every session about every login costs the square of the users
//! online. So changes are gathered per name (the latest one wins) and told in
//! one go:
//! - sessions that do not watch the online list (every version-1 client) get
//!   one `user_joined` / `user_left` per change, and only while at most
//!   `broadcast_max` users are online;
//! - sessions that watch a window of the list (`watch_users`) get `presence`
//!   events carrying the changes in their window and the number online.
//!
//! While few are online the hub tells at once (so a join comes before the
//! newcomer's first message); above `broadcast_max` it tells once per
//! [`TICK`], however many logged in meanwhile.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::Duration;

use bytes::Bytes;
use chatroom_shared::UnixMillis;
use chatroom_shared::message::{
    LeaveReason, OnlineUser, Presence, PresenceLeft, ServerMessage, UserJoined, UserLeft,
};

use crate::delivery::{Audience, Event};
use crate::outbox::encode_event;
use crate::time::now_ms;

/// How often gathered changes are told while many are online: once a
/// second, so a storm of logins costs each watcher at most one frame a second
/// (at 250 ms, 10,000 watchers took 40,000 frames a second and a login storm
/// with all of them watching ran 7 s longer than one without).
pub const TICK: Duration = Duration::from_secs(1);

/// Names per `presence` event; a larger tick is split (PROTOCOL §18.2).
pub const NAMES_PER_EVENT: usize = 1000;

/// Users listed in `login_ok` (PROTOCOL §6.3): everyone up to this many,
/// otherwise the first page by name.
pub const FIRST_PAGE: usize = 100;

/// A user came or went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Who.
    pub name: String,
    /// Came or went.
    pub what: What,
}

/// The two kinds of [`Change`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// Logged in at `since`; `uid` is set for a login on this node (that
    /// session is not told of its own login).
    Joined {
        /// When the session started.
        since: UnixMillis,
        /// The account, for a login here.
        uid: Option<i64>,
    },
    /// Went offline.
    Left {
        /// Why.
        reason: LeaveReason,
    },
}

/// `name` logged in at `since` (`uid` for a login on this node).
pub fn joined(name: String, since: UnixMillis, uid: Option<i64>) -> Change {
    Change {
        name,
        what: What::Joined { since, uid },
    }
}

/// `name` went offline.
pub fn left(name: String, reason: LeaveReason) -> Change {
    Change {
        name,
        what: What::Left { reason },
    }
}

/// The part of the online list a session watches: names after `after`, up to
/// and including `upto` (no end without it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Window {
    /// Names after this one.
    pub after: Option<String>,
    /// Names up to this one.
    pub upto: Option<String>,
}

impl Window {
    /// The window a page of the online list spans: `users` is what a page of
    /// `asked` names after `after` found, where `asked` is the page size plus
    /// one. When it found that many, more follow and the window ends at the
    /// page's last name; otherwise the page reaches the end, and so does the
    /// window.
    pub fn of_page(after: Option<String>, users: &[OnlineUser], asked: usize) -> Self {
        let upto = if users.len() >= asked {
            asked
                .checked_sub(2)
                .and_then(|last| users.get(last))
                .map(|u| u.name.clone())
        } else {
            None
        };
        Self { after, upto }
    }

    /// Whether `name` is in the window.
    pub fn holds(&self, name: &str) -> bool {
        self.after.as_deref().is_none_or(|a| name > a)
            && self.upto.as_deref().is_none_or(|u| name <= u)
    }
}

/// The lower bound of a page of names: after `after`, from `prefix`.
pub fn page_start<'a>(after: Option<&'a str>, prefix: Option<&'a str>) -> Bound<&'a str> {
    match (after, prefix) {
        (Some(a), Some(p)) if a < p => Bound::Included(p),
        (Some(a), _) => Bound::Excluded(a),
        (None, Some(p)) => Bound::Included(p),
        (None, None) => Bound::Unbounded,
    }
}

/// Changes waiting to be told, the latest per name.
#[derive(Debug, Default)]
pub struct Pending {
    changes: BTreeMap<String, What>,
    /// The number online when watchers were last told.
    told_count: Option<u64>,
}

impl Pending {
    /// Note changes; a later change of a name replaces an earlier one.
    pub fn add(&mut self, changes: impl IntoIterator<Item = Change>) {
        for c in changes {
            self.changes.insert(c.name, c.what);
        }
    }

    /// Whether nothing waits to be told.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Take what waits: the changes, by name, and whether the number online
    /// differs from the one watchers were last told.
    pub fn take(&mut self, online_count: u64) -> Told {
        let changes = std::mem::take(&mut self.changes);
        let count_changed = self.told_count != Some(online_count);
        self.told_count = Some(online_count);
        Told {
            changes,
            online_count,
            count_changed,
            ts: now_ms(),
        }
    }
}

/// One telling of gathered changes.
#[derive(Debug)]
pub struct Told {
    changes: BTreeMap<String, What>,
    online_count: u64,
    count_changed: bool,
    ts: UnixMillis,
}

impl Told {
    /// The version-1 events, one per change, for sessions that do not watch.
    pub fn one_by_one(&self) -> Vec<Event> {
        self.changes
            .iter()
            .map(|(name, what)| match what {
                What::Joined { since, uid } => Event::new(
                    encode_event(&ServerMessage::UserJoined(UserJoined {
                        name: name.clone(),
                        ts: *since,
                    })),
                    Audience::Everyone { except: *uid },
                ),
                What::Left { reason } => Event::new(
                    encode_event(&ServerMessage::UserLeft(UserLeft {
                        name: name.clone(),
                        reason: *reason,
                        ts: self.ts,
                    })),
                    Audience::EVERYONE,
                ),
            })
            .collect()
    }

    /// The `presence` frames for a session watching `window`: none when
    /// nothing in it changed and the count did not either.
    pub fn for_window(&self, window: &Window) -> Vec<Bytes> {
        let start = window
            .after
            .as_deref()
            .map_or(Bound::Unbounded, Bound::Excluded);
        let end = window
            .upto
            .as_deref()
            .map_or(Bound::Unbounded, Bound::Included);
        if matches!((start, end), (Bound::Excluded(a), Bound::Included(u)) if a >= u) {
            return self.count_only();
        }
        let mut frames = Vec::new();
        let mut event = self.empty();
        let mut names = 0;
        for (name, what) in self.changes.range::<str, _>((start, end)) {
            match what {
                What::Joined { since, .. } => event.joined.push(OnlineUser {
                    name: name.clone(),
                    since: *since,
                }),
                What::Left { reason } => event.left.push(PresenceLeft {
                    name: name.clone(),
                    reason: *reason,
                }),
            }
            names += 1;
            if names == NAMES_PER_EVENT {
                frames.push(encode_event(&ServerMessage::Presence(event)));
                event = self.empty();
                names = 0;
            }
        }
        if names > 0 {
            frames.push(encode_event(&ServerMessage::Presence(event)));
        }
        if frames.is_empty() {
            return self.count_only();
        }
        frames
    }

    fn count_only(&self) -> Vec<Bytes> {
        if self.count_changed {
            vec![encode_event(&ServerMessage::Presence(self.empty()))]
        } else {
            Vec::new()
        }
    }

    fn empty(&self) -> Presence {
        Presence {
            online_count: self.online_count,
            joined: Vec::new(),
            left: Vec::new(),
            ts: self.ts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(frame: &Bytes) -> Presence {
        match serde_json::from_slice(&frame[4..]).unwrap() {
            ServerMessage::Presence(p) => p,
            other => panic!("expected presence, got {other:?}"),
        }
    }

    #[test]
    fn the_latest_change_of_a_name_wins() {
        let mut p = Pending::default();
        p.add([
            joined("bob".into(), 1, None),
            joined("amy".into(), 2, Some(7)),
        ]);
        p.add([left("bob".into(), LeaveReason::Quit)]);
        p.add([
            left("cat".into(), LeaveReason::Timeout),
            joined("cat".into(), 9, None),
        ]);
        let told = p.take(2);
        assert!(p.is_empty());
        let all = told.for_window(&Window::default());
        assert_eq!(all.len(), 1);
        let ev = decode(&all[0]);
        assert_eq!(ev.online_count, 2);
        let joined: Vec<_> = ev
            .joined
            .iter()
            .map(|u| (u.name.as_str(), u.since))
            .collect();
        assert_eq!(joined, [("amy", 2), ("cat", 9)]);
        assert_eq!(
            ev.left,
            [PresenceLeft {
                name: "bob".into(),
                reason: LeaveReason::Quit
            }]
        );
        // One by one: amy's own session is left out of its join.
        let events = told.one_by_one();
        assert_eq!(events.len(), 3);
        assert!(matches!(
            events[0].to,
            Audience::Everyone { except: Some(7) }
        ));
    }

    #[test]
    fn a_window_sees_its_names_and_otherwise_only_a_new_count() {
        let mut p = Pending::default();
        p.add((0..10).map(|i| joined(format!("u{i}"), i, None)));
        let told = p.take(10);
        let window = Window {
            after: Some("u2".into()),
            upto: Some("u5".into()),
        };
        let ev = decode(&told.for_window(&window)[0]);
        let names: Vec<_> = ev.joined.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["u3", "u4", "u5"]);
        assert!(window.holds("u5") && !window.holds("u2") && !window.holds("u6"));
        // Nothing in the window, but the count changed: a count-only event.
        let far = Window {
            after: Some("x".into()),
            upto: None,
        };
        let ev = decode(&told.for_window(&far)[0]);
        assert!(ev.joined.is_empty() && ev.left.is_empty());
        assert_eq!(ev.online_count, 10);
        // Next time, with the same count and nothing in the window: nothing.
        p.add([joined("a".into(), 1, None)]);
        assert!(p.take(10).for_window(&far).is_empty());
    }

    #[test]
    fn a_full_page_ends_the_window_at_its_last_name() {
        let users: Vec<OnlineUser> = ["a", "b", "c"]
            .iter()
            .map(|n| OnlineUser {
                name: (*n).into(),
                since: 0,
            })
            .collect();
        // A page of 2 asked as 3 and found 3: more follow, the window ends at "b".
        let w = Window::of_page(None, &users, 3);
        assert_eq!(w.upto.as_deref(), Some("b"));
        assert!(w.holds("a") && w.holds("b") && !w.holds("c"));
        // A page of 3 asked as 4 found 3: the last page, no end.
        let w = Window::of_page(Some("0".into()), &users, 4);
        assert_eq!(w.upto, None);
        assert!(w.holds("zzz") && !w.holds("0"));
    }

    #[test]
    fn a_large_tick_is_split_in_name_order() {
        let mut p = Pending::default();
        p.add((0..2500).map(|i| joined(format!("u{i:05}"), i, None)));
        let frames = p.take(2500).for_window(&Window::default());
        let sizes: Vec<_> = frames.iter().map(|f| decode(f).joined.len()).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        let last = decode(&frames[2]);
        assert_eq!(last.joined.last().unwrap().name, "u02499");
        assert!(frames.iter().all(|f| decode(f).online_count == 2500));
    }

    #[test]
    fn a_page_starts_after_the_cursor_or_at_the_prefix() {
        use Bound::{Excluded, Included, Unbounded};
        assert_eq!(page_start(None, None), Unbounded);
        assert_eq!(page_start(Some("bob"), None), Excluded("bob"));
        assert_eq!(page_start(None, Some("bo")), Included("bo"));
        assert_eq!(page_start(Some("bob"), Some("bo")), Excluded("bob"));
        assert_eq!(page_start(Some("al"), Some("bo")), Included("bo"));
    }
}
