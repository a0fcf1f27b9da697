//! The accounts a session sent direct messages to, by the name as the session
//! spelled it. Account names never change and accounts are never deleted, so
//! after the first message a direct message to the same user costs no
//! database look-up and no name key (its confusable skeleton is the dearest
//! part of a send); a bounded map, emptied when full, keeps a session's memory
//! small.

use std::collections::HashMap;

/// Peers remembered at most.
const MAX_PEERS: usize = 64;

/// Name as spelled (trimmed) to account id and stored name.
#[derive(Debug, Default)]
pub(super) struct Peers(HashMap<String, (i64, String)>);

impl Peers {
    /// The account spelled `spelled`, if this session looked it up before.
    pub(super) fn get(&self, spelled: &str) -> Option<(i64, String)> {
        self.0.get(spelled).cloned()
    }

    /// Remember the account spelled `spelled`.
    pub(super) fn insert(&mut self, spelled: &str, id: i64, name: String) {
        if self.0.len() >= MAX_PEERS {
            self.0.clear();
        }
        self.0.insert(spelled.to_owned(), (id, name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_remembered_up_to_a_bound() {
        let mut p = Peers::default();
        p.insert("bob", 2, "Bob".into());
        assert_eq!(p.get("bob"), Some((2, "Bob".into())));
        assert_eq!(p.get("carol"), None);
        for i in 0..MAX_PEERS {
            p.insert(&format!("u{i}"), i as i64, format!("U{i}"));
        }
        assert!(p.0.len() <= MAX_PEERS);
        assert_eq!(
            p.get(&format!("u{}", MAX_PEERS - 1)).map(|x| x.0),
            Some(MAX_PEERS as i64 - 1)
        );
    }
}
