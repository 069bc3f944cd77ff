//! Basic auth that a flood of wrong passwords cannot turn against the host.
//!
//! bcrypt is made to be slow (milliseconds a check), so every check that
//! runs is work an unauthenticated client makes us do. Here:
//!
//! * Credentials that verified, or failed, once are answered from a cache:
//!   repeating a wrong password costs no second bcrypt.
//! * A peer (an address, or an IPv6 /64) gets at most one *failed* bcrypt
//!   per [`PEER_INTERVAL`], after a burst of [`PEER_BURST`] (so one
//!   Prometheus with a few jobs and passwords starts without a refusal);
//!   new credentials beyond that are answered 429 with `Retry-After` at
//!   once. Credentials that verify give their check back, and credentials
//!   verified before are never throttled, so the scraper keeps working
//!   while a neighbour guesses.
//! * bcrypt runs on a thread of its own, never on the render thread, from a
//!   queue of [`QUEUE`] checks; a full queue answers 503 at once. Checks
//!   from peers with no recent failure go first, so a new scraper waits
//!   behind the check running and one first check per other quiet peer,
//!   never behind a guesser's burst. A check whose client has gone away is
//!   skipped.

use super::admission::peer_key;
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
    /// 503: the bcrypt queue is full.
    Busy,
}

struct Job {
    claim: crate::export::web_config::Claim,
    reply: oneshot::Sender<bool>,
}

/// The bcrypt thread's work: checks of peers without a recent failure
/// first, then the others.
#[derive(Default)]
struct Queue {
    jobs: Mutex<[VecDeque<Job>; 2]>,
    ready: Condvar,
}

impl Queue {
    /// Adds `job` unless [`QUEUE`] checks wait already.
    fn push(&self, job: Job, suspect: bool) -> bool {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if jobs[0].len() + jobs[1].len() >= QUEUE {
            return false;
        }
        jobs[usize::from(suspect)].push_back(job);
        self.ready.notify_one();
        true
    }

    fn pop(&self) -> Job {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = jobs[0].pop_front().or_else(|| jobs[1].pop_front()) {
                return job;
            }
            jobs = self.ready.wait(jobs).unwrap_or_else(|e| e.into_inner());
        }
    }
}

pub(super) struct AuthGate {
    auth: Arc<BasicAuth>,
    queue: Arc<Queue>,
    /// Each peer's checks left: (tokens, when last refilled).
    budgets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl AuthGate {
    /// Starts the bcrypt thread.
    pub(super) fn start(auth: Arc<BasicAuth>) -> std::io::Result<Arc<Self>> {
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
                    let _ = job.reply.send(ok);
                }
            })?;
        Ok(Arc::new(AuthGate {
            auth,
            queue,
            budgets: Mutex::new(HashMap::new()),
        }))
    }

    pub(super) async fn check(&self, peer: IpAddr, header: Option<&[u8]>) -> Verdict {
        let claim = match self.auth.recall(header) {
            Recall::Verified => return Verdict::Allowed,
            Recall::Rejected => return Verdict::Denied,
            Recall::Unknown(claim) => claim,
        };
        let Some(suspect) = self.take(peer, Instant::now()) else {
            return Verdict::Throttled;
        };
        let (reply, answer) = oneshot::channel();
        if !self.queue.push(Job { claim, reply }, suspect) {
            // Nothing was checked: the peer keeps its budget.
            self.give_back(peer);
            return Verdict::Busy;
        }
        match answer.await {
            Ok(true) => {
                self.give_back(peer);
                Verdict::Allowed
            }
            Ok(false) => Verdict::Denied,
            Err(_) => Verdict::Busy,
        }
    }

    /// Takes one check from `peer`'s budget, if it has one left: whether
    /// the peer failed recently (its budget is not full), or `None`.
    fn take(&self, peer: IpAddr, now: Instant) -> Option<bool> {
        let key = peer_key(peer);
        let mut budgets = self.budgets.lock().unwrap_or_else(|e| e.into_inner());
        if budgets.len() >= PEERS && !budgets.contains_key(&key) {
            budgets.retain(|_, b| refill(b, now) < PEER_BURST);
            if budgets.len() >= PEERS {
                // As many peers guessing at once as we remember: the one
                // bcrypt thread is the limit now, so refuse the newcomer.
                return None;
            }
        }
        let budget = budgets.entry(key).or_insert((PEER_BURST, now));
        let tokens = refill(budget, now);
        if tokens < 1.0 {
            return None;
        }
        budget.0 -= 1.0;
        Some(tokens < PEER_BURST)
    }

    /// Gives back the check of credentials that verified.
    fn give_back(&self, peer: IpAddr) {
        let mut budgets = self.budgets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(budget) = budgets.get_mut(&peer_key(peer)) {
            budget.0 = (budget.0 + 1.0).min(PEER_BURST);
        }
    }
}

/// Adds what `budget` earned since its last refill; returns its tokens.
fn refill(budget: &mut (f64, Instant), now: Instant) -> f64 {
    let earned = now.duration_since(budget.1).as_secs_f64() / PEER_INTERVAL.as_secs_f64();
    *budget = ((budget.0 + earned).min(PEER_BURST), now);
    budget.0
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
        AuthGate::start(config.auth.unwrap()).unwrap()
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
                Some(false)
            );
        }
        assert_eq!(gate.take("192.0.2.1".parse().unwrap(), now), None);
        assert!(gate
            .take("192.0.2.1".parse().unwrap(), now + PEER_INTERVAL)
            .is_some());
        assert!(gate.budgets.lock().unwrap().len() <= PEERS);
    }
}
