//! The `/metrics` listener: hyper on one background thread, hardened for a
//! process (a compiler, an inference runtime) that must not be taken down
//! through its metrics port.
//!
//! * **Slow or idle clients** are closed when their request head has not
//!   arrived within the header-read timeout (idle keep-alive connections
//!   included), and no connection lives longer than [`MAX_CONNECTION_LIFE`],
//!   so a client that never reads its response cannot hold a slot forever.
//! * **Too many clients**: past the connection cap, new connections are
//!   accepted and closed at once, never queued.
//! * **fd exhaustion** (`EMFILE`) and other accept errors back off
//!   exponentially (10 ms up to 1 s) instead of spinning, and are logged at
//!   most once a minute with a count of what was suppressed.
//! * **Requests**: `GET`/`HEAD` on the metrics path only (404 elsewhere, 405
//!   for other methods), request heads capped at 16 KiB, an optional IP
//!   allowlist (403 otherwise), gzip when the client asks for it.
//! * **TLS and basic auth** (feature `web-config`): see
//!   [`web_config`](super::web_config); the handshake counts against the
//!   header-read timeout, and credentials are checked before anything else.
//! * **Rendering** runs on the runtime's single blocking thread, never on
//!   the thread that accepts and reads requests, and no thread is started
//!   per scrape.

use super::encode::{self, Format};
use crate::store::Store;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, ACCEPT, ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_TYPE, VARY,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest any one connection is kept, whatever it does.
pub const MAX_CONNECTION_LIFE: Duration = Duration::from_secs(300);

/// The largest request head accepted (hyper answers 431 beyond it).
const MAX_HEAD: usize = 16 * 1024;

/// How the listener behaves; set through the exporter builder.
#[derive(Debug, Clone)]
pub(crate) struct ListenerConfig {
    pub path: String,
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub allow: Vec<IpNet>,
    pub gzip: bool,
    /// TLS and basic auth, from a web-config file.
    #[cfg(feature = "web-config")]
    pub web: Option<Arc<super::web_config::WebConfig>>,
}

struct State {
    store: Arc<Store>,
    config: ListenerConfig,
    active: AtomicUsize,
    /// The size of the last body, to allocate the next one at once.
    last_size: AtomicUsize,
}

/// Serves `listener` on a background thread until the process exits.
pub(crate) fn spawn(
    listener: std::net::TcpListener,
    store: Arc<Store>,
    config: ListenerConfig,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(1)
        // The one render thread stays between scrapes instead of being
        // re-created for each.
        .thread_keep_alive(Duration::from_secs(24 * 3600))
        .thread_name("photon-metrics-render")
        .build()?;
    let state = Arc::new(State {
        store,
        config,
        active: AtomicUsize::new(0),
        last_size: AtomicUsize::new(0),
    });
    std::thread::Builder::new()
        .name("photon-metrics-http".into())
        .spawn(move || {
            runtime.block_on(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => accept_loop(listener, state).await,
                    Err(e) => tracing::error!(error = %e, "photon-metrics: the /metrics listener cannot start"),
                }
            })
        })?;
    Ok(())
}

