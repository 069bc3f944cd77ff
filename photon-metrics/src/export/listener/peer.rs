//! Who a client is, for every per-peer limit, share and standing of the
//! listener: its address, or its /64 for IPv6 (one host is given a /64,
//! so counting addresses inside it would hand an attacker 2^64 peers).

use std::net::IpAddr;

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
