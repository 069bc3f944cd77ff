//! TLS handshakes off the accept path.
//!
//! A handshake is the one piece of work a stranger can ask of us for the
//! price of a ClientHello: a key exchange and a signature (about a
//! millisecond with RSA-2048). Run on the listener's thread, a flood of
//! hellos delays every accept and every scrape behind it. Here:
//!
//! * handshakes run on a thread of their own ("photon-metrics-tls"),
//!   [`RUNNING`] at a time; the listener thread only hands them over;
//! * one peer has at most [`PER_PEER`] handshakes waiting or running and
//!   starts them at most at [`PER_PEER_RATE`]; more are closed at once;
//! * trusted peers (read a whole scrape recently) go before every stranger
//!   in the queue, and at most [`WAITING`] strangers wait;
//! * a handshake not done within [`DEADLINE`] of its arrival, queue
//!   included, is abandoned.
//!
//! A scraper's new connection therefore waits for at most the handshakes
//! running when it arrives; a stranger's, behind at most [`WAITING`]
//! others, one per peer or two.

use super::bucket::{Bucket, Rate};
use super::peer::peer_key;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Handshakes in progress at once. The CPU is one thread's either way;
/// more than one only overlaps handshakes that wait on their client.
pub(super) const RUNNING: usize = 32;

/// Strangers' handshakes waiting at most.
pub(super) const WAITING: usize = 256;

/// Handshakes one peer may have waiting or running.
pub(super) const PER_PEER: usize = 2;

/// Handshakes a peer may start: 20 a second, 40 at once.
pub(super) const PER_PEER_RATE: Rate = Rate {
    per_second: 20.0,
    burst: 40.0,
};

/// From arrival to the end of the handshake, waiting included: a client
/// a continent away needs two round trips.
pub(super) const DEADLINE: Duration = Duration::from_secs(3);

/// Peers remembered at most.
const PEERS: usize = 4096;

struct PeerBudget {
    pending: usize,
    tokens: Bucket,
}

#[derive(Default)]
struct Queue {
    running: usize,
    /// Waiting for a place: trusted peers' first.
    waiting: [VecDeque<oneshot::Sender<()>>; 2],
    peers: HashMap<IpAddr, PeerBudget>,
}

/// The handshake thread and its queue.
pub(super) struct Handshakes {
    runtime: tokio::runtime::Handle,
    queue: Mutex<Queue>,
}

