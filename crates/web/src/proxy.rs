//! Which client a request comes from: the connection's peer, or, behind a trusted proxy
//! (`--trusted-proxy`, an address or a CIDR range), the address that proxy saw, from
//! `X-Forwarded-For` read from the right.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A proxy (or range of proxies) whose `X-Forwarded-For` names the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy(IpNet);

/// A `--trusted-proxy` that is neither an address nor a range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an address or a range (give e.g. 127.0.0.1, ::1 or 10.0.0.0/8)")]
pub struct NotAProxy(String);

impl FromStr for TrustedProxy {
    type Err = NotAProxy;

    /// `127.0.0.1`, `::1`, `10.0.0.0/8` or `fd00::/8`.
    fn from_str(s: &str) -> Result<TrustedProxy, NotAProxy> {
        let s = s.trim();
        let net = match s.parse::<IpNet>() {
            Ok(n) => n.trunc(),
            Err(_) => s
                .parse::<IpAddr>()
                .map(|a| IpNet::from(a.to_canonical()))
                .map_err(|_| NotAProxy(s.to_string()))?,
        };
        Ok(TrustedProxy(net))
    }
}

impl std::fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn trusted(ip: IpAddr, proxies: &[TrustedProxy]) -> bool {
    let ip = ip.to_canonical();
    proxies.iter().any(|p| p.0.contains(&ip))
}

/// The client a request comes from: the connection's peer, or, when the peer is one of the
/// `trusted` proxies, the first address from the right of `X-Forwarded-For` that is not itself
/// a trusted proxy (each proxy appends the address it was reached from, so everything left of
/// that is whatever the client chose to write). An entry that is not an address (`unknown`, an
/// obfuscated name) stops the walk: the client is then the peer. `X-Forwarded-For` from anyone
/// else is ignored. Addresses are compared unmapped (`::ffff:127.0.0.1` is `127.0.0.1`).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, proxies: &[TrustedProxy]) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted(peer, proxies) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.into_iter().rev() {
        match forwarded_ip(entry) {
            Some(ip) if trusted(ip, proxies) => continue,
            Some(ip) => return ip,
            None => return peer,
        }
    }
    peer
}

/// One `X-Forwarded-For` entry as an address: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:443` (the port, if any, dropped); anything else is `None`.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    if let Ok(ip) = e.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = e.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok
            .then(|| v6.parse::<Ipv6Addr>().ok())
            .flatten()
            .map(|a| IpAddr::V6(a).to_canonical());
    }
    let (v4, port) = e.split_once(':')?;
    (is_port(port))
        .then(|| v4.parse::<Ipv4Addr>().ok())
        .flatten()
        .map(IpAddr::V4)
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter().map(|p| p.parse().unwrap()).collect()
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let h = xff("203.0.113.9, 10.0.0.2");
        let proxy = ip("127.0.0.1");
        assert_eq!(client_address(proxy, &h, &[]), proxy);
        assert_eq!(
            client_address(proxy, &h, &proxies(&["127.0.0.1"])),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(proxy, &h, &proxies(&["127.0.0.1", "10.0.0.2"])),
            ip("203.0.113.9")
        );
        // Ranges, and IPv4-mapped peers and entries.
        let both = proxies(&["127.0.0.0/8", "10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &h, &both),
            ip("203.0.113.9")
        );
        let mapped = xff("::ffff:203.0.113.9, ::ffff:10.0.0.2");
        assert_eq!(
            client_address(ip("127.0.0.1"), &mapped, &both),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &h, &proxies(&["127.0.0.1"])),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("::1"), &h, &proxies(&["::1"])),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn the_walk_stops_at_the_first_untrusted_entry_and_strips_ports() {
        let p = proxies(&["127.0.0.1"]);
        let lo = ip("127.0.0.1");
        for (v, want) in [
            ("198.51.100.1, 203.0.113.5:4711", "203.0.113.5"),
            ("198.51.100.1, [2001:db8::7]:443", "2001:db8::7"),
            ("198.51.100.1, [2001:db8::7]", "2001:db8::7"),
            ("198.51.100.1, 2001:db8::7", "2001:db8::7"),
            // Not an address: the client is unknown, so it is the proxy itself, never an
            // entry left of it (which the client wrote).
            ("198.51.100.1, unknown", "127.0.0.1"),
            ("198.51.100.1, 203.0.113.5:x", "127.0.0.1"),
            ("198.51.100.1, [2001:db8::7", "127.0.0.1"),
            ("198.51.100.1, 203.0.113.5:4711:1", "127.0.0.1"),
            ("198.51.100.1, ", "127.0.0.1"),
            ("198.51.100.1, 127.0.0.1, 127.0.0.1:80", "198.51.100.1"),
        ] {
            assert_eq!(client_address(lo, &xff(v), &p), ip(want), "{v}");
        }
        assert_eq!(client_address(lo, &HeaderMap::new(), &p), lo);
        // Two headers read as one list, in order.
        let mut h = xff("203.0.113.1");
        h.append("x-forwarded-for", "203.0.113.2".parse().unwrap());
        assert_eq!(client_address(lo, &h, &p), ip("203.0.113.2"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        assert_eq!(
            "10.1.2.3/8".parse::<TrustedProxy>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            "::ffff:127.0.0.1"
                .parse::<TrustedProxy>()
                .unwrap()
                .to_string(),
            "127.0.0.1/32"
        );
        for bad in ["", "localhost", "10.0.0.0/33", "1.2.3.4:80"] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
    }
}
