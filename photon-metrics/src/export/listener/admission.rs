//! Who gets a connection slot, decided the moment a connection is accepted,
//! before a byte is read or a TLS handshake is spent on it.
//!
//! * A peer outside the allowlist never takes a slot: it gets a canned 403
//!   (plain HTTP, from a small budget of its own) or is closed at once.
//! * One peer holds at most `max_per_peer` slots (half the cap by default),
//!   so a single host that opens connections and never reads cannot take
//!   every slot from the scraper. IPv6 peers are counted by their /64, the
//!   block one host is usually given.
//! * One peer opens at most `rate` new connections a second after a burst
//!   of `burst`; faster ones are closed at accept, for the price of an
//!   `accept` and a `close`, so a connect-request-close flood cannot fill
//!   the accept queue in front of the scraper.
//! * Past the total cap, connections are closed as soon as they are
//!   accepted, never queued.
//!
//! Peers are remembered in a table of at most [`PEERS`] entries; when it is
//! full of active peers, a newcomer is admitted without a rate (never shut
//! out) and only the total cap applies to it.

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many denied peers may be answered 403 at once; beyond it they are
/// closed without an answer. Each costs one small read and one write.
pub(super) const DENIED_BUDGET: usize = 32;

/// Peers remembered at most.
pub(super) const PEERS: usize = 4096;

/// How fast one peer may open connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ConnectionRate {
    /// New connections a second, sustained.
    pub per_second: f64,
    /// New connections at once after a quiet time.
    pub burst: f64,
}

impl Default for ConnectionRate {
    fn default() -> Self {
        ConnectionRate {
            per_second: 100.0,
            burst: 300.0,
        }
    }
}

/// What is known of one peer.
struct Peer {
    held: usize,
    tokens: f64,
    refilled: Instant,
}

/// The decision for one accepted connection.
pub(super) enum Admission {
    /// Serve it; the slot is given back on drop.
    Serve(Slot),
    /// Outside the allowlist: answer 403 with this permit, then close.
    Deny(DeniedPermit),
    /// Outside the allowlist and the 403 budget is spent: close at once.
    DenyQuietly,
    /// The total cap is reached.
    OverCap,
    /// This peer already holds its share of the slots.
    OverPeerCap,
    /// This peer opens connections faster than its rate.
    OverRate,
}

pub(super) struct Admissions {
    allow: Vec<IpNet>,
    max_total: usize,
    max_per_peer: usize,
    rate: ConnectionRate,
    active: AtomicUsize,
    denied: AtomicUsize,
    peers: Mutex<HashMap<IpAddr, Peer>>,
}

impl Admissions {
    pub(super) fn new(
        allow: Vec<IpNet>,
        max_total: usize,
        max_per_peer: usize,
        rate: ConnectionRate,
    ) -> Arc<Self> {
        Arc::new(Admissions {
            allow,
            max_total: max_total.max(1),
            max_per_peer: max_per_peer.max(1),
            rate,
            active: AtomicUsize::new(0),
            denied: AtomicUsize::new(0),
            peers: Mutex::new(HashMap::new()),
        })
    }

    /// Connections being served now.
    #[cfg(test)]
    pub(super) fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    pub(super) fn admit(self: &Arc<Self>, peer: IpAddr) -> Admission {
        let peer = peer.to_canonical();
        if !allowed(&self.allow, peer) {
            return if self.denied.fetch_add(1, Ordering::Relaxed) < DENIED_BUDGET {
                Admission::Deny(DeniedPermit(self.clone()))
            } else {
                self.denied.fetch_sub(1, Ordering::Relaxed);
                Admission::DenyQuietly
            };
        }
        // Only the accept loop takes slots, so this check and the increment
        // below cannot race with another admission.
        if self.active.load(Ordering::Relaxed) >= self.max_total {
            return Admission::OverCap;
        }
        let key = peer_key(peer);
        let now = Instant::now();
        let counted = {
            let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
            if peers.len() >= PEERS && !peers.contains_key(&key) {
                let rate = self.rate;
                peers.retain(|_, p| p.held > 0 || p.refill(now, rate) < rate.burst);
            }
            if peers.len() < PEERS || peers.contains_key(&key) {
                let p = peers.entry(key).or_insert(Peer {
                    held: 0,
                    tokens: self.rate.burst,
                    refilled: now,
                });
                if p.held >= self.max_per_peer {
                    return Admission::OverPeerCap;
                }
                if p.refill(now, self.rate) < 1.0 {
                    return Admission::OverRate;
                }
                p.tokens -= 1.0;
                p.held += 1;
                true
            } else {
                false
            }
        };
        self.active.fetch_add(1, Ordering::Relaxed);
        Admission::Serve(Slot {
            admissions: self.clone(),
            key: counted.then_some(key),
        })
    }
}

