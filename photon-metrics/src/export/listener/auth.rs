//! Basic auth that a flood of wrong passwords cannot turn against the host.
//!
//! bcrypt is made to be slow (milliseconds a check), so every check that
//! runs is work an unauthenticated client makes us do. Here:
//!
//! * Credentials that verified, or failed, once are answered from a cache
//!   keyed by the credentials (not by connection or peer): repeating a
//!   wrong password costs no second bcrypt, and a verified password is
//!   never checked again for the life of the listener, from any address.
//! * A peer (an address, or an IPv6 /64) gets at most one *failed* bcrypt
//!   per [`PEER_INTERVAL`], after a burst of [`PEER_BURST`] (so one
//!   Prometheus with a few jobs and passwords starts without a refusal);
//!   new credentials beyond that are answered 429 with `Retry-After` at
//!   once. Credentials that verify give their check back, and credentials
//!   verified before are never throttled, so the scraper keeps working
//!   while a neighbour guesses.
//! * bcrypt runs on a thread of its own, never on the render thread, from a
//!   queue of [`QUEUE`] checks ordered by the asking peer's [`Standing`]:
//!   a peer that read a whole scrape recently, then a peer asking for
//!   the first time, then one that asked before without failing, then one
//!   that failed within [`REMEMBER`]. When the queue is full, a check
//!   displaces the newest check of a lower standing (answered 503); only a
//!   check with nothing below it is answered 503 itself. A guesser with
//!   many addresses gets one check per address at the second standing,
//!   then waits behind every peer that has not failed. A check whose
//!   client has gone away is skipped.

use super::bucket::{Bucket, Rate};
use super::peer::peer_key;
use super::trust::Trust;
use crate::export::web_config::{BasicAuth, Recall};
use std::collections::HashMap;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How often one peer may have new credentials fail, sustained.
pub(super) const PEER_INTERVAL: Duration = Duration::from_secs(1);

/// Failed checks one peer may have at once after a quiet time.
pub(super) const PEER_BURST: f64 = 4.0;

/// A peer's failed checks: one per [`PEER_INTERVAL`], [`PEER_BURST`] at once.
const FAILURES: Rate = Rate {
    per_second: 1.0 / PEER_INTERVAL.as_secs_f64(),
    burst: PEER_BURST,
};

/// How long a peer's asking and failing is remembered for its standing.
pub(super) const REMEMBER: Duration = Duration::from_secs(600);

/// Checks waiting for the bcrypt thread at most.
const QUEUE: usize = 8;

/// Peers remembered for throttling at most; past it, old entries go first.
const PEERS: usize = 4096;

/// The answer to one request's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Allowed,
    /// 401.
    Denied,
    /// 429: this peer had new credentials checked too recently.
    Throttled,
    /// 503: the bcrypt queue is full of checks of the same standing or
    /// higher.
    Busy,
}

/// Where a peer's check stands in the queue, first first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Standing {
    /// Answered a scrape within the trust period.
    Trusted,
    /// Has not asked for a check within [`REMEMBER`].
    New,
    /// Asked before, never failed within [`REMEMBER`].
    Asked,
    /// Failed within [`REMEMBER`].
    Failing,
}

const STANDINGS: usize = 4;

/// What became of a queued check.
enum Outcome {
    Checked(bool),
    /// Pushed out of the queue by a check of a higher standing.
    Displaced,
}

struct Job {
    claim: crate::export::web_config::Claim,
    reply: oneshot::Sender<Outcome>,
}

/// The bcrypt thread's work, one line per standing.
#[derive(Default)]
struct Queue {
    jobs: Mutex<[VecDeque<Job>; STANDINGS]>,
    ready: Condvar,
}

