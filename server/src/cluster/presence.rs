//! Who is online on the other nodes: the hub's view of its peers, without IO.
//!
//! Each node numbers its presence changes (its version). A change that does not
//! follow the last one seen, a heartbeat with another version, or a node not
//! seen before means something was missed: the hub then asks that node for a
//! snapshot of its whole table. A node silent for the node timeout is taken for
//! dead and its users are gone.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chatroom_shared::UnixMillis;

use super::wire::RemoteUser;

/// What presence knows of one other node.
#[derive(Debug)]
struct Peer {
    version: u64,
    started: UnixMillis,
    last_heard: Instant,
    users: HashMap<i64, RemoteUser>,
}

/// Whether a change from a peer was applied in sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequence {
    /// It followed the last change seen.
    InOrder,
    /// Something was missed (or the peer is new): ask for a snapshot.
    Missed,
    /// Already seen: ignored.
    Stale,
}

/// The other nodes and their users.
#[derive(Debug, Default)]
pub struct Peers {
    nodes: HashMap<String, Peer>,
    /// Which node each remote user is on.
    location: HashMap<i64, String>,
    /// The remote users by name, for pages of `users`.
    by_name: BTreeMap<String, i64>,
}

impl Peers {
    /// Note that `node` is alive; returns true when it was not known.
    pub fn heard(&mut self, node: &str, started: Option<UnixMillis>, now: Instant) -> bool {
        match self.nodes.get_mut(node) {
            Some(p) => {
                p.last_heard = now;
                if let Some(started) = started {
                    p.started = started;
                }
                false
            }
            None => {
                self.nodes.insert(
                    node.to_owned(),
                    Peer {
                        version: 0,
                        started: started.unwrap_or(UnixMillis::MAX),
                        last_heard: now,
                        users: HashMap::new(),
                    },
                );
                true
            }
        }
    }

    /// Whether a heartbeat's version matches what was seen of the node.
    pub fn in_step(&self, node: &str, version: u64) -> bool {
        self.nodes.get(node).is_some_and(|p| p.version == version)
    }

    /// Check a change's version against the node's last one and record it.
    pub fn sequence(&mut self, node: &str, version: u64, now: Instant) -> Sequence {
        let new = self.heard(node, None, now);
        let Some(p) = self.nodes.get_mut(node) else {
            return Sequence::Missed;
        };
        if version <= p.version {
            return Sequence::Stale;
        }
        let in_order = !new && version == p.version + 1;
        p.version = version;
        if in_order {
            Sequence::InOrder
        } else {
            Sequence::Missed
        }
    }

    /// Where a user is online elsewhere.
    pub fn find(&self, uid: i64) -> Option<(&str, &RemoteUser)> {
        let node = self.location.get(&uid)?;
        let user = self.nodes.get(node)?.users.get(&uid)?;
        Some((node, user))
    }

    /// Record a user as online on `node` (moving them from wherever they were);
    /// returns where they were before.
    pub fn insert(&mut self, node: &str, user: RemoteUser) -> Option<(String, RemoteUser)> {
        let before = self.remove_uid(user.uid);
        if let Some(p) = self.nodes.get_mut(node) {
            self.location.insert(user.uid, node.to_owned());
            self.by_name.insert(user.name.clone(), user.uid);
            p.users.insert(user.uid, user);
        }
        before
    }

    /// Forget a user wherever they are.
    pub fn remove_uid(&mut self, uid: i64) -> Option<(String, RemoteUser)> {
        let node = self.location.remove(&uid)?;
        let user = self.nodes.get_mut(&node)?.users.remove(&uid)?;
        self.by_name.remove(&user.name);
        Some((node, user))
    }

    /// Forget a session that ended on `node`; returns the user if it was theirs.
    pub fn remove_session(&mut self, node: &str, uid: i64, session: u64) -> Option<RemoteUser> {
        let current = self.nodes.get(node)?.users.get(&uid)?;
        if current.session != session {
            return None;
        }
        self.remove_uid(uid).map(|(_, u)| u)
    }

