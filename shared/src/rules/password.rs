//! Password rules.
//!
//! Any bytes are allowed (NUL included): the server pre-hashes every password
//! with SHA-256 before bcrypt, so bcrypt's 72-byte truncation never applies.

/// Shortest allowed password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest allowed password, in bytes of UTF-8.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`MIN_PASSWORD_CHARS`].
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_BYTES`].
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

/// Check a new password against the rules.
pub fn validate_password(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        assert_eq!(validate_password(""), Err(PasswordError::TooShort));
        assert_eq!(validate_password("1234567"), Err(PasswordError::TooShort));
        assert_eq!(validate_password("12345678"), Ok(()));
        assert_eq!(validate_password(&"x".repeat(72)), Ok(()));
        assert_eq!(validate_password(&"x".repeat(73)), Ok(()));
        assert_eq!(validate_password(&"x".repeat(1024)), Ok(()));
        assert_eq!(
            validate_password(&"x".repeat(1025)),
            Err(PasswordError::TooLong)
        );
    }

    #[test]
    fn nul_bytes_are_allowed() {
        assert_eq!(validate_password("abc\0defgh"), Ok(()));
    }
}
