//! Password hashing: bcrypt off the async workers, behind a bound.
//!
//! Every password is first pre-hashed with SHA-256 (base64, 44 bytes), so
//! bcrypt's silent truncation at 72 bytes never applies and NUL bytes are fine.
//! bcrypt runs on the blocking pool, at most `parallelism` at a time, so a
//! storm of logins queues here instead of stalling chat.
//!
//! A login with a name that has no account is checked against a decoy hash of
//! the same cost ([`PasswordHasher::verify_unknown`]), so it costs the same
//! time as a wrong password: timing does not tell which names exist.

use std::sync::Arc;

use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// Hashing failed (a bcrypt error or a crashed hashing thread).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes and verifies passwords with bounded parallelism.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    /// A hash of a random password at `cost`, made on the first unknown name.
    decoy: Arc<tokio::sync::OnceCell<String>>,
}

fn prehash(password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(password.as_bytes()))
}

impl PasswordHasher {
    /// A hasher with the given bcrypt cost and at most `parallelism` hashes at once.
    pub fn new(cost: u32, parallelism: usize) -> Self {
        Self {
            cost,
            permits: Arc::new(Semaphore::new(parallelism.max(1))),
            decoy: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, bcrypt::BcryptError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| HashError(e.to_string()))?
            .map_err(|e| HashError(e.to_string()))
    }

    /// Hash a new password for storage.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let pre = prehash(password);
        let cost = self.cost;
        self.run(move || bcrypt::hash(pre, cost)).await
    }

    /// Check a password against a stored hash.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, HashError> {
        let pre = prehash(password);
        let hash = hash.to_owned();
        self.run(move || bcrypt::verify(pre, &hash)).await
    }

    /// Check `password` for a name that has no account: the same bcrypt work as
    /// [`verify`](Self::verify) against a real hash, and always `false`, so an
    /// unknown name and a wrong password cannot be told apart by their time.
    pub async fn verify_unknown(&self, password: &str) -> Result<bool, HashError> {
        let decoy = self.decoy().await?;
        // A random password hashed: nothing the client sends can match it.
        let _ = self.verify(password, decoy).await?;
        Ok(false)
    }

    /// The decoy hash, made once.
    async fn decoy(&self) -> Result<&String, HashError> {
        self.decoy
            .get_or_try_init(|| async {
                let secret: [u8; 32] = rand::random();
                self.hash(&base64::engine::general_purpose::STANDARD.encode(secret))
                    .await
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_name_costs_a_check_at_the_same_cost_and_never_matches() {
        let h = PasswordHasher::new(5, 1);
        assert!(!h.verify_unknown("anything at all").await.unwrap());
        assert!(!h.verify_unknown("").await.unwrap());
        let decoy = h.decoy().await.unwrap().clone();
        assert!(decoy.starts_with("$2b$05$"), "{decoy}");
        // Made once, kept for every later unknown name.
        assert_eq!(h.decoy().await.unwrap(), &decoy);
    }

    #[tokio::test]
    async fn long_passwords_are_not_truncated() {
        let h = PasswordHasher::new(4, 2);
        let a = "x".repeat(72);
        let b = format!("{a}y");
        let stored = h.hash(&a).await.unwrap();
        assert!(h.verify(&a, &stored).await.unwrap());
        assert!(!h.verify(&b, &stored).await.unwrap());
    }

    #[tokio::test]
    async fn nul_bytes_count() {
        let h = PasswordHasher::new(4, 1);
        let stored = h.hash("abc\0defgh").await.unwrap();
        assert!(h.verify("abc\0defgh", &stored).await.unwrap());
        assert!(!h.verify("abc\0defgi", &stored).await.unwrap());
        assert!(!h.verify("abc", &stored).await.unwrap());
    }
}
