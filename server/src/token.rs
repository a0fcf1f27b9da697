//! Resume tokens: random secrets handed out at login, stored only as hashes.
//!
//! A token lets a client log in again (after a dropped connection or a server
//! restart) without sending its password and without a bcrypt run, so a
//! reconnect storm stays cheap. Tokens are 256 random bits, so a fast hash
//! (SHA-256) is enough to store them.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random token, as sent to the client (URL-safe base64, 43 characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
    }
}
