//! The `/metrics` listener: hyper on one background thread, hardened for a
//! process (a compiler, an inference runtime) that must not be taken down
//! through its metrics port, nor have its scrapes stalled by a stranger.
//!
//! * **Admission at accept** ([`admission`]): the allowlist, a per-peer
//!   share and a per-peer connection rate are applied before a byte is
//!   read or a TLS handshake is spent; denied peers never take a slot.
//! * **A connection nobody uses never costs a scraper its slot**: at the
//!   connection limit a newcomer makes room by closing the oldest
//!   connection that has not sent a request, then the longest idle
//!   keep-alive, then the longest stalled writer ([`activity`]), never
//!   one being served; peers that read a whole scrape recently
//!   ([`trust`]) keep reserved slots and are closed last.
//! * **Slow or idle clients** are closed when their request head has not
//!   arrived within the header-read timeout (idle keep-alive connections
//!   included), when a write makes no progress for the write timeout (a
//!   client that never reads; closed with a reset so the kernel drops
//!   what it still held for it), and in any case after
//!   [`MAX_CONNECTION_LIFE`].
//! * **TLS handshakes** ([`handshake`]) run on a thread of their own with
//!   a bounded queue, a per-peer budget and a 3 s deadline; trusted peers
//!   go first, and a connection joins the queue only once its ClientHello
//!   has arrived, so neither hellos nor idle connections delay accepting,
//!   serving, or a scraper's handshake.
//! * **Shared renders** ([`render`]): concurrent scrapes share one render
//!   and one body in memory; no render runs for a client that has left.
//! * **Basic auth** ([`auth`], feature `web-config`): a wrong password costs
//!   at most one bcrypt per peer per second, on a thread of its own, and
//!   checks of peers that never failed displace failing peers' checks.
//! * **fd exhaustion** (`EMFILE`) and other accept errors back off
//!   exponentially (10 ms up to 1 s) instead of spinning, and are logged at
//!   most once a minute with a count of what was suppressed.
//! * **Requests**: `GET`/`HEAD` on the metrics path only (404 elsewhere, 405
//!   for other methods), request heads capped at 16 KiB, gzip when the
//!   client asks for it.

mod activity;
mod admission;
#[cfg(feature = "web-config")]
mod auth;
mod bucket;
#[cfg(feature = "web-config")]
mod handshake;
mod peer;
mod render;
mod trust;

use self::activity::{Activity, Tracked};
pub(crate) use self::admission::DEFAULT_CONNECTION_RATE;
use self::admission::{Admission, Admissions, DeniedPermit, Slot};
pub(crate) use self::bucket::Rate;
use self::render::{NoBody, Renders, Variant};
use self::trust::Trust;
use super::encode::Exposition;
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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_io_timeout::TimeoutStream;

/// The longest any one connection is kept, whatever it does.
pub const MAX_CONNECTION_LIFE: Duration = Duration::from_secs(300);

/// The largest request head accepted (hyper answers 431 beyond it).
const MAX_HEAD: usize = 16 * 1024;

/// The accept queue: long enough that a burst of connections from one
/// host does not overflow it (an overflow drops every host's SYNs, and a
/// dropped SYN costs the scraper a 1 s retransmission). The kernel caps it
/// at `net.core.somaxconn`.
const BACKLOG: i32 = 4096;

/// The kernel send buffer of a served connection. It bounds what one client
/// that never reads holds in kernel memory, and makes the write timeout
/// see that it does not read (without it, autotuning grows the buffer to
/// 4 MiB, enough to swallow a whole body). 128 KiB keeps a 1 MB body at
/// LAN speed.
const SEND_BUFFER: usize = 128 * 1024;

/// How long a denied peer is given to send its request before its 403.
const DENIED_READ: Duration = Duration::from_secs(1);

