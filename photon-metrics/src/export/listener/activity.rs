//! What one connection is doing, kept in atomics its own task writes and
//! the admission table reads when it must make room.
//!
//! A connection is, from the cheapest to close to the dearest:
//!
//! 0. **unproven**: it has not sent one complete request head (a TLS
//!    handshake, slowloris, an idle connect), judged by its age;
//! 1. **idle**: a keep-alive between requests, judged by how long since
//!    its last response or write;
//! 2. **stalled**: a response that has made no write progress for
//!    [`STALL`] (a client that does not read), judged by how long;
//! 3. **being served**: a request being answered, or a write that made
//!    progress within [`STALL`]: never closed to make room.
//!
//! [`Tracked`] wraps the socket to see writes stall and progress, and
//! closes with a reset (`SO_LINGER` 0) when the connection was evicted or
//! its write timed out, so the kernel frees what it still held for a
//! client that never read, at once, instead of keeping it for the
//! socket's orphan lifetime.

use super::trust::Trust;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_io_timeout::TimeoutStream;

/// How long a write may wait on a client before the connection counts as
/// stalled (closable to make room). A reader on any real link drains a
/// 128 KiB send buffer well within it.
pub(super) const STALL: Duration = Duration::from_secs(1);

/// How closable a connection is now: lower goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Tier {
    Unproven,
    Idle,
    Stalled,
}

/// One connection's state.
pub(super) struct Activity {
    epoch: Instant,
    accepted: u64,
    /// Request heads received.
    requests: AtomicU32,
    /// A request is being answered (from its head to its response).
    busy: AtomicBool,
    /// Milliseconds since `epoch` of the last response or write progress.
    last: AtomicU64,
    /// Milliseconds since `epoch` (plus one) when writes began to wait; 0
    /// while they do not.
    stalled: AtomicU64,
    /// Admitted as a trusted peer's, or read a whole scrape: closed last.
    trusted: AtomicBool,
    /// Bytes written to the socket so far.
    written: AtomicU64,
    /// Once `written` reaches this (non-zero), the client has read a whole
    /// scrape and its peer is trusted.
    trust_at: AtomicU64,
    /// Close with a reset rather than a FIN.
    abortive: AtomicBool,
    evicted: tokio::sync::Notify,
}

impl Activity {
    pub(super) fn new(epoch: Instant, trusted: bool) -> Arc<Self> {
        let now = millis(epoch);
        Arc::new(Activity {
            epoch,
            accepted: now,
            requests: AtomicU32::new(0),
            busy: AtomicBool::new(false),
            last: AtomicU64::new(now),
            stalled: AtomicU64::new(0),
            trusted: AtomicBool::new(trusted),
            written: AtomicU64::new(0),
            trust_at: AtomicU64::new(0),
            abortive: AtomicBool::new(false),
            evicted: tokio::sync::Notify::new(),
        })
    }

    /// A request head arrived.
    pub(super) fn request_started(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.busy.store(true, Ordering::Relaxed);
    }

    /// Its response is handed to the connection; `scrape` is the body's
    /// length when it was a scrape answered 200, which earns trust once
    /// the client has read it (a slow reader that asked earns nothing).
    pub(super) fn request_answered(&self, scrape: Option<u64>) {
        if let Some(len) = scrape {
            let at = self.written.load(Ordering::Relaxed) + len;
            self.trust_at.store(at.max(1), Ordering::Relaxed);
        }
        self.last.store(millis(self.epoch), Ordering::Relaxed);
        self.busy.store(false, Ordering::Relaxed);
    }

    /// Whether this connection answered an authorised scrape.
    pub(super) fn trusted(&self) -> bool {
        self.trusted.load(Ordering::Relaxed)
    }

    /// How closable it is now, and since when (milliseconds since the
    /// epoch; older goes first); `None` while it is being served.
    pub(super) fn closable(&self, now: u64) -> Option<(Tier, u64)> {
        let stalled = self.stalled.load(Ordering::Relaxed);
        if stalled != 0 {
            let since = stalled - 1;
            return (now.saturating_sub(since) >= STALL.as_millis() as u64)
                .then_some((Tier::Stalled, since));
        }
        if self.busy.load(Ordering::Relaxed) {
            return None;
        }
        if self.requests.load(Ordering::Relaxed) == 0 {
            return Some((Tier::Unproven, self.accepted));
        }
        Some((Tier::Idle, self.last.load(Ordering::Relaxed)))
    }