/// One connection's place under the caps, given back on drop.
pub(super) struct Slot {
    admissions: Arc<Admissions>,
    /// The peer it is counted under; `None` when the table was full.
    key: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut peers = self
            .admissions
            .peers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(p) = self.key.and_then(|key| peers.get_mut(&key)) {
            p.held = p.held.saturating_sub(1);
        }
        drop(peers);
        self.admissions.active.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Peer {
    /// Adds the tokens earned since the last refill; returns the tokens.
    fn refill(&mut self, now: Instant, rate: ConnectionRate) -> f64 {
        let earned = now.duration_since(self.refilled).as_secs_f64() * rate.per_second;
        self.tokens = (self.tokens + earned).min(rate.burst);
        self.refilled = now;
        self.tokens
    }
}

/// A place in the 403 budget, given back on drop.
pub(super) struct DeniedPermit(Arc<Admissions>);

impl Drop for DeniedPermit {
    fn drop(&mut self) {
        self.0.denied.fetch_sub(1, Ordering::Relaxed);
    }
}

fn allowed(allow: &[IpNet], ip: IpAddr) -> bool {
    allow.is_empty() || allow.iter().any(|net| net.contains(&ip))
}

/// The key one host is counted under: its address, or its /64 for IPv6.
pub(super) fn peer_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allowlist_matches_networks_and_mapped_addresses() {
        let allow: Vec<IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        assert!(allowed(&allow, ip("127.0.0.1")));
        assert!(allowed(&allow, ip("::ffff:127.0.0.1").to_canonical()));
        assert!(allowed(&allow, ip("10.2.3.4")));
        assert!(!allowed(&allow, ip("127.0.0.2")));
        assert!(allowed(&[], ip("192.0.2.1")));
    }

    #[test]
    fn denied_peers_never_take_a_slot() {
        let a = Admissions::new(
            vec!["127.0.0.2/32".parse().unwrap()],
            4,
            4,
            ConnectionRate::default(),
        );
        let mut held = Vec::new();
        for _ in 0..DENIED_BUDGET {
            match a.admit(ip("127.0.0.1")) {
                Admission::Deny(p) => held.push(p),
                _ => panic!("a denied peer within the budget gets a 403"),
            }
        }
        assert!(matches!(a.admit(ip("127.0.0.1")), Admission::DenyQuietly));
        assert_eq!(a.active(), 0);
        assert!(matches!(a.admit(ip("127.0.0.2")), Admission::Serve(_)));
        drop(held);
        assert!(matches!(a.admit(ip("127.0.0.1")), Admission::Deny(_)));
    }

    #[test]
    fn one_peer_holds_at_most_its_share_and_gives_it_back() {
        let a = Admissions::new(Vec::new(), 10, 3, ConnectionRate::default());
        let slots: Vec<_> = (0..3)
            .map(|_| match a.admit(ip("127.0.0.1")) {
                Admission::Serve(s) => s,
                _ => panic!("within the peer's share"),
            })
            .collect();
        assert!(matches!(a.admit(ip("127.0.0.1")), Admission::OverPeerCap));
        assert!(matches!(a.admit(ip("127.0.0.2")), Admission::Serve(_)));
        drop(slots);
        assert_eq!(a.active(), 0);
        assert!(matches!(a.admit(ip("127.0.0.1")), Admission::Serve(_)));
    }

    #[test]
    fn a_peer_faster_than_its_rate_is_closed_and_others_are_not() {
        let rate = ConnectionRate {
            per_second: 10.0,
            burst: 5.0,
        };
        let a = Admissions::new(Vec::new(), 1000, 1000, rate);
        for _ in 0..5 {
            assert!(matches!(a.admit(ip("127.0.0.1")), Admission::Serve(_)));
        }
        assert!(matches!(a.admit(ip("127.0.0.1")), Admission::OverRate));
        assert!(matches!(a.admit(ip("127.0.0.2")), Admission::Serve(_)));
        std::thread::sleep(std::time::Duration::from_millis(150));
        assert!(matches!(a.admit(ip("127.0.0.1")), Admission::Serve(_)));
    }

    #[test]
    fn the_peer_table_is_bounded_and_never_shuts_a_newcomer_out() {
        let rate = ConnectionRate {
            per_second: 0.001,
            burst: 2.0,
        };
        let a = Admissions::new(Vec::new(), usize::MAX, 10, rate);
        let held: Vec<_> = (0..PEERS as u32)
            .map(|i| a.admit(IpAddr::V4((0x0a00_0000 + i).into())))
            .collect();
        assert!(held.iter().all(|h| matches!(h, Admission::Serve(_))));
        assert!(matches!(a.admit(ip("192.0.2.1")), Admission::Serve(_)));
        assert!(a.peers.lock().unwrap().len() <= PEERS);
    }

    #[test]
    fn the_total_cap_holds_across_peers() {
        let a = Admissions::new(Vec::new(), 2, 2, ConnectionRate::default());
        let _one = a.admit(ip("127.0.0.1"));
        let _two = a.admit(ip("127.0.0.2"));
        assert!(matches!(a.admit(ip("127.0.0.3")), Admission::OverCap));
    }

    #[test]
    fn ipv6_hosts_are_counted_by_their_64() {
        assert_eq!(
            peer_key(ip("2001:db8:1:2:aaaa::1")),
            peer_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            peer_key(ip("2001:db8:1:2::1")),
            peer_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(peer_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    }
}
