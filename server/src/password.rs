//! Password hashing: bcrypt off the async workers, behind a bound.
//!
//! Every password is first pre-hashed with SHA-256 (base64, 44 bytes), so
//! bcrypt's silent truncation at 72 bytes never applies and NUL bytes are fine.
//! bcrypt runs on the blocking pool, at most `parallelism` at a time, so a
//! storm of logins queues here instead of stalling chat.

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
