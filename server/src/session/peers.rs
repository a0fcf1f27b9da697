//! The accounts a session sent direct messages to, by name key. Account names
//! never change and accounts are never deleted, so after the first message a
//! direct message to the same user costs no database look-up; a bounded map,
//! emptied when full, keeps a session's memory small.

use std::collections::HashMap;

/// Peers remembered at most.
const MAX_PEERS: usize = 64;

/// Name key to account id and stored name.
#[derive(Debug, Default)]
pub(super) struct Peers(HashMap<String, (i64, String)>);

impl Peers {
    /// The account named `key`, if this session looked it up before.
    pub(super) fn get(&self, key: &str) -> Option<(i64, String)> {
        self.0.get(key).cloned()
    }

    /// Remember the account named `key`.
    pub(super) fn insert(&mut self, key: String, id: i64, name: String) {
        if self.0.len() >= MAX_PEERS {
            self.0.clear();
        }
        self.0.insert(key, (id, name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_remembered_up_to_a_bound() {
        let mut p = Peers::default();
        p.insert("bob".into(), 2, "Bob".into());
        assert_eq!(p.get("bob"), Some((2, "Bob".into())));
        assert_eq!(p.get("carol"), None);
        for i in 0..MAX_PEERS {
            p.insert(format!("u{i}"), i as i64, format!("U{i}"));
        }
        assert!(p.0.len() <= MAX_PEERS);
        assert_eq!(
            p.get(&format!("u{}", MAX_PEERS - 1)).map(|x| x.0),
            Some(MAX_PEERS as i64 - 1)
        );
    }
}