impl Queue {
    /// Adds `job`, displacing the newest check of the lowest standing
    /// below `standing` when [`QUEUE`] checks wait already; gives it back
    /// when there is none.
    fn push(&self, job: Job, standing: Standing) -> Result<(), Job> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if jobs.iter().map(VecDeque::len).sum::<usize>() >= QUEUE {
            let lower = (standing as usize + 1..STANDINGS)
                .rev()
                .find(|&s| !jobs[s].is_empty());
            let Some(lower) = lower else {
                return Err(job);
            };
            if let Some(displaced) = jobs[lower].pop_back() {
                let _ = displaced.reply.send(Outcome::Displaced);
            }
        }
        jobs[standing as usize].push_back(job);
        self.ready.notify_one();
        Ok(())
    }

    fn pop(&self) -> Job {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = jobs.iter_mut().find_map(VecDeque::pop_front) {
                return job;
            }
            jobs = self.ready.wait(jobs).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// What is remembered of one peer's checks.
struct PeerChecks {
    tokens: Bucket,
    asked: Option<Instant>,
    failed: Option<Instant>,
}

pub(super) struct AuthGate {
    auth: Arc<BasicAuth>,
    trust: Arc<Trust>,
    queue: Arc<Queue>,
    peers: Mutex<HashMap<IpAddr, PeerChecks>>,
}

impl AuthGate {
    /// Starts the bcrypt thread.
    pub(super) fn start(auth: Arc<BasicAuth>, trust: Arc<Trust>) -> std::io::Result<Arc<Self>> {
        let queue = Arc::new(Queue::default());
        let (worker, work) = (auth.clone(), queue.clone());
        std::thread::Builder::new()
            .name("photon-metrics-auth".into())
            .spawn(move || loop {
                let job = work.pop();
                {
                    // The client left while this waited: nobody to answer.
                    if job.reply.is_closed() {
                        continue;
                    }
                    // A panic here must not end the thread: every later
                    // new credential would wait, then get 503, for good.
                    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        worker.verify(job.claim)
                    }))
                    .unwrap_or(false);
                    let _ = job.reply.send(Outcome::Checked(ok));
                }
            })?;
        Ok(Arc::new(AuthGate {
            auth,
            trust,
            queue,
            peers: Mutex::new(HashMap::new()),
        }))
    }

    pub(super) async fn check(&self, peer: IpAddr, header: Option<&[u8]>) -> Verdict {
        let claim = match self.auth.recall(header) {
            Recall::Verified => return Verdict::Allowed,
            Recall::Rejected => return Verdict::Denied,
            Recall::Unknown(claim) => claim,
        };
        let Some(standing) = self.take(peer, Instant::now()) else {
            return Verdict::Throttled;
        };
        let (reply, answer) = oneshot::channel();
        if self.queue.push(Job { claim, reply }, standing).is_err() {
            // Nothing was checked: the peer keeps its budget.
            self.give_back(peer);
            return Verdict::Busy;
        }
        match answer.await {
            Ok(Outcome::Checked(true)) => {
                self.give_back(peer);
                Verdict::Allowed
            }
            Ok(Outcome::Checked(false)) => {
                self.failed(peer);
                Verdict::Denied
            }
            Ok(Outcome::Displaced) => {
                self.give_back(peer);
                Verdict::Busy
            }
            Err(_) => Verdict::Busy,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, PeerChecks>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one check from `peer`'s budget, if it has one left, and says
    /// where the check stands; `None` when the budget is spent.
    fn take(&self, peer: IpAddr, now: Instant) -> Option<Standing> {
        let trusted = self.trust.trusted(peer);
        let key = peer_key(peer);
        let mut peers = self.lock();
        if peers.len() >= PEERS && !peers.contains_key(&key) {
            // Peers with a full budget are forgotten first: under this
            // pressure a forgotten guesser asks again as new, once.
            peers.retain(|_, p| p.tokens.refill(now, FAILURES) < PEER_BURST);
            if peers.len() >= PEERS {
                // As many peers guessing at once as we remember: the one
                // bcrypt thread is the limit now, so refuse the newcomer.
                return None;
            }
        }
        let p = peers.entry(key).or_insert(PeerChecks {
            tokens: Bucket::full(FAILURES, now),
            asked: None,
            failed: None,
        });
        if p.tokens.refill(now, FAILURES) < 1.0 {
            return None;
        }
        p.tokens.spend();
        let recent = |t: Option<Instant>| t.is_some_and(|t| now.duration_since(t) < REMEMBER);
        let standing = if trusted {
            Standing::Trusted
        } else if recent(p.failed) {
            Standing::Failing
        } else if recent(p.asked) {
            Standing::Asked
        } else {
            Standing::New
        };
        p.asked = Some(now);
        Some(standing)
    }

    /// Gives back the check of credentials that verified, or never ran.
    fn give_back(&self, peer: IpAddr) {
        if let Some(p) = self.lock().get_mut(&peer_key(peer)) {
            p.tokens.give_back(FAILURES);
        }
    }

    /// Notes that `peer`'s credentials failed.
    fn failed(&self, peer: IpAddr) {
        if let Some(p) = self.lock().get_mut(&peer_key(peer)) {
            p.failed = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> Arc<AuthGate> {
        let dir = std::env::temp_dir().join(format!("photon-auth-gate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let path = dir.join("web.yml");
        std::fs::write(&path, format!("basic_auth_users:\n  prometheus: {hash}\n")).unwrap();
        let config = crate::export::web_config::WebConfig::load(&path).unwrap();
        AuthGate::start(config.auth.unwrap(), Arc::default()).unwrap()
    }

    fn basic(c: &str) -> Vec<u8> {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(c)
        )
        .into_bytes()
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_peer_gets_one_failed_guess_per_interval_but_known_good_credentials_always_pass() {
        let gate = gate();
        let attacker: IpAddr = "127.0.0.1".parse().unwrap();
        let scraper: IpAddr = "127.0.0.9".parse().unwrap();
        run(async {
            assert_eq!(
                gate.check(scraper, Some(&basic("prometheus:s3cret"))).await,
                Verdict::Allowed
            );
            // A burst of failures, then one more within the interval.
            for n in 0..PEER_BURST as usize {
                let guess = basic(&format!("prometheus:guess-{n}"));
                assert_eq!(gate.check(attacker, Some(&guess)).await, Verdict::Denied);
            }
            assert_eq!(
                gate.check(attacker, Some(&basic("prometheus:guess-x")))
                    .await,
                Verdict::Throttled
            );
            // The same wrong password again: answered from the cache.
            assert_eq!(
                gate.check(attacker, Some(&basic("prometheus:guess-0")))
                    .await,
                Verdict::Denied
            );
            // The right password from the throttled address passes once it
            // is known.
            assert_eq!(
                gate.check(attacker, Some(&basic("prometheus:s3cret")))
                    .await,
                Verdict::Allowed
            );
            assert_eq!(gate.check(attacker, None).await, Verdict::Denied);
        });
        std::thread::sleep(PEER_INTERVAL);
        run(async {
            assert_eq!(
                gate.check(attacker, Some(&basic("prometheus:guess-x")))
                    .await,
                Verdict::Denied
            );
            assert_eq!(
                gate.check(attacker, Some(&basic("prometheus:guess-y")))
                    .await,
                Verdict::Throttled
            );
        });
    }

    #[test]
    fn the_peer_table_is_bounded() {
        let gate = gate();
        let now = Instant::now();
        for i in 0..PEERS as u32 {
            assert_eq!(
                gate.take(IpAddr::V4((0x0a00_0000 + i).into()), now),
                Some(Standing::New)
            );
        }
        assert_eq!(gate.take("192.0.2.1".parse().unwrap(), now), None);
        assert!(gate
            .take("192.0.2.1".parse().unwrap(), now + PEER_INTERVAL)
            .is_some());
        assert!(gate.peers.lock().unwrap().len() <= PEERS);
    }

    #[test]
    fn a_check_that_never_failed_displaces_a_failing_peers_check_when_the_queue_is_full() {
        let gate = gate();
        let queue = Queue::default();
        let job = |n: usize| {
            let Recall::Unknown(claim) = gate.auth.recall(Some(&basic(&format!("u:{n}")))) else {
                panic!("new credentials are unknown");
            };
            let (reply, answer) = oneshot::channel();
            (Job { claim, reply }, answer)
        };
        let mut failing: Vec<_> = (0..QUEUE)
            .map(|n| {
                let (j, answer) = job(n);
                assert!(queue.push(j, Standing::Failing).is_ok());
                answer
            })
            .collect();
        // Full of failing peers' checks: another failing one is refused...
        assert!(queue.push(job(100).0, Standing::Failing).is_err());
        // ...a new peer's displaces the newest of them, and goes first.
        let (new, _answer) = job(101);
        assert!(queue.push(new, Standing::New).is_ok());
        let newest = failing.pop().unwrap();
        assert!(matches!(newest.blocking_recv(), Ok(Outcome::Displaced)));
        let (trusted, _answer) = job(102);
        assert!(queue.push(trusted, Standing::Trusted).is_ok());
        assert_eq!(
            queue.pop().claim.password(),
            "102",
            "the trusted peer first"
        );
        assert_eq!(queue.pop().claim.password(), "101", "then the new peer");
        // A full queue of the same standing has nothing to displace.
        let jobs = queue.jobs.lock().unwrap();
        assert_eq!(jobs[Standing::Failing as usize].len(), QUEUE - 2);
    }
}