/// How the listener behaves; set through the exporter builder.
#[derive(Debug, Clone)]
pub(crate) struct ListenerConfig {
    pub path: String,
    pub max_connections: usize,
    /// Slots one peer may hold; `None`: [`admission::DEFAULT_PER_PEER`].
    pub max_connections_per_peer: Option<usize>,
    /// How fast one peer may open connections.
    pub connection_rate: Rate,
    pub header_read_timeout: Duration,
    pub write_timeout: Duration,
    pub allow: Vec<IpNet>,
    pub gzip: bool,
    /// TLS and basic auth, from a web-config file.
    #[cfg(feature = "web-config")]
    pub web: Option<Arc<super::web_config::WebConfig>>,
}

impl ListenerConfig {
    fn per_peer(&self) -> usize {
        self.max_connections_per_peer
            .unwrap_or(admission::DEFAULT_PER_PEER)
            .clamp(1, self.max_connections.max(1))
    }
}

struct State {
    config: ListenerConfig,
    renders: Arc<Renders>,
    trust: Arc<Trust>,
    #[cfg(feature = "web-config")]
    auth: Option<Arc<auth::AuthGate>>,
    #[cfg(feature = "web-config")]
    handshakes: Option<Arc<handshake::Handshakes>>,
}

/// Binds `addr` as `std::net::TcpListener::bind` does (`SO_REUSEADDR`),
/// with a [`BACKLOG`] long accept queue.
pub(crate) fn bind(addr: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// Serves `listener` on a background thread until the process exits.
pub(crate) fn spawn(
    listener: std::net::TcpListener,
    store: Arc<Store>,
    config: ListenerConfig,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    // A forked child closes its copy: it serves nothing (see shared::fork).
    crate::shared::fork::close_in_children(std::os::fd::AsRawFd::as_raw_fd(&listener));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Renders only (bcrypt has its own thread): at most one per
        // variant is ever queued, see `render`.
        .max_blocking_threads(1)
        // The one render thread stays between scrapes instead of being
        // re-created for each.
        .thread_keep_alive(Duration::from_secs(24 * 3600))
        .thread_name("photon-metrics-render")
        .build()?;
    let trust = Arc::new(Trust::default());
    #[cfg(feature = "web-config")]
    let auth = match config.web.as_ref().and_then(|w| w.auth.clone()) {
        Some(basic) => Some(auth::AuthGate::start(basic, trust.clone())?),
        None => None,
    };
    #[cfg(feature = "web-config")]
    let handshakes = match config.web.as_ref().and_then(|w| w.tls.as_ref()) {
        Some(_) => Some(handshake::Handshakes::start()?),
        None => None,
    };
    let admissions = Admissions::new(
        config.allow.clone(),
        config.max_connections,
        config.per_peer(),
        config.connection_rate,
        trust.clone(),
    );
    let state = Arc::new(State {
        config,
        renders: Renders::new(store),
        trust,
        #[cfg(feature = "web-config")]
        auth,
        #[cfg(feature = "web-config")]
        handshakes,
    });
    std::thread::Builder::new()
        .name("photon-metrics-http".into())
        .spawn(move || {
            runtime.block_on(async move {
                use tokio::io::{unix::AsyncFd, Interest};
                // SAFETY: the listener owns its fd, open and the same for
                // its whole life, and the AsyncFd owns the listener.
                let registered = unsafe { AsyncFd::register_with_interest(listener, Interest::READABLE) };
                match registered.map_err(std::io::Error::from) {
                    Ok(listener) => accept_loop(listener, admissions, state).await,
                    Err(e) => tracing::error!(error = %e, "photon-metrics: the /metrics listener cannot start"),
                }
            })
        })?;
    Ok(())
}

/// Accepts with the plain `accept` and decides admission on the raw
/// socket, so a connection closed at accept costs `accept` and `close`
/// only; admitted ones are registered with the runtime. Under a flood of
/// 120,000 connections a second from 199 addresses, registering each
/// first (two more syscalls and the runtime's bookkeeping) let the accept
/// queue overflow, and a dropped SYN costs the scraper a 1 s retransmit.
async fn accept_loop(
    listener: tokio::io::unix::AsyncFd<std::net::TcpListener>,
    admissions: Arc<Admissions>,
    state: Arc<State>,
) {
    const MIN_BACKOFF: Duration = Duration::from_millis(10);
    let mut backoff = MIN_BACKOFF;
    let accept_errors = RateLimitedLog::new("accept failed; backing off");
    let refused = RateLimitedLog::new("connection limit reached; new connections are closed");
    let per_peer =
        RateLimitedLog::new("a peer holds its share of connections; its new ones are closed");
    let denied = RateLimitedLog::new("connections from outside the allowlist are refused");
    let too_fast =
        RateLimitedLog::new("a peer opens connections faster than its rate; they are closed");
    let made_room = RateLimitedLog::new(
        "at the connection limit; unused connections (no request yet, idle, or not reading) are closed to make room",
    );
    let mut evictions = 0;
    loop {
        let accepted = match listener.readable().await {
            Ok(mut ready) => match ready.try_io(|l| l.get_ref().accept()) {
                Ok(accepted) => accepted,
                // Not ready after all: wait again.
                Err(_) => continue,
            },
            Err(e) => Err(e),
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = MIN_BACKOFF;
                match admissions.admit(peer.ip()) {
                    Admission::Serve(slot) => {
                        if admissions.evictions() != evictions {
                            evictions = admissions.evictions();
                            made_room.log(format_args!("{evictions} closed so far"));
                        }
                        if let Ok(stream) = registered(stream) {
                            tokio::spawn(connection(stream, peer.ip(), state.clone(), slot));
                        }
                    }
                    Admission::Deny(permit) => {
                        denied.log(peer.ip());
                        // No handshake is spent on a denied peer.
                        if !state.tls() {
                            if let Ok(stream) = registered(stream) {
                                tokio::spawn(forbid(stream, permit));
                            }
                        }
                    }
                    Admission::DenyQuietly => denied.log(peer.ip()),
                    Admission::OverCap => {
                        refused.log(format_args!("limit {}", state.config.max_connections))
                    }
                    Admission::OverRate => too_fast.log(peer.ip()),
                    Admission::OverPeerCap => per_peer.log(format_args!(
                        "{} holds {}",
                        peer.ip(),
                        state.config.per_peer()
                    )),
                }
            }
            Err(e) => {
                // EMFILE and friends: the fd table is full and retrying at
                // once only burns a core. Wait, and let clients time out.
                accept_errors.log(&e);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// An accepted socket handed to the runtime.
fn registered(stream: std::net::TcpStream) -> std::io::Result<tokio::net::TcpStream> {
    stream.set_nonblocking(true)?;
    tokio::net::TcpStream::from_std(stream)
}

impl State {
    fn tls(&self) -> bool {
        #[cfg(feature = "web-config")]
        if self.config.web.as_ref().is_some_and(|w| w.tls.is_some()) {
            return true;
        }
        false
    }
}

/// A canned 403 for a peer outside the allowlist: one short read (so the
/// close does not reset the answer away), one write, no parsing.
async fn forbid(mut stream: tokio::net::TcpStream, permit: DeniedPermit) {
    const ANSWER: &[u8] = b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 10\r\nconnection: close\r\n\r\nforbidden\n";
    let mut head = [0u8; 1024];
    let _ = tokio::time::timeout(DENIED_READ, stream.read(&mut head)).await;
    let _ = tokio::time::timeout(DENIED_READ, async {
        stream.write_all(ANSWER).await?;
        stream.shutdown().await
    })
    .await;
    drop(permit);
}

async fn connection(stream: tokio::net::TcpStream, peer: IpAddr, state: Arc<State>, slot: Slot) {
    use std::future::Future;
    use std::task::Poll;
    let activity = slot.activity().clone();
    let mut evicted = std::pin::pin!(activity.evicted());
    let mut served = std::pin::pin!(serve_connection(stream, peer, &state, &activity));
    // Served to the end, or closed to make room for a newcomer: dropping
    // the connection then resets it (see `activity`).
    std::future::poll_fn(|cx| {
        if evicted.as_mut().poll(cx).is_ready() || served.as_mut().poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    drop(slot);
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: IpAddr,
    state: &Arc<State>,
    activity: &Arc<Activity>,
) {
    let _ = stream.set_nodelay(true);
    let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
    #[cfg(feature = "web-config")]
    if state.tls() {
        // A TLS client speaks first. Until its ClientHello arrives the
        // connection takes no place among the handshakes: it waits here,
        // unproven and the first to be closed to make room.
        let hello = tokio::time::timeout(state.config.header_read_timeout, stream.readable());
        if !matches!(hello.await, Ok(Ok(()))) {
            return;
        }
    }
    let mut io = TimeoutStream::new(stream);
    // A client that stops reading stops our writes: end it then, so it
    // holds neither a slot nor a body for the connection's whole life.
    io.set_write_timeout(Some(state.config.write_timeout));
    let io = Tracked::new(io, activity.clone(), state.trust.clone(), peer);
    #[cfg(feature = "web-config")]
    if let Some(tls) = state.config.web.as_ref().and_then(|w| w.tls.clone()) {
        let Some(handshakes) = state.handshakes.as_ref() else {
            return;
        };
        // The handshake has its own deadline, and counts against the
        // header-read timeout too: a client that speaks plain HTTP,
        // trusts another CA or stalls is closed.
        let timeout = state.config.header_read_timeout;
        let handshake = async move {
            tokio::time::timeout(timeout, tls.accept(io))
                .await
                .ok()?
                .ok()
        };
        if let Some(stream) = handshakes.run(peer, activity.trusted(), handshake).await {
            serve(TokioIo::new(stream), peer, state, activity).await;
        }
        return;
    }
    serve(TokioIo::new(io), peer, state, activity).await;
}

async fn serve<I>(io: I, peer: IpAddr, state: &Arc<State>, activity: &Arc<Activity>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (service_state, activity) = (state.clone(), activity.clone());
    let service = hyper::service::service_fn(move |req| {
        let (state, activity) = (service_state.clone(), activity.clone());
        async move {
            activity.request_started();
            let get = req.method() == Method::GET;
            let response = respond(req, peer, &state).await;
            // A whole scrape, once written out, earns its peer trust.
            let scrape = (get && response.status() == StatusCode::OK)
                .then(|| hyper::body::Body::size_hint(response.body()).lower());
            activity.request_answered(scrape);
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_read_timeout)
        .max_buf_size(MAX_HEAD);
    let conn = builder.serve_connection(io, service);
    // Errors here are the client's (timeouts, resets, garbage): nothing to log.
    let _ = tokio::time::timeout(MAX_CONNECTION_LIFE, conn).await;
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

#[cfg_attr(not(feature = "web-config"), allow(unused_variables))]
async fn respond(
    req: Request<Incoming>,
    peer: IpAddr,
    state: &Arc<State>,
) -> Response<Full<Bytes>> {
    #[cfg(feature = "web-config")]
    if let Some(gate) = state.auth.as_ref() {
        let header = req.headers().get(hyper::header::AUTHORIZATION);
        match gate.check(peer, header.map(|v| v.as_bytes())).await {
            auth::Verdict::Allowed => {}
            auth::Verdict::Denied => {
                let mut response = plain(StatusCode::UNAUTHORIZED, "unauthorized\n");
                response.headers_mut().insert(
                    hyper::header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"photon-metrics\""),
                );
                return response;
            }
            auth::Verdict::Throttled => {
                let mut response = plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many new credentials from this address; retry later\n",
                );
                response
                    .headers_mut()
                    .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
                return response;
            }
            auth::Verdict::Busy => {
                let mut response = plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many credential checks at once; retry later\n",
                );
                response
                    .headers_mut()
                    .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
                return response;
            }
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
    let format = Exposition::negotiate(req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()));
    let gzip = state.config.gzip
        && accepts_gzip(
            req.headers()
                .get(ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok()),
        );
    let body = match state.renders.get(Variant { format, gzip }).await {
        Ok(body) => body,
        Err(NoBody::Failed) => {
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n")
        }
        Err(NoBody::OverMemory) => {
            let mut response = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many responses in flight to slow readers; retry later\n",
            );
            response
                .headers_mut()
                .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
    };
    let mut response = Response::new(Full::new(body));
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

    /// Logs `detail` unless a warning went out in the last minute; the
    /// detail is formatted only then (a flood calls this per connection).
    fn log(&self, detail: impl std::fmt::Display) {
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
}