async fn accept_loop(listener: tokio::net::TcpListener, state: Arc<State>) {
    const MIN_BACKOFF: Duration = Duration::from_millis(10);
    let mut backoff = MIN_BACKOFF;
    let accept_errors = RateLimitedLog::new("accept failed; backing off");
    let refused = RateLimitedLog::new("connection limit reached; new connections are closed");
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                backoff = MIN_BACKOFF;
                if state.active.load(Ordering::Relaxed) >= state.config.max_connections {
                    drop(stream);
                    refused.log(&format!("limit {}", state.config.max_connections));
                    continue;
                }
                let slot = Slot::take(&state);
                let allowed = allowed(&state.config.allow, peer.ip());
                tokio::spawn(connection(stream, allowed, state.clone(), slot));
            }
            Err(e) => {
                // EMFILE and friends: the fd table is full and retrying at
                // once only burns a core. Wait, and let clients time out.
                accept_errors.log(&e.to_string());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// One connection's place under the cap, given back on drop.
struct Slot(Arc<State>);

impl Slot {
    fn take(state: &Arc<State>) -> Self {
        state.active.fetch_add(1, Ordering::Relaxed);
        Slot(state.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

fn allowed(allow: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    allow.is_empty() || allow.iter().any(|net| net.contains(&ip))
}

async fn connection(stream: tokio::net::TcpStream, allowed: bool, state: Arc<State>, slot: Slot) {
    let _ = stream.set_nodelay(true);
    #[cfg(feature = "web-config")]
    if let Some(tls) = state.config.web.as_ref().and_then(|w| w.tls.clone()) {
        // The handshake counts against the header-read timeout: a client
        // that speaks plain HTTP, trusts another CA or stalls is closed.
        let handshake = tokio::time::timeout(state.config.header_read_timeout, tls.accept(stream));
        if let Ok(Ok(stream)) = handshake.await {
            serve(TokioIo::new(stream), allowed, state, slot).await;
        }
        return;
    }
    serve(TokioIo::new(stream), allowed, state, slot).await;
}

async fn serve<I>(io: I, allowed: bool, state: Arc<State>, slot: Slot)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service_state = state.clone();
    let service = hyper::service::service_fn(move |req| {
        let state = service_state.clone();
        async move { Ok::<_, Infallible>(respond(req, allowed, &state).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_read_timeout)
        .max_buf_size(MAX_HEAD);
    let conn = builder.serve_connection(io, service);
    // Errors here are the client's (timeouts, resets, garbage): nothing to log.
    let _ = tokio::time::timeout(MAX_CONNECTION_LIFE, conn).await;
    drop(slot);
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn respond(
    req: Request<Incoming>,
    allowed: bool,
    state: &Arc<State>,
) -> Response<Full<Bytes>> {
    if !allowed {
        return plain(StatusCode::FORBIDDEN, "forbidden\n");
    }
    #[cfg(feature = "web-config")]
    if let Some(auth) = state.config.web.as_ref().and_then(|w| w.auth.clone()) {
        let header = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec());
        // bcrypt takes milliseconds: never on the thread that accepts.
        let ok = tokio::task::spawn_blocking(move || auth.check(header.as_deref()))
            .await
            .unwrap_or(false);
        if !ok {
            let mut response = plain(StatusCode::UNAUTHORIZED, "unauthorized\n");
            response.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"photon-metrics\""),
            );
            return response;
        }
    }
    if req.uri().path() != state.config.path {
        return plain(
            StatusCode::NOT_FOUND,
            "not found: metrics are served on the metrics path\n",
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let format = Format::negotiate(req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()));
    let gzip = state.config.gzip
        && accepts_gzip(
            req.headers()
                .get(ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok()),
        );
    let render_state = state.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let hint = render_state.last_size.load(Ordering::Relaxed);
        let mut body = Vec::with_capacity(hint + hint / 8);
        encode::render(&render_state.store, format, &mut body);
        render_state.last_size.store(body.len(), Ordering::Relaxed);
        if gzip {
            compress(&body)
        } else {
            Ok(body)
        }
    })
    .await;
    let body = match rendered {
        Ok(Ok(body)) => body,
        _ => return plain(StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n"),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    if gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// Whether `Accept-Encoding` lists gzip (or `*`) with a non-zero `q`.
fn accepts_gzip(header: Option<&str>) -> bool {
    header.is_some_and(|h| {
        h.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let q_zero = parts.any(|p| {
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim() == "q" && v.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
                })
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !q_zero
        })
    })
}

fn compress(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

/// A warning logged at most once a minute, with how many were suppressed.
struct RateLimitedLog {
    what: &'static str,
    state: Mutex<(Option<Instant>, u64)>,
}

impl RateLimitedLog {
    fn new(what: &'static str) -> Self {
        RateLimitedLog {
            what,
            state: Mutex::new((None, 0)),
        }
    }

    fn log(&self, detail: &str) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < Duration::from_secs(60) => state.1 += 1,
            _ => {
                tracing::warn!(
                    suppressed = state.1,
                    "photon-metrics /metrics listener: {}: {detail}",
                    self.what
                );
                *state = (Some(now), 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_used_only_when_asked() {
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, gzip;q=0.5")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn allowlist_matches_networks_and_mapped_addresses() {
        let allow: Vec<IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        assert!(allowed(&allow, "127.0.0.1".parse().unwrap()));
        assert!(allowed(&allow, "::ffff:127.0.0.1".parse().unwrap()));
        assert!(allowed(&allow, "10.2.3.4".parse().unwrap()));
        assert!(!allowed(&allow, "127.0.0.2".parse().unwrap()));
        assert!(allowed(&[], "192.0.2.1".parse().unwrap()));
    }
}
