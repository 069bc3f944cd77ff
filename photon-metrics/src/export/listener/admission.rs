//! Who gets a connection slot, decided the moment a connection is accepted,
//! before a byte is read or a TLS handshake is spent on it; and, at the
//! limit, which connection makes room.
//!
//! * A peer outside the allowlist never takes a slot: it gets a canned 403
//!   (plain HTTP, from a small budget of its own) or is closed at once.
//! * One peer holds at most `max_per_peer` slots ([`DEFAULT_PER_PEER`]:
//!   a scraper keeps one keep-alive connection per job), so a host cannot
//!   fill the table alone. IPv6 peers are counted by their /64, the block
//!   one host is usually given.
//! * One peer opens at most `rate` new connections a second after a burst
//!   of `burst`; faster ones are closed at accept, for the price of an
//!   `accept` and a `close`, so a connect-request-close flood cannot fill
//!   the accept queue in front of the scraper.
//! * All strangers together (peers not trusted) open at most
//!   [`STRANGERS_RATE`] connections a second: past it they are closed at
//!   accept, so an attacker with hundreds of addresses, each within its
//!   own rate, still cannot keep the listener thread busy with
//!   connections in front of the scraper's. Trusted peers are not
//!   counted, nor is a quiet peer's connection (within [`QUIET`]: a new
//!   scraper's first connections), so the flood cannot refuse a scraper
//!   that has not scraped yet; 199 addresses staying quiet open at most
//!   about 400 connections a second.
//! * **At the limit, a newcomer makes room instead of being turned away.**
//!   The connection closed is the cheapest one ([`activity`](super::activity)):
//!   the oldest that has not sent a complete request, then the longest
//!   idle keep-alive, then the longest stalled writer; a connection being
//!   served is never closed. A connection nobody is using therefore never
//!   costs a scraper its slot, however many addresses hold them.
//! * **Trusted peers** ([`trust`](super::trust): read a whole scrape
//!   recently) keep `reserved` slots strangers cannot fill
//!   ([`reserved_for`]), and their connections are closed only when no
//!   stranger's can be.
//! * Past the limit with every connection being served, a newcomer is
//!   closed as soon as it is accepted, never queued.
//!
//! Peers are remembered in a table of at most [`PEERS`] entries; when it is
//! full of active peers, a newcomer is admitted without a rate (never shut
//! out) and only the total limit applies to it.

use super::activity::{millis, Activity, Tier};
use super::bucket::{Bucket, Rate};
use super::peer::peer_key;
use super::trust::Trust;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many denied peers may be answered 403 at once; beyond it they are
/// closed without an answer. Each costs one small read and one write.
pub(super) const DENIED_BUDGET: usize = 32;

/// Peers remembered at most.
pub(super) const PEERS: usize = 4096;

/// Slots one peer may hold by default. Prometheus keeps one keep-alive
/// connection per scrape job and target, so a peer with eight jobs on one
/// listener still fits; an attacker needs `max_connections / 8` addresses
/// before the table is full, and from there each of its connections only
/// displaces another of its own unproven or idle ones.
pub(super) const DEFAULT_PER_PEER: usize = 8;

/// The slots kept for trusted peers out of `max_total`: an eighth (64 of
/// the default 512), at least one.
pub(super) fn reserved_for(max_total: usize) -> usize {
    (max_total / 8).max(1).min(max_total.saturating_sub(1))
}

/// New connections a second from all strangers together (and the burst
/// after a quiet time): far above what any number of scrapers opens,
/// and about a fifth of what the listener thread can serve a second with
/// a 1 MB body.
pub(super) const STRANGERS_RATE: Rate = Rate {
    per_second: 1000.0,
    burst: 1000.0,
};

/// What a peer may open a second, and at once, without counting against
/// [`STRANGERS_RATE`]: a Prometheus starting with a few jobs.
pub(super) const QUIET: Rate = Rate {
    per_second: 2.0,
    burst: 8.0,
};

/// How fast one peer may open connections by default.
pub(crate) const DEFAULT_CONNECTION_RATE: Rate = Rate {
    per_second: 100.0,
    burst: 300.0,
};

/// What is known of one peer.
struct Peer {
    held: usize,
    /// Within the per-peer connection rate.
    tokens: Bucket,
    /// Within [`QUIET`].
    quiet: Bucket,
}

/// One connection in the table.
struct Conn {
    /// Unique for the listener's life: a slab key is reused, an id never.
    id: u64,
    /// The peer it is counted under; `None` when the peer table was full.
    peer: Option<IpAddr>,
    /// Admitted as a trusted peer's (counted against the whole table, not
    /// the strangers' part).
    trusted: bool,
    activity: Arc<Activity>,
}