    /// Replace a node's table with its snapshot. Users that are (now) online
    /// elsewhere are left where they are; `is_local` tells which are on this
    /// node. Returns who came and who went, for the notices.
    pub fn replace(
        &mut self,
        node: &str,
        version: u64,
        started: UnixMillis,
        users: Vec<RemoteUser>,
        is_local: impl Fn(i64) -> bool,
        now: Instant,
    ) -> (Vec<RemoteUser>, Vec<RemoteUser>) {
        self.heard(node, Some(started), now);
        let old: HashMap<i64, RemoteUser> = match self.nodes.get_mut(node) {
            Some(p) => {
                p.version = version;
                std::mem::take(&mut p.users)
            }
            None => HashMap::new(),
        };
        for (uid, user) in &old {
            self.location.remove(uid);
            self.by_name.remove(&user.name);
        }
        let mut came = Vec::new();
        for user in users {
            let elsewhere = self.location.contains_key(&user.uid) || is_local(user.uid);
            if elsewhere {
                continue;
            }
            if !old.contains_key(&user.uid) {
                came.push(user.clone());
            }
            self.location.insert(user.uid, node.to_owned());
            if let Some(p) = self.nodes.get_mut(node) {
                self.by_name.insert(user.name.clone(), user.uid);
                p.users.insert(user.uid, user);
            }
        }
        let went = old
            .into_values()
            .filter(|u| !self.location.contains_key(&u.uid))
            .collect();
        (came, went)
    }

    /// Forget a node (it is shutting down); returns its users.
    pub fn forget(&mut self, node: &str) -> Vec<RemoteUser> {
        let Some(p) = self.nodes.remove(node) else {
            return Vec::new();
        };
        for (uid, user) in &p.users {
            self.location.remove(uid);
            self.by_name.remove(&user.name);
        }
        p.users.into_values().collect()
    }

    /// Forget the nodes not heard from within `timeout`; returns their users.
    pub fn expire(&mut self, now: Instant, timeout: Duration) -> Vec<(String, Vec<RemoteUser>)> {
        let dead: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.last_heard) > timeout)
            .map(|(n, _)| n.clone())
            .collect();
        let mut out = Vec::new();
        for node in dead {
            if let Some(p) = self.nodes.remove(&node) {
                for (uid, user) in &p.users {
                    self.location.remove(uid);
                    self.by_name.remove(&user.name);
                }
                out.push((node, p.users.into_values().collect()));
            }
        }
        out
    }

    /// Every remote user with their node.
    pub fn users(&self) -> impl Iterator<Item = (&str, &RemoteUser)> {
        self.nodes
            .iter()
            .flat_map(|(n, p)| p.users.values().map(move |u| (n.as_str(), u)))
    }

    /// How many remote users there are.
    pub fn count(&self) -> usize {
        self.location.len()
    }

    /// The remote users whose names start at `from`, by name.
    pub fn users_from<'a>(
        &'a self,
        from: std::ops::Bound<&'a str>,
    ) -> impl Iterator<Item = &'a RemoteUser> + 'a {
        self.by_name
            .range::<str, _>((from, std::ops::Bound::Unbounded))
            .filter_map(|(_, uid)| self.find(*uid).map(|(_, u)| u))
    }

    /// The live nodes with their start times.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, UnixMillis)> {
        self.nodes.iter().map(|(n, p)| (n.as_str(), p.started))
    }
}

/// Users in one part of a presence snapshot: about 100 bytes of JSON each, so
/// a part stays far below NATS's default 1 MiB message limit however many
/// users a node has.
pub const USERS_PER_PART: usize = 2000;

/// A node's users as the parts of one snapshot (one part, maybe empty, at least).
pub fn parts(users: Vec<RemoteUser>, per_part: usize) -> Vec<Vec<RemoteUser>> {
    if users.is_empty() {
        return vec![Vec::new()];
    }
    let mut parts = Vec::with_capacity(users.len().div_ceil(per_part.max(1)));
    let mut users = users.into_iter().peekable();
    while users.peek().is_some() {
        parts.push(users.by_ref().take(per_part.max(1)).collect());
    }
    parts
}

/// The snapshot parts of other nodes, put together until each is whole.
#[derive(Debug, Default)]
pub struct Assembly {
    pending: HashMap<String, Pending>,
}

