//! Which peers scraped us recently: the one thing that tells a scraper
//! from a stranger before it has sent a byte.
//!
//! A peer is *trusted* for [`TRUST_FOR`] after it read a whole scrape: a
//! 200 to a GET on the metrics path (after basic auth, where it is
//! configured) whose body was written out to it in full, which a slow
//! reader that only asks never reaches (see `activity`). Trusted peers
//! keep reserved connection slots ([`admission`](super::admission)), go
//! first for TLS handshakes ([`handshake`](super::handshake)) and for
//! bcrypt checks ([`auth`](super::auth)), and their connections are closed
//! last when room must be made.
//!
//! Without basic auth, trust is what any peer earns by reading a whole
//! scrape; with it, only a peer that knew a password. At most [`PEERS`]
//! are remembered; past that the one trusted longest ago is forgotten.

use super::peer::peer_key;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answered scrape keeps its peer trusted: longer than any
/// scrape interval in use (Prometheus allows up to 5 minutes).
pub(super) const TRUST_FOR: Duration = Duration::from_secs(600);

/// Trusted peers remembered at most: scrapers, not clients, so few.
pub(super) const PEERS: usize = 256;

/// Peers that read a whole scrape recently.
#[derive(Default)]
pub(super) struct Trust {
    peers: Mutex<HashMap<IpAddr, Instant>>,
}

impl Trust {
    /// `peer` just read a whole scrape.
    pub(super) fn mark(&self, peer: IpAddr) {
        let key = peer_key(peer);
        let now = Instant::now();
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if peers.len() >= PEERS && !peers.contains_key(&key) {
            peers.retain(|_, at| now.duration_since(*at) < TRUST_FOR);
            if peers.len() >= PEERS {
                let oldest = peers.iter().min_by_key(|(_, at)| **at).map(|(k, _)| *k);
                if let Some(oldest) = oldest {
                    peers.remove(&oldest);
                }
            }
        }
        peers.insert(key, now);
    }

    /// Whether `peer` read a whole scrape within [`TRUST_FOR`].
    pub(super) fn trusted(&self, peer: IpAddr) -> bool {
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers
            .get(&peer_key(peer))
            .is_some_and(|at| at.elapsed() < TRUST_FOR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_trusts_its_peer_and_its_64_and_the_table_is_bounded() {
        let trust = Trust::default();
        let scraper: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(!trust.trusted(scraper));
        trust.mark(scraper);
        assert!(trust.trusted(scraper));
        assert!(!trust.trusted("127.0.0.3".parse().unwrap()));
        trust.mark("2001:db8::1".parse().unwrap());
        assert!(trust.trusted("2001:db8::ffff".parse().unwrap()));
        for i in 0..PEERS as u32 * 2 {
            trust.mark(IpAddr::V4((0x0a00_0000 + i).into()));
        }
        assert!(trust.peers.lock().unwrap().len() <= PEERS);
        // The newest are kept, the oldest forgotten.
        assert!(trust.trusted(IpAddr::V4((0x0a00_0000 + PEERS as u32 * 2 - 1).into())));
        assert!(!trust.trusted(scraper));
    }
}
