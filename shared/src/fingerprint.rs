//! Certificate fingerprints, written the same way by the server (which prints its
//! own at start, so an administrator can tell users what to expect) and by the client
//! (which pins it in its known-servers file and shows it in warnings).

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The fingerprint of a certificate given in DER: `SHA256:` and the unpadded base64 of
/// its SHA-256, as OpenSSH writes key fingerprints.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_unpadded_base64_of_the_sha256() {
        // SHA-256 of the empty input, as `openssl dgst -sha256 -binary | base64` gives it.
        assert_eq!(
            fingerprint(b""),
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
        );
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
    }
}