impl Handshakes {
    /// Starts the handshake thread.
    pub(super) fn start() -> std::io::Result<Arc<Self>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("photon-metrics-tls".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
        Ok(Arc::new(Handshakes {
            runtime: handle,
            queue: Mutex::new(Queue::default()),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `handshake` on the handshake thread when its turn comes;
    /// `None` when the peer is over its budget, the queue is full or the
    /// deadline passed.
    pub(super) async fn run<F, T>(
        self: &Arc<Self>,
        peer: IpAddr,
        trusted: bool,
        handshake: F,
    ) -> Option<T>
    where
        F: Future<Output = Option<T>> + Send + 'static,
        T: Send + 'static,
    {
        let arrived = tokio::time::Instant::now();
        let key = peer_key(peer);
        let _pending = self.enter(key)?;
        let _place = match self.place(trusted) {
            Place::Now(place) => place,
            Place::Full => return None,
            Place::Wait(turn) => {
                let mut turn = Turn(Some(turn), self.clone());
                tokio::time::timeout_at(arrived + DEADLINE, turn.wait())
                    .await
                    .ok()??
            }
        };
        let task = AbortOnDrop(self.runtime.spawn(async move {
            tokio::time::timeout_at(arrived + DEADLINE, handshake)
                .await
                .ok()
                .flatten()
        }));
        task.wait().await
    }

    /// Takes one of `key`'s handshakes, if its budget allows.
    fn enter(self: &Arc<Self>, key: IpAddr) -> Option<Pending> {
        let now = Instant::now();
        let mut queue = self.lock();
        if queue.peers.len() >= PEERS && !queue.peers.contains_key(&key) {
            queue.peers.retain(|_, p| {
                p.pending > 0 || p.tokens.refill(now, PER_PEER_RATE) < PER_PEER_RATE.burst
            });
        }
        let peer = queue.peers.entry(key).or_insert(PeerBudget {
            pending: 0,
            tokens: Bucket::full(PER_PEER_RATE, now),
        });
        if peer.pending >= PER_PEER || peer.tokens.refill(now, PER_PEER_RATE) < 1.0 {
            return None;
        }
        peer.pending += 1;
        peer.tokens.spend();
        Some(Pending(self.clone(), key))
    }

    fn place(self: &Arc<Self>, trusted: bool) -> Place {
        let mut queue = self.lock();
        if queue.running < RUNNING {
            queue.running += 1;
            return Place::Now(Running(self.clone()));
        }
        if !trusted && queue.waiting[1].len() >= WAITING {
            // Waiters that left are still counted: drop them first.
            queue.waiting[1].retain(|w| !w.is_closed());
            if queue.waiting[1].len() >= WAITING {
                return Place::Full;
            }
        }
        let (tx, rx) = oneshot::channel();
        queue.waiting[usize::from(!trusted)].push_back(tx);
        Place::Wait(rx)
    }
}

enum Place {
    Now(Running),
    Wait(oneshot::Receiver<()>),
    Full,
}

/// A place among the running handshakes; handed to the next waiter that
/// is still there, on drop.
struct Running(Arc<Handshakes>);

impl Drop for Running {
    fn drop(&mut self) {
        let mut queue = self.0.lock();
        let next = loop {
            let Some(w) = queue.waiting[0]
                .pop_front()
                .or_else(|| queue.waiting[1].pop_front())
            else {
                break false;
            };
            if w.send(()).is_ok() {
                break true;
            }
        };
        if !next {
            queue.running -= 1;
        }
    }
}

/// A wait for a place. A place handed over just as the waiter gave up
/// (deadline, or the connection dropped) is passed on, not lost.
struct Turn(Option<oneshot::Receiver<()>>, Arc<Handshakes>);

impl Turn {
    async fn wait(&mut self) -> Option<Running> {
        let rx = self.0.as_mut()?;
        let got = rx.await.is_ok();
        self.0 = None;
        got.then(|| Running(self.1.clone()))
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(mut rx) = self.0.take() {
            rx.close();
            if rx.try_recv().is_ok() {
                drop(Running(self.1.clone()));
            }
        }
    }
}

/// One of a peer's handshakes waiting or running, given back on drop.
struct Pending(Arc<Handshakes>, IpAddr);

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(p) = self.0.lock().peers.get_mut(&self.1) {
            p.pending = p.pending.saturating_sub(1);
        }
    }
}

/// A task on the handshake thread, cancelled when the connection is
/// dropped (evicted, or the listener's task ended).
struct AbortOnDrop<T>(tokio::task::JoinHandle<Option<T>>);

impl<T> AbortOnDrop<T> {
    async fn wait(mut self) -> Option<T> {
        (&mut self.0).await.ok().flatten()
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_peer_has_at_most_its_share_of_handshakes_waiting() {
        let hs = Handshakes::start().unwrap();
        let held: Vec<_> = (0..PER_PEER).map(|_| hs.enter(ip("127.0.0.1"))).collect();
        assert!(held.iter().all(Option::is_some));
        assert!(hs.enter(ip("127.0.0.1")).is_none());
        assert!(hs.enter(ip("127.0.0.2")).is_some());
        drop(held);
        assert!(hs.enter(ip("127.0.0.1")).is_some());
    }

    #[test]
    fn trusted_peers_go_before_strangers_and_strangers_wait_in_a_bounded_line() {
        let hs = Handshakes::start().unwrap();
        let running: Vec<_> = (0..RUNNING)
            .map(|_| match hs.place(false) {
                Place::Now(r) => r,
                _ => panic!("a free place"),
            })
            .collect();
        let strangers: Vec<_> = (0..WAITING)
            .map(|_| match hs.place(false) {
                Place::Wait(rx) => rx,
                _ => panic!("room to wait"),
            })
            .collect();
        assert!(matches!(hs.place(false), Place::Full));
        let Place::Wait(mut scraper) = hs.place(true) else {
            panic!("a trusted peer always waits");
        };
        let mut running = running.into_iter();
        drop(running.next());
        assert!(scraper.try_recv().is_ok(), "the trusted peer went first");
        let mut strangers = strangers.into_iter();
        let mut first = strangers.next().unwrap();
        assert!(first.try_recv().is_err());
        drop(running.next());
        assert!(first.try_recv().is_ok(), "then the strangers, in order");
    }

    #[test]
    fn a_handshake_runs_on_its_own_thread_and_is_abandoned_at_the_deadline() {
        let hs = Handshakes::start().unwrap();
        let name = run(hs.run(ip("127.0.0.1"), false, async {
            Some(std::thread::current().name().map(str::to_string))
        }));
        assert_eq!(name.flatten().as_deref(), Some("photon-metrics-tls"));
        let start = Instant::now();
        let never = run(hs.run(ip("127.0.0.1"), false, std::future::pending::<Option<()>>()));
        assert!(never.is_none());
        assert!(start.elapsed() >= DEADLINE && start.elapsed() < DEADLINE * 2);
        // Its places were given back.
        assert_eq!(hs.lock().running, 0);
        assert_eq!(hs.lock().peers[&ip("127.0.0.1")].pending, 0);
    }
}
