//! `/metrics` over TLS and with basic auth, configured the way Prometheus'
//! own exporters are: a web-config file in the format of the Prometheus
//! exporter toolkit, so operators reuse the file (and the bcrypt hashes)
//! they already run node_exporter with.
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt        # PEM; relative paths are relative to this file
//!   key_file: server.key
//!   # client_auth_type: RequireAndVerifyClientCert
//!   # client_ca_file: clients-ca.crt
//!   # min_version: TLS13         # TLS12 (default) or TLS13
//! basic_auth_users:
//!   prometheus: $2y$10$…         # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\n')
//! ```
//!
//! Both sections are optional. Keys the toolkit has but this listener does
//! not implement (`cipher_suites`, `http_server_config`, …) are errors, never
//! silently ignored. With TLS, a client that does not complete the handshake
//! within the header-read timeout is closed; with users, a request without
//! valid credentials gets 401. A verified password is remembered (as a keyed
//! hash) so a scraper does not pay a bcrypt verification per scrape.
//!
//! Feature `web-config`.

use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Why a web-config file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebConfigError {
    /// The file cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a web config (bad YAML, an unknown key, a wrong type).
    #[error("{} is not a valid web config", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's reason (it names the key).
        #[source]
        source: serde_yaml::Error,
    },
    /// A certificate or key file cannot be read or holds no PEM item.
    #[error("cannot load {what} from {}", path.display())]
    Pem {
        /// `cert_file`, `key_file` or `client_ca_file`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// rustls refuses the certificate, key or client CA.
    #[error("the TLS settings cannot be used")]
    Tls(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A setting the exporter toolkit has that this listener does not.
    #[error("`{key}: {value}` is not supported here; {hint}")]
    Unsupported {
        /// The key.
        key: &'static str,
        /// Its value.
        value: String,
        /// What is.
        hint: &'static str,
    },
    /// A user's password hash is not a bcrypt hash.
    #[error("the password hash of user `{user}` is not a bcrypt hash")]
    Hash {
        /// The user.
        user: String,
        /// The bcrypt crate's reason.
        #[source]
        source: bcrypt::BcryptError,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<TlsFile>,
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    cert_file: PathBuf,
    key_file: PathBuf,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    min_version: Option<String>,
}

/// A loaded, checked web config.
pub(crate) struct WebConfig {
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    pub(crate) auth: Option<Arc<BasicAuth>>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("basic_auth", &self.auth.is_some())
            .finish()
    }
}

impl WebConfig {
    /// Reads and checks `path`: certificates and keys load, hashes parse.
    pub(crate) fn load(path: &Path) -> Result<Self, WebConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| WebConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: File = serde_yaml::from_str(&text).map_err(|source| WebConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let tls = file
            .tls_server_config
            .map(|tls| tls_acceptor(&tls, base))
            .transpose()?;
        let auth = match file.basic_auth_users {
            Some(users) if !users.is_empty() => {
                for (user, hash) in &users {
                    // Parse every hash now, so a typo fails at start-up, not at the first scrape.
                    bcrypt::verify("", hash).map_err(|source| WebConfigError::Hash {
                        user: user.clone(),
                        source,
                    })?;
                }
                Some(Arc::new(BasicAuth::new(users)))
            }
            _ => None,
        };
        Ok(WebConfig { tls, auth })
    }
}

fn tls_acceptor(tls: &TlsFile, base: &Path) -> Result<tokio_rustls::TlsAcceptor, WebConfigError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let pem_error = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| WebConfigError::Pem { what, path, source }
    };
    let cert_path = resolve(&tls.cert_file);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(pem_error("cert_file", &cert_path))?;
    let key_path = resolve(&tls.key_file);
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(pem_error("key_file", &key_path))?;

    let versions: &[&rustls::SupportedProtocolVersion] = match tls.min_version.as_deref() {
        None | Some("TLS12") => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Some("TLS13") => &[&rustls::version::TLS13],
        Some(other) => {
            return Err(WebConfigError::Unsupported {
                key: "min_version",
                value: other.to_string(),
                hint: "use TLS12 or TLS13",
            })
        }
    };
    // ring, not aws-lc-rs: no C toolchain beyond cc for every user. rustls
    // 0.23.48 deprecates ring's provider for lacking post-quantum key
    // exchange; /metrics keeps the classical groups until ring has them.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| WebConfigError::Tls(Box::new(e)))?;
    let builder = match (tls.client_auth_type.as_deref(), &tls.client_ca_file) {
        (None | Some("NoClientCert"), None) => builder.with_no_client_auth(),
        (Some("RequireAndVerifyClientCert"), Some(ca)) => {
            let ca_path = resolve(ca);
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(&ca_path)
                .map_err(pem_error("client_ca_file", &ca_path))?
            {
                let cert = cert.map_err(pem_error("client_ca_file", &ca_path))?;
                roots
                    .add(cert)
                    .map_err(|e| WebConfigError::Tls(Box::new(e)))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| WebConfigError::Tls(Box::new(e)))?;
            builder.with_client_cert_verifier(verifier)
        }
        (kind, _) => {
            return Err(WebConfigError::Unsupported {
                key: "client_auth_type",
                value: kind.unwrap_or("NoClientCert").to_string(),
                hint: "use NoClientCert (no client_ca_file) or RequireAndVerifyClientCert with client_ca_file",
            })
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| WebConfigError::Tls(Box::new(e)))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// The users of `basic_auth_users` and what was learnt of credentials.
pub(crate) struct BasicAuth {
    users: BTreeMap<String, String>,
    /// Keyed hashes of `user:password` pairs that verified once.
    verified: Mutex<HashSet<u64>>,
    /// Keyed hashes of pairs that failed once (a bounded set: cleared when
    /// full), so repeating a wrong password costs no second bcrypt.
    failed: Mutex<HashSet<u64>>,
    keys: std::collections::hash_map::RandomState,
}

/// The most failed credentials remembered at once.
const FAILED_REMEMBERED: usize = 4096;

/// What is known of an `Authorization` header without running bcrypt.
pub(crate) enum Recall {
    /// These credentials verified before.
    Verified,
    /// Not basic auth, not decodable, or these credentials failed before.
    Rejected,
    /// Never seen: only bcrypt can tell.
    Unknown(Claim),
}

/// Credentials waiting for bcrypt.
pub(crate) struct Claim {
    key: u64,
    user: String,
    password: String,
}

#[cfg(test)]
impl Claim {
    pub(crate) fn password(&self) -> &str {
        &self.password
    }
}

impl BasicAuth {
    fn new(users: BTreeMap<String, String>) -> Self {
        BasicAuth {
            users,
            verified: Mutex::new(HashSet::new()),
            failed: Mutex::new(HashSet::new()),
            keys: std::collections::hash_map::RandomState::new(),
        }
    }

    /// What the caches know of `header`; cheap, no bcrypt.
    pub(crate) fn recall(&self, header: Option<&[u8]>) -> Recall {
        use base64::Engine;
        let Some(encoded) = header.and_then(|h| h.strip_prefix(b"Basic ")) else {
            return Recall::Rejected;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii())
        else {
            return Recall::Rejected;
        };
        let Ok(credentials) = std::str::from_utf8(&decoded) else {
            return Recall::Rejected;
        };
        let Some((user, password)) = credentials.split_once(':') else {
            return Recall::Rejected;
        };
        let key = self.keys.hash_one(credentials);
        if lock(&self.verified).contains(&key) {
            return Recall::Verified;
        }
        if lock(&self.failed).contains(&key) {
            return Recall::Rejected;
        }
        Recall::Unknown(Claim {
            key,
            user: user.to_string(),
            password: password.to_string(),
        })
    }

    /// Runs bcrypt on `claim` and remembers the outcome. Takes
    /// milliseconds: call it off the async workers.
    pub(crate) fn verify(&self, claim: Claim) -> bool {
        let ok = match self.users.get(&claim.user) {
            Some(hash) => bcrypt::verify(&claim.password, hash).unwrap_or(false),
            None => {
                // Spend the same time as for a known user, so response
                // times do not tell which users exist.
                if let Some(any) = self.users.values().next() {
                    let _ = bcrypt::verify(&claim.password, any);
                }
                false
            }
        };
        if ok {
            lock(&self.verified).insert(claim.key);
        } else {
            let mut failed = lock(&self.failed);
            if failed.len() >= FAILED_REMEMBERED {
                failed.clear();
            }
            failed.insert(claim.key);
        }
        ok
    }

    /// Whether an `Authorization` header value carries valid credentials,
    /// running bcrypt when the caches cannot tell.
    #[cfg(test)]
    pub(crate) fn check(&self, header: Option<&[u8]>) -> bool {
        match self.recall(header) {
            Recall::Verified => true,
            Recall::Rejected => false,
            Recall::Unknown(claim) => self.verify(claim),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("photon-web-config-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn basic_auth_accepts_the_password_and_nothing_else() {
        let d = dir("auth");
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let path = write(
            &d,
            "web.yml",
            &format!("basic_auth_users:\n  prometheus: {hash}\n"),
        );
        let config = WebConfig::load(&path).unwrap();
        let auth = config.auth.unwrap();
        use base64::Engine;
        let header = |c: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(c)
            )
        };
        assert!(auth.check(Some(header("prometheus:s3cret").as_bytes())));
        assert!(
            auth.check(Some(header("prometheus:s3cret").as_bytes())),
            "remembered"
        );
        assert!(!auth.check(Some(header("prometheus:wrong").as_bytes())));
        assert!(!auth.check(Some(header("root:s3cret").as_bytes())));
        assert!(!auth.check(Some(b"Bearer x")));
        assert!(!auth.check(None));
        assert!(config.tls.is_none());
    }

    #[test]
    fn mistakes_are_errors_that_name_the_key_or_file() {
        let d = dir("errors");
        for (yaml, needle) in [
            ("basic_auth_users:\n  u: notahash\n", "user `u`"),
            (
                "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
                "cert_file",
            ),
            (
                "http_server_config:\n  http2: false\n",
                "not a valid web config",
            ),
        ] {
            let path = write(&d, "web.yml", yaml);
            let err = WebConfig::load(&path).unwrap_err();
            let mut text = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            assert!(text.contains(needle), "{yaml}: {text}");
        }
        let err = WebConfig::load(&d.join("absent.yml")).unwrap_err();
        assert!(err.to_string().contains("absent.yml"), "{err}");
    }
}