/// The decision for one accepted connection.
pub(super) enum Admission {
    /// Serve it; the slot is given back on drop.
    Serve(Slot),
    /// Outside the allowlist: answer 403 with this permit, then close.
    Deny(DeniedPermit),
    /// Outside the allowlist and the 403 budget is spent: close at once.
    DenyQuietly,
    /// The limit is reached and every connection is being served.
    OverCap,
    /// This peer already holds its share of the slots.
    OverPeerCap,
    /// This peer opens connections faster than its rate.
    OverRate,
}

struct Table {
    peers: HashMap<IpAddr, Peer>,
    /// All strangers' connection rate.
    strangers_rate: Bucket,
    conns: slab::Slab<Conn>,
    next: u64,
    /// Connections admitted as strangers'.
    strangers: usize,
}

pub(super) struct Admissions {
    allow: Vec<IpNet>,
    max_total: usize,
    max_per_peer: usize,
    reserved: usize,
    rate: Rate,
    /// [`STRANGERS_RATE`], other in tests.
    strangers_limit: Rate,
    trust: Arc<Trust>,
    epoch: Instant,
    denied: AtomicUsize,
    /// Connections closed to make room, for the log and tests.
    evictions: AtomicU64,
    table: Mutex<Table>,
}

impl Admissions {
    pub(super) fn new(
        allow: Vec<IpNet>,
        max_total: usize,
        max_per_peer: usize,
        rate: Rate,
        trust: Arc<Trust>,
    ) -> Arc<Self> {
        let max_total = max_total.max(1);
        Arc::new(Admissions {
            allow,
            max_total,
            max_per_peer: max_per_peer.max(1),
            reserved: reserved_for(max_total),
            rate,
            strangers_limit: STRANGERS_RATE,
            trust,
            epoch: Instant::now(),
            denied: AtomicUsize::new(0),
            evictions: AtomicU64::new(0),
            table: Mutex::new(Table {
                peers: HashMap::new(),
                strangers_rate: Bucket::full(STRANGERS_RATE, Instant::now()),
                conns: slab::Slab::new(),
                next: 0,
                strangers: 0,
            }),
        })
    }

    /// Connections being served now.
    #[cfg(test)]
    pub(super) fn active(&self) -> usize {
        self.lock().conns.len()
    }

    /// Connections closed to make room so far.
    pub(super) fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
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
        let trusted = self.trust.trusted(peer);
        let key = peer_key(peer);
        let now = Instant::now();
        let mut table = self.lock();
        let table = &mut *table;
        if table.peers.len() >= PEERS && !table.peers.contains_key(&key) {
            let rate = self.rate;
            table
                .peers
                .retain(|_, p| p.held > 0 || p.tokens.refill(now, rate) < rate.burst);
        }
        let counted = table.peers.len() < PEERS || table.peers.contains_key(&key);
        let mut quiet = false;
        if counted {
            let p = table.peers.entry(key).or_insert(Peer {
                held: 0,
                tokens: Bucket::full(self.rate, now),
                quiet: Bucket::full(QUIET, now),
            });
            if p.held >= self.max_per_peer {
                return Admission::OverPeerCap;
            }
            if p.tokens.refill(now, self.rate) < 1.0 {
                return Admission::OverRate;
            }
            quiet = p.quiet.refill(now, QUIET) >= 1.0;
        }
        if !trusted && !quiet && table.strangers_rate.refill(now, self.strangers_limit) < 1.0 {
            return Admission::OverRate;
        }
        let full = if trusted {
            table.conns.len() >= self.max_total
        } else {
            table.conns.len() >= self.max_total || table.strangers >= self.max_total - self.reserved
        };
        if full && !self.make_room(table, trusted) {
            return Admission::OverCap;
        }
        if counted {
            let p = table.peers.get_mut(&key).expect("entered above");
            p.tokens.spend();
            if quiet {
                p.quiet.spend();
            }
            p.held += 1;
        }
        if !trusted && !quiet {
            table.strangers_rate.spend();
        }
        let id = table.next;
        table.next += 1;
        let activity = Activity::new(self.epoch, trusted);
        let entry = table.conns.insert(Conn {
            id,
            peer: counted.then_some(key),
            trusted,
            activity: activity.clone(),
        });
        table.strangers += usize::from(!trusted);
        Admission::Serve(Slot {
            admissions: self.clone(),
            entry,
            id,
            activity,
        })
    }

    /// Closes the cheapest connection a newcomer may displace: a stranger
    /// displaces strangers only, a trusted peer strangers first. Whether
    /// one was found.
    fn make_room(&self, table: &mut Table, trusted: bool) -> bool {
        let now = millis(self.epoch);
        // A plain walk of the array: this runs for every newcomer at the
        // limit, so it is kept to loads and compares.
        let mut victim: Option<((bool, Tier, u64), usize)> = None;
        for (entry, c) in table.conns.iter() {
            if c.trusted && !trusted {
                continue;
            }
            let Some((tier, since)) = c.activity.closable(now) else {
                continue;
            };
            let order = (c.trusted || c.activity.trusted(), tier, since);
            if victim.is_none_or(|(best, _)| order < best) {
                victim = Some((order, entry));
            }
        }
        let Some(conn) = victim.and_then(|(_, entry)| table.remove_entry(entry)) else {
            return false;
        };
        conn.activity.evict();
        self.evictions.fetch_add(1, Ordering::Relaxed);
        true
    }
}