    /// Closes the connection (with a reset) to make room.
    pub(super) fn evict(&self) {
        self.abortive.store(true, Ordering::Relaxed);
        self.evicted.notify_one();
    }

    /// Completes when the connection was evicted.
    pub(super) async fn evicted(&self) {
        self.evicted.notified().await
    }

    /// Counts `n` bytes written; whether they completed a scrape that
    /// earns trust.
    fn wrote_bytes(&self, n: usize) -> bool {
        let written = self.written.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        let at = self.trust_at.load(Ordering::Relaxed);
        if at != 0 && written >= at {
            self.trust_at.store(0, Ordering::Relaxed);
            self.trusted.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    fn wrote(&self, progress: bool) {
        if progress {
            self.stalled.store(0, Ordering::Relaxed);
            self.last.store(millis(self.epoch), Ordering::Relaxed);
        } else if self.stalled.load(Ordering::Relaxed) == 0 {
            self.stalled
                .store(millis(self.epoch) + 1, Ordering::Relaxed);
        }
    }
}

/// Milliseconds from `epoch` to now.
pub(super) fn millis(epoch: Instant) -> u64 {
    epoch.elapsed().as_millis() as u64
}

/// An accepted socket that reports its writes to its [`Activity`], and
/// trusts its peer once a whole scrape has been written to it.
pub(super) struct Tracked {
    inner: Pin<Box<TimeoutStream<tokio::net::TcpStream>>>,
    activity: Arc<Activity>,
    trust: Arc<Trust>,
    peer: IpAddr,
}

impl Tracked {
    pub(super) fn new(
        inner: TimeoutStream<tokio::net::TcpStream>,
        activity: Arc<Activity>,
        trust: Arc<Trust>,
        peer: IpAddr,
    ) -> Self {
        Tracked {
            inner: Box::pin(inner),
            activity,
            trust,
            peer,
        }
    }

    fn track(&self, poll: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match &poll {
            Poll::Pending => self.activity.wrote(false),
            Poll::Ready(Ok(0)) => {}
            Poll::Ready(Ok(n)) => {
                self.activity.wrote(true);
                if self.activity.wrote_bytes(*n) {
                    self.trust.mark(self.peer);
                }
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::TimedOut => {
                // The client stopped reading: whatever the kernel still
                // holds for it is dropped with a reset.
                self.activity.abortive.store(true, Ordering::Relaxed);
            }
            Poll::Ready(Err(_)) => {}
        }
        poll
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if self.activity.abortive.load(Ordering::Relaxed) {
            let _ = socket2::SockRef::from(self.inner.get_ref()).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.inner.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = self.inner.as_mut().poll_write(cx, buf);
        self.track(poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = self.inner.as_mut().poll_write_vectored(cx, bufs);
        self.track(poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.as_mut().poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_what_the_connection_does() {
        let epoch = Instant::now() - Duration::from_secs(10);
        let a = Activity::new(epoch, false);
        let now = millis(epoch);
        assert_eq!(a.closable(now).map(|c| c.0), Some(Tier::Unproven));
        a.request_started();
        assert_eq!(a.closable(now), None, "a request being answered");
        a.request_answered(Some(1000));
        assert!(!a.trusted(), "not before the client read the scrape");
        assert!(!a.wrote_bytes(999));
        assert!(a.wrote_bytes(1));
        assert!(a.trusted());
        assert_eq!(a.closable(now).map(|c| c.0), Some(Tier::Idle));
        a.wrote(false);
        assert_eq!(
            a.closable(millis(epoch)),
            None,
            "a write waiting less than STALL"
        );
        let later = millis(epoch) + STALL.as_millis() as u64;
        assert_eq!(a.closable(later).map(|c| c.0), Some(Tier::Stalled));
        a.wrote(true);
        assert_eq!(a.closable(later).map(|c| c.0), Some(Tier::Idle));
    }
}
