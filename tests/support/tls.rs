//! A self-signed server certificate and a blocking TLS client for tests of
//! `/metrics` over TLS.
#![allow(dead_code)]

use super::attack::{connect_from, wrong_password, SCRAPER};
use super::raw_http::{parse, Response};
use super::{require_binary, TempDir};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A self-signed certificate for 127.0.0.1 and localhost, made by openssl.
pub fn certificate(dir: &TempDir) {
    certificate_with(dir, &["-newkey", "rsa:2048"]);
}

/// A self-signed certificate as [`certificate`], with the key `newkey` makes
/// (openssl req arguments, e.g. an ECDSA P-256 key).
pub fn certificate_with(dir: &TempDir, newkey: &[&str]) {
    let status = Command::new(require_binary("openssl", "openssl"))
        .current_dir(dir.path())
        .args(["req", "-x509"])
        .args(newkey)
        .args([
            "-nodes",
            "-days",
            "1",
            "-keyout",
            "server.key",
            "-out",
            "server.crt",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            // A server certificate, not a CA (webpki refuses a CA as one).
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// A certificate (see [`certificate`]) and a web-config file in `dir` that
/// serves TLS with it and basic auth for `prometheus` with bcrypt `hash`.
pub fn tls_web_config(dir: &TempDir, hash: &str) -> std::path::PathBuf {
    certificate(dir);
    web_config(dir, Some(hash))
}

/// A web-config file in `dir` that serves TLS with the certificate already
/// there (`server.crt`, `server.key`) and, given a bcrypt `hash`, basic auth
/// for `prometheus`.
pub fn web_config(dir: &TempDir, basic_auth_hash: Option<&str>) -> std::path::PathBuf {
    let web = dir.path().join("web.yml");
    let mut yaml =
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n".to_string();
    if let Some(hash) = basic_auth_hash {
        yaml += &format!("basic_auth_users:\n  prometheus: {hash}\n");
    }
    std::fs::write(&web, yaml).unwrap();
    web
}

/// A client configuration that trusts `server.crt` in `dir`.
pub fn client_config(dir: &TempDir) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.path().join("server.crt")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// One legitimate scrape over TLS from [`SCRAPER`] on a new connection
/// (handshake included), with `headers`: its response and how long it took.
pub fn scrape(
    config: &Arc<rustls::ClientConfig>,
    to: SocketAddr,
    headers: &[(&str, &str)],
) -> (std::io::Result<Response>, Duration) {
    let start = Instant::now();
    let tcp = connect_from(SCRAPER, to, None);
    let response = get(config, tcp, "/metrics", headers, Duration::from_secs(30));
    (response, start.elapsed())
}

/// Guess `n` of a wrong-password flood over TLS, as
/// [`attack::guess`](super::attack::guess) is in plain HTTP: the handshake
/// on `tcp`, then `GET /metrics` with a wrong password.
pub fn guess(
    config: &Arc<rustls::ClientConfig>,
    tcp: TcpStream,
    n: u64,
    timeout: Duration,
) -> std::io::Result<Response> {
    get(
        config,
        tcp,
        "/metrics",
        &[("Authorization", &wrong_password(n))],
        timeout,
    )
}

/// `GET path` over TLS on `tcp` (handshake included), the whole response.
pub fn get(
    config: &Arc<rustls::ClientConfig>,
    tcp: TcpStream,
    path: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> std::io::Result<Response> {
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn =
        rustls::ClientConnection::new(config.clone(), name).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tls.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // A server may close without close_notify once the body is sent.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    parse(&raw).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not HTTP"))
}