#[derive(Debug)]
struct Pending {
    version: u64,
    parts: Vec<Option<Vec<RemoteUser>>>,
}

impl Assembly {
    /// Take part `part` of `parts` of `node`'s snapshot at `version`; returns all
    /// its users once every part of that version is in. A part of another
    /// version starts over (a part lost on the way leaves the node out of step,
    /// and the next heartbeat asks again).
    pub fn take(
        &mut self,
        node: &str,
        version: u64,
        part: u32,
        parts: u32,
        users: Vec<RemoteUser>,
    ) -> Option<Vec<RemoteUser>> {
        let parts = usize::try_from(parts.max(1)).unwrap_or(1);
        let part = usize::try_from(part).unwrap_or(usize::MAX);
        if parts == 1 {
            self.pending.remove(node);
            return Some(users);
        }
        if part >= parts {
            return None;
        }
        let pending = self
            .pending
            .entry(node.to_owned())
            .or_insert_with(|| Pending {
                version,
                parts: Vec::new(),
            });
        if pending.version != version || pending.parts.len() != parts {
            pending.version = version;
            pending.parts = vec![None; parts];
        }
        pending.parts[part] = Some(users);
        if pending.parts.iter().any(Option::is_none) {
            return None;
        }
        let done = self.pending.remove(node)?;
        Some(done.parts.into_iter().flatten().flatten().collect())
    }