impl Table {
    /// Takes the connection at `entry` out of every count, if it is `id`
    /// (it is not when it was evicted and the entry reused).
    fn remove(&mut self, entry: usize, id: u64) -> Option<Conn> {
        if self.conns.get(entry).is_none_or(|c| c.id != id) {
            return None;
        }
        self.remove_entry(entry)
    }

    /// Takes the connection at `entry` out of every count.
    fn remove_entry(&mut self, entry: usize) -> Option<Conn> {
        let conn = self.conns.try_remove(entry)?;
        if let Some(p) = conn.peer.and_then(|key| self.peers.get_mut(&key)) {
            p.held = p.held.saturating_sub(1);
        }
        self.strangers -= usize::from(!conn.trusted);
        Some(conn)
    }
}

/// One connection's place under the caps, given back on drop.
pub(super) struct Slot {
    admissions: Arc<Admissions>,
    entry: usize,
    id: u64,
    activity: Arc<Activity>,
}

impl Slot {
    /// What the connection is doing, for its task to keep up to date.
    pub(super) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // Already gone when it was evicted.
        self.admissions.lock().remove(self.entry, self.id);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    impl Table {
        fn holds(&self, slot: &Slot) -> bool {
            self.conns.get(slot.entry).is_some_and(|c| c.id == slot.id)
        }
    }

    fn admissions(max_total: usize, per_peer: usize, rate: Rate) -> Arc<Admissions> {
        Admissions::new(Vec::new(), max_total, per_peer, rate, Arc::default())
    }

    fn serve(a: &Arc<Admissions>, peer: &str) -> Slot {
        match a.admit(ip(peer)) {
            Admission::Serve(s) => s,
            _ => panic!("{peer} was not admitted"),
        }
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
            DEFAULT_CONNECTION_RATE,
            Arc::default(),
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
        let a = admissions(10, 3, DEFAULT_CONNECTION_RATE);
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
        let rate = Rate {
            per_second: 10.0,
            burst: 5.0,
        };
        let a = admissions(1000, 1000, rate);
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
        let rate = Rate {
            per_second: 0.001,
            burst: 2.0,
        };
        let mut a = admissions(usize::MAX, 10, rate);
        Arc::get_mut(&mut a).unwrap().strangers_limit = Rate {
            per_second: f64::MAX,
            burst: f64::MAX,
        };
        let held: Vec<_> = (0..PEERS as u32)
            .map(|i| a.admit(IpAddr::V4((0x0a00_0000 + i).into())))
            .collect();
        assert!(held.iter().all(|h| matches!(h, Admission::Serve(_))));
        assert!(matches!(a.admit(ip("192.0.2.1")), Admission::Serve(_)));
        assert!(a.lock().peers.len() <= PEERS);
    }

    #[test]
    fn past_the_limit_a_newcomer_is_closed_only_when_every_connection_is_served() {
        // Three slots, one of them kept for trusted peers.
        let a = admissions(3, 3, DEFAULT_CONNECTION_RATE);
        let one = serve(&a, "127.0.0.1");
        one.activity().request_started();
        let two = serve(&a, "127.0.0.2");
        two.activity().request_started();
        assert!(matches!(a.admit(ip("127.0.0.3")), Admission::OverCap));
        assert_eq!(a.active(), 2);
        assert_eq!(a.evictions(), 0);
    }

