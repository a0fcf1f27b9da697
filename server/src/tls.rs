//! TLS on the client port: the certificate the server presents, and the handshake
//! that starts each connection.
//!
//! With `--tls-cert`/`--tls-key` the server presents that chain (a CA-signed one, as a
//! public server would have). Otherwise, unless `--plain`, it makes a self-signed
//! certificate in `DATA_DIR/tls/` on its first start and keeps it: clients pin a
//! self-signed certificate on first use, so it must not change from one start to the
//! next. The server logs its certificate's fingerprint at start, for users to compare.
//!
//! The first byte a client sends tells a TLS ClientHello (a handshake record, 0x16)
//! from a plain frame (whose length prefix starts with 0x00 for every frame a server
//! accepts): a plain client gets a plain `tls_required` error frame before the close,
//! so it can tell its user what is wrong instead of failing on garbage.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{ErrorReply, ServerMessage};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tracing::debug;

use crate::config::Config;
use crate::transport::Stream;

/// The first byte of a TLS record that carries a handshake message.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// The directory under the data directory that holds a generated certificate.
const GENERATED_DIR: &str = "tls";

/// Why TLS could not be set up at start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or parsed.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The certificate file holds no certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    /// A generated certificate could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Making a self-signed certificate failed.
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate and key (e.g. they do not belong together).
    #[error("the certificate and key cannot be used: {0}")]
    Unusable(#[from] rustls::Error),
}

/// Why a connection did not get as far as its first frame.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The client sent plain bytes to a TLS-only server (it was told so).
    #[error("the client did not start TLS")]
    NotTls,
    /// Nothing, or no complete handshake, came in time.
    #[error("the TLS handshake took too long")]
    Timeout,
    /// The handshake failed (a bad ClientHello, or the client refused our certificate).
    #[error("TLS handshake failed: {0}")]
    Failed(#[from] std::io::Error),
}

/// The server's TLS identity, ready to accept connections.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    fingerprint: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// The TLS identity `config` asks for: `None` with `--plain`, else the given
    /// certificate or the one generated (once) in the data directory.
    pub fn from_config(config: &Config) -> Result<Option<Self>, TlsError> {
        if config.plain {
            return Ok(None);
        }
        let (cert, key) = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => (cert.clone(), key.clone()),
            _ => generated(&config.data_dir)?,
        };
        Self::load(&cert, &key).map(Some)
    }

    /// Load a PEM certificate chain and its key.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let unreadable = |path: &Path| {
            let path = path.to_path_buf();
            move |e: rustls_pki_types::pem::Error| TlsError::Read {
                path,
                reason: e.to_string(),
            }
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(unreadable(cert))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable(cert))?;
        let Some(leaf) = chain.first() else {
            return Err(TlsError::NoCertificate(cert.to_path_buf()));
        };
        let fingerprint = chatroom_shared::fingerprint(leaf);
        let key = PrivateKeyDer::from_pem_file(key).map_err(unreadable(key))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            fingerprint,
        })
    }

    /// The fingerprint of the certificate the server presents (see
    /// [`chatroom_shared::fingerprint`]).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Start a connection: with `tls`, tell a ClientHello from plain bytes and run the
    /// handshake, all within `deadline`; without, the plain socket as it is.
    pub async fn start(
        tls: Option<&Self>,
        stream: TcpStream,
        deadline: Duration,
    ) -> Result<Stream, HandshakeError> {
        let Some(tls) = tls else {
            return Ok(Stream::Plain(stream));
        };
        tokio::time::timeout(deadline, tls.accept(stream))
            .await
            .map_err(|_| HandshakeError::Timeout)?
    }

    async fn accept(&self, mut stream: TcpStream) -> Result<Stream, HandshakeError> {
        let mut first = [0u8; 1];
        let n = stream.peek(&mut first).await?;
        if n == 1 && first[0] != TLS_HANDSHAKE_RECORD {
            refuse_plain(&mut stream).await;
            return Err(HandshakeError::NotTls);
        }
        let tls = self.acceptor.accept(stream).await?;
        Ok(Stream::Tls(Box::new(tls)))
    }
}

/// Tell a plain client, in a plain frame, that this server speaks TLS only.
async fn refuse_plain(stream: &mut TcpStream) {
    let reply = ServerMessage::Error(ErrorReply::new(
        None,
        ErrorCode::TlsRequired,
        "this server speaks TLS only; connect with TLS (plain TCP is for --plain servers)",
    ));
    if let Ok(frame) = chatroom_shared::encode_frame(&reply)
        && let Err(e) = stream.write_all(&frame).await
    {
        debug!(error = %e, "could not tell a plain client to use TLS");
    }
    let _ = stream.shutdown().await;
}