    /// Drop what came of `node` (gone, or stopping).
    pub fn forget(&mut self, node: &str) {
        self.pending.remove(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: i64, session: u64) -> RemoteUser {
        RemoteUser {
            uid,
            name: format!("u{uid}"),
            addr: "127.0.0.1:1".parse().unwrap(),
            since: 0,
            session,
        }
    }

    #[test]
    fn versions_tell_a_missed_change_from_a_stale_one() {
        let mut p = Peers::default();
        let now = Instant::now();
        // A node first met through a change: its earlier users are unknown.
        assert_eq!(p.sequence("a", 5, now), Sequence::Missed);
        assert_eq!(p.sequence("a", 6, now), Sequence::InOrder);
        assert_eq!(p.sequence("a", 6, now), Sequence::Stale);
        assert_eq!(p.sequence("a", 8, now), Sequence::Missed);
        assert!(p.in_step("a", 8));
        assert!(!p.in_step("a", 9));
    }

    #[test]
    fn a_user_lives_on_one_node_at_a_time() {
        let mut p = Peers::default();
        let now = Instant::now();
        p.heard("a", Some(1), now);
        p.heard("b", Some(2), now);
        assert!(p.insert("a", user(1, 10)).is_none());
        let (from, _) = p.insert("b", user(1, 20)).unwrap();
        assert_eq!(from, "a");
        assert_eq!(p.find(1).map(|(n, u)| (n, u.session)), Some(("b", 20)));
        // The old session's end does not remove the new one.
        assert!(p.remove_session("a", 1, 10).is_none());
        assert!(p.remove_session("b", 1, 10).is_none());
        assert!(p.remove_session("b", 1, 20).is_some());
        assert!(p.find(1).is_none());
    }

    #[test]
    fn a_silent_node_takes_its_users_with_it() {
        let mut p = Peers::default();
        let t0 = Instant::now();
        p.heard("a", Some(1), t0);
        p.heard("b", Some(2), t0);
        p.insert("a", user(1, 1));
        p.insert("b", user(2, 2));
        let t1 = t0 + Duration::from_secs(3);
        p.heard("b", None, t1);
        let gone = p.expire(t1, Duration::from_secs(2));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].0, "a");
        assert_eq!(gone[0].1, vec![user(1, 1)]);
        assert!(p.find(1).is_none());
        assert!(p.find(2).is_some());
        assert_eq!(p.nodes().count(), 1);
    }

    #[test]
    fn a_snapshot_tells_who_came_and_who_went() {
        let mut p = Peers::default();
        let now = Instant::now();
        p.heard("a", Some(1), now);
        p.insert("a", user(1, 1));
        p.insert("a", user(2, 2));
        // 3 is on this node already; 4 is on node b.
        p.heard("b", Some(1), now);
        p.insert("b", user(4, 4));
        let local = |uid| uid == 3;
        let (came, went) = p.replace(
            "a",
            9,
            1,
            vec![user(2, 2), user(3, 3), user(4, 5), user(5, 5)],
            local,
            now,
        );
        assert_eq!(came, vec![user(5, 5)]);
        assert_eq!(went, vec![user(1, 1)]);
        assert!(p.in_step("a", 9));
        assert_eq!(p.find(4).map(|(n, _)| n), Some("b"));
        assert!(p.find(3).is_none());
    }

    #[test]
    fn remote_users_are_listed_by_name_as_they_come_and_go() {
        let mut p = Peers::default();
        let now = Instant::now();
        let names = |p: &Peers, after: Option<&str>| -> Vec<String> {
            p.users_from(after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded))
                .map(|u| u.name.clone())
                .collect()
        };
        p.heard("a", Some(1), now);
        p.heard("b", Some(1), now);
        p.insert("a", user(3, 1));
        p.insert("b", user(1, 1));
        p.insert("a", user(2, 1));
        assert_eq!(names(&p, None), ["u1", "u2", "u3"]);
        assert_eq!(names(&p, Some("u1")), ["u2", "u3"]);
        // Moving to another node keeps one entry.
        p.insert("b", user(3, 2));
        assert_eq!(names(&p, None), ["u1", "u2", "u3"]);
        p.remove_uid(2);
        assert_eq!(names(&p, None), ["u1", "u3"]);
        p.replace("a", 5, 1, vec![user(4, 1)], |_| false, now);
        assert_eq!(names(&p, None), ["u1", "u3", "u4"]);
        p.forget("b");
        assert_eq!(names(&p, None), ["u4"]);
        let gone = p.expire(now + Duration::from_secs(60), Duration::from_secs(1));
        assert_eq!(gone.len(), 1);
        assert!(names(&p, None).is_empty());
    }

    fn users(uids: std::ops::Range<i64>) -> Vec<RemoteUser> {
        uids.map(|uid| RemoteUser {
            uid,
            name: format!("u{uid}"),
            addr: "127.0.0.1:1".parse().unwrap(),
            since: 0,
            session: 1,
        })
        .collect()
    }

    #[test]
    fn a_snapshot_in_parts_is_whole_once_every_part_is_in() {
        let split = parts(users(0..5), 2);
        assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(
            parts(Vec::new(), 2).len(),
            1,
            "an empty table is one empty part"
        );
        let mut a = Assembly::default();
        let n = u32::try_from(split.len()).unwrap();
        let mut split = split.into_iter();
        // Out of order, with another node's part in between.
        let (p0, p1, p2) = (
            split.next().unwrap(),
            split.next().unwrap(),
            split.next().unwrap(),
        );
        assert!(a.take("n1", 7, 2, n, p2.clone()).is_none());
        assert_eq!(a.take("n2", 3, 0, 1, users(9..10)).unwrap().len(), 1);
        assert!(a.take("n1", 7, 0, n, p0.clone()).is_none());
        let whole = a.take("n1", 7, 1, n, p1.clone()).unwrap();
        let mut uids: Vec<i64> = whole.iter().map(|u| u.uid).collect();
        uids.sort_unstable();
        assert_eq!(uids, [0, 1, 2, 3, 4]);
        // A newer version starts over: the older version's parts do not mix in.
        assert!(a.take("n1", 8, 0, n, p0.clone()).is_none());
        assert!(a.take("n1", 9, 1, n, p1.clone()).is_none());
        assert!(a.take("n1", 9, 2, n, p2.clone()).is_none());
        assert!(a.take("n1", 9, 0, n, p0).unwrap().len() == 5);
        // Nonsense part numbers are ignored; a forgotten node starts over.
        assert!(a.take("n1", 10, 5, n, p1.clone()).is_none());
        assert!(a.take("n1", 10, 1, n, p1).is_none());
        a.forget("n1");
        assert!(a.take("n1", 10, 2, n, p2).is_none());
    }
}