    #[test]
    fn at_the_limit_the_oldest_unproven_connection_makes_room_then_idle_ones() {
        let pause = || std::thread::sleep(std::time::Duration::from_millis(5));
        // Room for four strangers.
        let a = admissions(5, 5, DEFAULT_CONNECTION_RATE);
        let served = serve(&a, "127.0.0.1");
        served.activity().request_started();
        let idle = serve(&a, "127.0.0.1");
        idle.activity().request_started();
        idle.activity().request_answered(None);
        let oldest = serve(&a, "127.0.0.3");
        pause();
        let newer = serve(&a, "127.0.0.4");
        pause();
        let newcomer = serve(&a, "127.0.0.5");
        assert_eq!(a.active(), 4, "the limit holds");
        assert_eq!(a.evictions(), 1);
        let gone = |slot: &Slot| !a.lock().holds(slot);
        assert!(gone(&oldest), "the oldest unproven went");
        assert!(!gone(&newer));
        // Unproven before idle, however long idle.
        let b = serve(&a, "127.0.0.6");
        assert!(gone(&newer));
        assert!(!gone(&idle));
        b.activity().request_started();
        newcomer.activity().request_started();
        let _c = serve(&a, "127.0.0.7");
        assert!(gone(&idle), "then the idle keep-alive");
        assert!(!gone(&served), "never one being served");
        assert_eq!(a.evictions(), 3);
        drop((oldest, newer));
        assert_eq!(a.active(), 4);
    }

    #[test]
    fn an_evicted_connection_dropped_late_leaves_its_successor_alone() {
        // Room for one stranger.
        let a = admissions(2, 2, DEFAULT_CONNECTION_RATE);
        let evicted = serve(&a, "127.0.0.1");
        let successor = serve(&a, "127.0.0.3");
        assert!(!a.lock().holds(&evicted));
        assert_eq!(evicted.entry, successor.entry, "the entry was reused");
        drop(evicted);
        assert!(a.lock().holds(&successor));
        assert_eq!(a.active(), 1);
    }

    #[test]
    fn strangers_cannot_fill_the_slots_reserved_for_trusted_peers() {
        let trust = Arc::new(Trust::default());
        let a = Admissions::new(Vec::new(), 16, 16, DEFAULT_CONNECTION_RATE, trust.clone());
        let reserved = reserved_for(16);
        let strangers: Vec<Slot> = (0..16 - reserved).map(|_| serve(&a, "127.0.0.1")).collect();
        for s in &strangers {
            s.activity().request_started();
        }
        // Every stranger's connection is being served: a stranger is refused...
        assert!(matches!(a.admit(ip("127.0.0.3")), Admission::OverCap));
        // ...a scraper that was answered before is not.
        trust.mark(ip("127.0.0.2"));
        let scraper: Vec<Slot> = (0..reserved).map(|_| serve(&a, "127.0.0.2")).collect();
        assert_eq!(a.active(), 16);
        // And strangers' unproven connections are closed before a trusted
        // peer's when trusted newcomers need room.
        let stranger_idle = &strangers[0];
        stranger_idle.activity().request_answered(None);
        let _more = serve(&a, "127.0.0.2");
        let table = a.lock();
        assert!(!table.holds(stranger_idle));
        assert!(scraper.iter().all(|s| table.holds(s)));
    }

    #[test]
    fn all_strangers_together_have_one_rate_and_trusted_peers_are_not_counted() {
        let trust = Arc::new(Trust::default());
        let a = Admissions::new(
            Vec::new(),
            10_000,
            8,
            DEFAULT_CONNECTION_RATE,
            trust.clone(),
        );
        // 200 addresses, each past its quiet allowance: a flood.
        let peer = |i: u32| IpAddr::V4((0x0a00_0000 + i % 200).into());
        for i in 0..200 * QUIET.burst as u32 {
            assert!(matches!(a.admit(peer(i)), Admission::Serve(_)));
        }
        let mut held = Vec::new();
        let refused = (0..2 * STRANGERS_RATE.burst as u32).find(|i| match a.admit(peer(*i)) {
            Admission::Serve(slot) => {
                held.push(slot);
                false
            }
            Admission::OverRate => true,
            _ => panic!("only the rate refuses here"),
        });
        // The burst, and what the rate refilled while the loop ran.
        let admitted = refused.expect("the strangers' rate refuses some") as f64;
        assert!(
            (STRANGERS_RATE.burst..STRANGERS_RATE.burst + 100.0).contains(&admitted),
            "{admitted} strangers admitted at once"
        );
        // A quiet newcomer (a scraper's first connection) is not counted.
        assert!(matches!(a.admit(ip("127.0.0.3")), Admission::Serve(_)));
        trust.mark(ip("127.0.0.2"));
        for _ in 0..2 * QUIET.burst as usize {
            assert!(matches!(a.admit(ip("127.0.0.2")), Admission::Serve(_)));
        }
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