/// The paths of the self-signed certificate in `data_dir`, made on the first call.
fn generated(data_dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    let dir = data_dir.join(GENERATED_DIR);
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let made = rcgen::generate_simple_self_signed(subject_names())?;
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TlsError::Write { path, source }
    };
    // The pair is made in a directory of its own and renamed into place whole:
    // nodes of a cluster that share the data directory and start together end
    // up with one certificate, the first one renamed, never a key and a
    // certificate from two different starts.
    std::fs::create_dir_all(data_dir).map_err(write_err(data_dir))?;
    let tmp = data_dir.join(format!(
        ".{GENERATED_DIR}-{}-{:016x}.tmp",
        std::process::id(),
        rand::random::<u64>()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(write_err(&tmp))?;
    let (tmp_cert, tmp_key) = (tmp.join("cert.pem"), tmp.join("key.pem"));
    write_private(&tmp_key, made.signing_key.serialize_pem().as_bytes())
        .map_err(write_err(&tmp_key))?;
    write_atomically(&tmp_cert, made.cert.pem().as_bytes()).map_err(write_err(&tmp_cert))?;
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => tracing::info!(cert = %cert.display(), "made a self-signed TLS certificate"),
        Err(_) if cert.exists() && key.exists() => {
            // Another server made it first: use that one.
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(_) => {
            // The directory is there without a whole pair (made by hand, or
            // left half by an older version): put this pair into it.
            std::fs::rename(&tmp_key, &key).map_err(write_err(&key))?;
            std::fs::rename(&tmp_cert, &cert).map_err(write_err(&cert))?;
            let _ = std::fs::remove_dir_all(&tmp);
            tracing::info!(cert = %cert.display(), "made a self-signed TLS certificate");
        }
    }
    Ok((cert, key))
}

/// The names a generated certificate carries: this host's name and the loopback
/// names. (Clients pin a self-signed certificate by its fingerprint, so the names
/// only matter to tools that check them.)
fn subject_names() -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if !host.is_empty() && host != "localhost" {
            names.push(host.to_owned());
        }
    }
    names
}

/// Write a private key readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("pem.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(tmp, path)
}

/// Write a file whole or not at all (a crash leaves no half certificate).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("pem.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> Config {
        Config {
            data_dir: dir.to_path_buf(),
            ..Config::default()
        }
    }

    #[test]
    fn plain_has_no_tls() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config {
            plain: true,
            ..config(dir.path())
        };
        assert!(Tls::from_config(&c).unwrap().is_none());
        assert!(!dir.path().join(GENERATED_DIR).exists());
    }

    #[test]
    fn a_generated_certificate_is_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let first = Tls::from_config(&config(dir.path())).unwrap().unwrap();
        let again = Tls::from_config(&config(dir.path())).unwrap().unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
        assert!(first.fingerprint().starts_with("SHA256:"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let key = dir.path().join(GENERATED_DIR).join("key.pem");
            let mode = std::fs::metadata(key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key is private: {mode:o}");
        }
        let other = tempfile::tempdir().unwrap();
        let elsewhere = Tls::from_config(&config(other.path())).unwrap().unwrap();
        assert_ne!(first.fingerprint(), elsewhere.fingerprint());
    }

    #[test]
    fn servers_starting_together_on_one_data_directory_share_one_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let starts: Vec<_> = (0..8)
            .map(|_| {
                let config = config(dir.path());
                std::thread::spawn(move || Tls::from_config(&config).unwrap().unwrap())
            })
            .collect();
        let prints: Vec<String> = starts
            .into_iter()
            .map(|t| t.join().unwrap().fingerprint().to_owned())
            .collect();
        assert!(prints.iter().all(|p| p == &prints[0]), "{prints:?}");
        // The one kept on disk is theirs, and nothing half made is left behind.
        let again = Tls::from_config(&config(dir.path())).unwrap().unwrap();
        assert_eq!(again.fingerprint(), prints[0]);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from(GENERATED_DIR)]);
    }

    #[test]
    fn a_missing_or_mismatched_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let err = Tls::load(&missing, &missing).unwrap_err();
        assert!(err.to_string().contains("nope.pem"), "{err}");
        // A key that does not belong to the certificate.
        let a = rcgen::generate_simple_self_signed(vec!["a".to_owned()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b".to_owned()]).unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, a.cert.pem()).unwrap();
        std::fs::write(&key, b.signing_key.serialize_pem()).unwrap();
        assert!(matches!(Tls::load(&cert, &key), Err(TlsError::Unusable(_))));
        std::fs::write(&cert, "not a certificate").unwrap();
        assert!(matches!(
            Tls::load(&cert, &key),
            Err(TlsError::NoCertificate(_))
        ));
    }
}
