//! Opening a connection to the server: TCP, then TLS unless the user asked for plain
//! TCP, with the server's certificate checked before any byte of ours (a password) is
//! sent.
//!
//! A certificate is accepted when a known certificate authority vouches for it (the
//! Mozilla roots, plus `--ca-file`), or, for a self-signed one, by trust on first use:
//! the first connection pins its fingerprint in the known-servers file
//! ([`crate::known_servers`]) and says so; a later certificate with another
//! fingerprint is refused with a warning, never retried. Either way the handshake's
//! signature proves that the server holds the certificate's key.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_util::either::Either;
use tracing::{info, warn};

use crate::known_servers::{Known, KnownServers};

/// A connection to the server, plain or TLS.
pub(crate) type Stream = Either<TcpStream, tokio_rustls::client::TlsStream<TcpStream>>;
/// The reading half of a [`Stream`].
pub(crate) type ReadHalf = tokio::io::ReadHalf<Stream>;
/// The writing half of a [`Stream`].
pub(crate) type WriteHalf = tokio::io::WriteHalf<Stream>;

/// How the client reaches servers: plain TCP, or TLS with what it trusts. Cheap to
/// clone; one for the whole run.
#[derive(Clone)]
pub struct Transport {
    tls: Option<Arc<Trust>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.tls {
            None => f.write_str("Transport::Plain"),
            Some(t) => write!(f, "Transport::Tls({:?})", t.known),
        }
    }
}

/// What a TLS client trusts.
struct Trust {
    provider: Arc<CryptoProvider>,
    authorities: Arc<WebPkiServerVerifier>,
    known: Option<KnownServers>,
}

/// Why the client's trust settings could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The `--ca-file` could not be read.
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the settings.
    #[error("TLS settings: {0}")]
    Settings(String),
}

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DialError {
    /// The TCP connection could not be opened.
    #[error("cannot connect: {0}")]
    Connect(#[source] std::io::Error),
    /// Connecting took too long.
    #[error("the server did not answer in time")]
    Timeout,
    /// The TLS handshake failed.
    #[error("{0}")]
    Tls(String),
    /// The server's certificate is not the one pinned for it: never retried.
    #[error("{0}")]
    Untrusted(String),
}

/// An open connection, and what the user should be told about trusting it.
pub(crate) struct Dialed {
    /// The connection.
    pub(crate) stream: Stream,
    /// Set when this connection pinned a certificate on first use.
    pub(crate) notice: Option<String>,
}

impl Transport {
    /// Plain TCP: passwords cross the network in clear text (only for a trusted
    /// local network, when the user asks for it).
    pub fn plain() -> Self {
        Self { tls: None }
    }

    /// TLS, trusting the Mozilla roots, the certificates in `ca_file`, and self-signed
    /// certificates pinned in `known_servers` on first use (kept for this run only
    /// when there is no such file).
    pub fn tls(known_servers: Option<PathBuf>, ca_file: Option<&Path>) -> Result<Self, TrustError> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = ca_file {
            let unreadable = |reason: String| TrustError::CaFile {
                path: path.to_path_buf(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| unreadable(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| unreadable(e.to_string()))?;
            if certs.is_empty() {
                return Err(unreadable("it holds no PEM certificate".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| unreadable(e.to_string()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let authorities =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(|e| TrustError::Settings(e.to_string()))?;
        Ok(Self {
            tls: Some(Arc::new(Trust {
                provider,
                authorities,
                known: known_servers.map(KnownServers::new),
            })),
        })
    }

    /// Whether connections are encrypted.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Connect to `server` (`HOST:PORT`) within `timeout`, TLS handshake included.
    pub(crate) async fn dial(&self, server: &str, timeout: Duration) -> Result<Dialed, DialError> {
        tokio::time::timeout(timeout, self.dial_now(server))
            .await
            .map_err(|_| DialError::Timeout)?
    }

    async fn dial_now(&self, server: &str) -> Result<Dialed, DialError> {
        let tcp = TcpStream::connect(server)
            .await
            .map_err(DialError::Connect)?;
        if let Err(e) = tcp.set_nodelay(true) {
            warn!(error = %e, "could not set TCP_NODELAY");
        }
        let Some(trust) = &self.tls else {
            return Ok(Dialed {
                stream: Either::Left(tcp),
                notice: None,
            });
        };
        let name = server_name(server)?;
        let verifier = Arc::new(PinningVerifier {
            authorities: Arc::clone(&trust.authorities),
            server: server.to_owned(),
            known: trust.known.clone(),
            verdict: Mutex::new(None),
        });
        let config = ClientConfig::builder_with_provider(Arc::clone(&trust.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| DialError::Tls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let result = connector.connect(name, tcp).await;
        let verdict = verifier.verdict.lock().map(|v| v.clone()).unwrap_or(None);
        let tls = match (result, verdict) {
            (Ok(tls), _) => tls,
            (Err(_), Some(Verdict::Changed { pinned, presented })) => {
                return Err(DialError::Untrusted(changed_warning(
                    server,
                    &pinned,
                    &presented,
                    &trust.known,
                )));
            }
            (Err(e), Some(Verdict::Unreadable(reason))) => {
                tracing::info!(error = %e, "the server's certificate is unreadable");
                return Err(DialError::Tls(reason));
            }
            (Err(e), _) => return Err(DialError::Tls(handshake_failed(&e))),
        };
        let verdict = verifier.verdict.lock().map(|v| v.clone()).unwrap_or(None);
        let notice = match verdict {
            Some(Verdict::FirstUse { fingerprint }) => {
                Some(first_use(server, &fingerprint, &trust.known))
            }
            _ => None,
        };
        Ok(Dialed {
            stream: Either::Right(tls),
            notice,
        })
    }
}

/// The name to check the certificate against: the host of `HOST:PORT`.
fn server_name(server: &str) -> Result<ServerName<'static>, DialError> {
    let host = server
        .rsplit_once(':')
        .map_or(server, |(host, _port)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|e| {
        DialError::Tls(format!(
            "{host:?} cannot be checked against a certificate: {e}"
        ))
    })
}

/// Pin a first-seen certificate and say so.
fn first_use(server: &str, fingerprint: &str, known: &Option<KnownServers>) -> String {
    let pinned = match known {
        Some(known) => match known.pin(server, fingerprint) {
            Ok(()) => format!("pinned in {}", known.path().display()),
            Err(e) => {
                warn!(error = %e, path = %known.path().display(), "cannot pin the certificate");
                format!("NOT pinned: cannot write {}: {e}", known.path().display())
            }
        },
        None => "pinned for this run only: there is no config directory".to_owned(),
    };
    info!(%server, %fingerprint, "trusting a self-signed certificate on first use");
    format!(
        "First connection to {server}: its certificate is self-signed, trusted from now on \
         ({pinned}). Fingerprint {fingerprint}: compare it with the one in the server's log."
    )
}

/// The warning for a certificate that is not the pinned one.
fn changed_warning(
    server: &str,
    pinned: &str,
    presented: &str,
    known: &Option<KnownServers>,
) -> String {
    let fix = match known {
        Some(known) => format!(
            "If the server's certificate was replaced on purpose, delete the line for \
             {server} in {} and connect again.",
            known.path().display()
        ),
        None => "If it was replaced on purpose, restart the client.".to_owned(),
    };
    warn!(%server, %pinned, %presented, "the server's certificate changed; refused");
    format!(
        "WARNING: the certificate of {server} has CHANGED since it was pinned (pinned \
         {pinned}, presented {presented}). Someone may be intercepting the connection, so \
         the client did not connect and sent no password. {fix}"
    )
}

/// A handshake failure in words a user can act on.
fn handshake_failed(e: &std::io::Error) -> String {
    let garbled = matches!(
        e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::InvalidMessage(_))
    );
    tracing::info!(error = %e, "the TLS handshake failed");
    if garbled || e.kind() == std::io::ErrorKind::InvalidData {
        "the server did not answer in TLS; if it runs with --plain, connect with \
         --plain (only on a trusted network: passwords then cross it in clear text)"
            .to_owned()
    } else {
        "the secure connection (TLS) could not be set up".to_owned()
    }
}

/// What the verifier decided about the certificate of one connection.
#[derive(Debug, Clone)]
enum Verdict {
    /// A certificate authority vouches for it.
    Authority,
    /// It is the pinned one.
    Pinned,
    /// No authority vouches for it and nothing is pinned: trusted on first use.
    FirstUse { fingerprint: String },
    /// Another certificate is pinned for this server.
    Changed { pinned: String, presented: String },
    /// The known-servers file could not be read.
    Unreadable(String),
}

/// Checks one connection's certificate: by the authorities, else by the pin.
#[derive(Debug)]
struct PinningVerifier {
    authorities: Arc<WebPkiServerVerifier>,
    server: String,
    known: Option<KnownServers>,
    verdict: Mutex<Option<Verdict>>,
}

impl PinningVerifier {
    fn decide(&self, verdict: Verdict) {
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(verdict);
        }
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused = match self.authorities.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => {
                self.decide(Verdict::Authority);
                return Ok(verified);
            }
            Err(rustls::Error::InvalidCertificate(reason)) => reason,
            Err(other) => return Err(other),
        };
        let presented = chatroom_shared::fingerprint(end_entity);
        let known = match &self.known {
            Some(known) => known.check(&self.server, &presented),
            None => Ok(Known::Unknown),
        };
        match known {
            Ok(Known::Same) => {
                self.decide(Verdict::Pinned);
                Ok(ServerCertVerified::assertion())
            }
            Ok(Known::Unknown) => {
                info!(server = %self.server, ?refused, "no authority vouches for the certificate");
                self.decide(Verdict::FirstUse {
                    fingerprint: presented,
                });
                Ok(ServerCertVerified::assertion())
            }
            Ok(Known::Changed { pinned, .. }) => {
                self.decide(Verdict::Changed { pinned, presented });
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
            Err(e) => {
                let path = self.known.as_ref().map(|k| k.path().display().to_string());
                self.decide(Verdict::Unreadable(format!(
                    "cannot read the known-servers file {}: {e}",
                    path.unwrap_or_default()
                )));
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.authorities.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.authorities.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.authorities.supported_verify_schemes()
    }
}
