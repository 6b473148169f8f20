//! The sign-in throttle: how many passwords may be checked for one e-mail from one client, from
//! one client whatever the e-mail, and for one e-mail from everywhere. An attempt is charged
//! *before* its (slow) Argon2 check, in the same critical section as the check of the limits, so
//! that however many requests arrive at once no more passwords are checked than the limits allow.
//!
//! Design (and its trade-off): a guesser at one address gets [`Throttle::PAIR_LIMIT`] tries per
//! e-mail and [`Throttle::CLIENT_LIMIT`] in all per window, and locks out only *that address*
//! for that e-mail: the staff member signs in from anywhere else as usual. A guesser with many
//! addresses is slowed per e-mail: after [`Throttle::EMAIL_FREE`] failures from all addresses,
//! each further attempt on that e-mail must wait twice as long as the one before (up to
//! [`Throttle::MAX_DELAY`]), remembered for [`Throttle::EMAIL_MEMORY`]. That bounds distributed
//! guessing to about a hundred tries a day per e-mail, at the price that, during such an attack,
//! the real staff member is slowed too (never locked out for good). The state is in memory: it is
//! per console process, and a restart forgets it.

use axum::http::HeaderMap;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum Key {
    /// One e-mail from one client: the guessing limit.
    Pair(String, IpAddr),
    /// One client, whatever the e-mail (one address trying many e-mails).
    Client(IpAddr),
    /// One e-mail from every client (a guesser with many addresses): slowed, never locked.
    Email(String),
}

struct Entry {
    failures: u32,
    last: Instant,
}

/// The sign-in throttle of one console process.
#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<Key, Entry>>,
}

#[derive(Debug)]
/// A charged attempt: hand it back with [`Throttle::succeeded`] when the password was right.
#[must_use]
pub struct Attempt {
    keys: [Key; 3],
}

impl Throttle {
    /// Failed sign-ins per e-mail from one client address within [`Throttle::WINDOW`].
    pub const PAIR_LIMIT: u32 = 5;
    /// Failed sign-ins from one client address, whatever the e-mail, within the window.
    pub const CLIENT_LIMIT: u32 = 20;
    /// Failed sign-ins per e-mail from all clients before each attempt on it is delayed.
    pub const EMAIL_FREE: u32 = 30;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// The longest delay between two attempts on one e-mail.
    pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
    /// How long the failures of an e-mail are remembered after its last one.
    pub const EMAIL_MEMORY: Duration = Duration::from_secs(24 * 3600);
    /// Entries kept at most (an address makes at most 2 × CLIENT_LIMIT + 1).
    const MAX_ENTRIES: usize = 100_000;

    /// Charges an attempt to sign in as `email` from `client`, or says how long to wait. Call it
    /// before checking the password.
    pub fn attempt(&self, email: &str, client: IpAddr) -> Result<Attempt, Duration> {
        let keys = keys(email, client);
        let now = Instant::now();
        let mut m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let wait = keys
            .iter()
            .filter_map(|k| m.get(k).map(|e| e.wait(k, now)))
            .max()
            .unwrap_or_default();
        if !wait.is_zero() {
            return Err(wait);
        }
        if m.len() + keys.len() > Self::MAX_ENTRIES {
            m.retain(|k, e| now.duration_since(e.last) < memory(k));
            if m.len() + keys.len() > Self::MAX_ENTRIES {
                return Err(Duration::from_secs(60));
            }
        }
        for k in &keys {
            let e = m.entry(k.clone()).or_insert(Entry {
                failures: 0,
                last: now,
            });
            if now.duration_since(e.last) >= memory(k) {
                e.failures = 0;
            }
            e.failures += 1;
            e.last = now;
        }
        Ok(Attempt { keys })
    }

    /// The password was right: the attempt is given back, and this client's failures for this
    /// e-mail are forgotten.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for k in attempt.keys {
            match k {
                Key::Pair(..) => {
                    m.remove(&k);
                }
                _ => {
                    if let Some(e) = m.get_mut(&k) {
                        e.failures = e.failures.saturating_sub(1);
                    }
                }
            }
        }
    }
}

impl Entry {
    /// How long `key` must wait before its next attempt (zero: go).
    fn wait(&self, key: &Key, now: Instant) -> Duration {
        let age = now.duration_since(self.last);
        if age >= memory(key) {
            return Duration::ZERO;
        }
        match key {
            Key::Pair(..) if self.failures >= Throttle::PAIR_LIMIT => Throttle::WINDOW - age,
            Key::Client(_) if self.failures >= Throttle::CLIENT_LIMIT => Throttle::WINDOW - age,
            Key::Email(_) if self.failures >= Throttle::EMAIL_FREE => {
                let over = self.failures - Throttle::EMAIL_FREE;
                let delay = Duration::from_secs(1u64 << over.min(16)).min(Throttle::MAX_DELAY);
                delay.saturating_sub(age)
            }
            _ => Duration::ZERO,
        }
    }
}

fn memory(key: &Key) -> Duration {
    match key {
        Key::Email(_) => Throttle::EMAIL_MEMORY,
        _ => Throttle::WINDOW,
    }
}

fn keys(email: &str, client: IpAddr) -> [Key; 3] {
    // No staff e-mail is longer (`upsert_staff` refuses them): longer ones cost no more memory.
    let email: String = email.trim().to_lowercase().chars().take(254).collect();
    let client = client_key(client);
    [
        Key::Pair(email.clone(), client),
        Key::Client(client),
        Key::Email(email),
    ]
}

/// An address as the throttle counts it: an IPv6 client by its /64 (one host usually has a
/// whole /64), an IPv4-mapped IPv6 address as IPv4.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The client a request comes from: the connection's peer, or, when the peer is one of the
/// `trusted` proxies (`--trusted-proxy`), the right-most `X-Forwarded-For` address that is not
/// itself a trusted proxy. `X-Forwarded-For` from anyone else is ignored: it is whatever the
/// client chose to write.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parallel_attempts_are_charged_before_they_are_checked() {
        let t = Arc::new(Throttle::default());
        let granted: usize = (0..64)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || t.attempt("a@x.org", ip("192.0.2.1")).is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap() as usize)
            .sum();
        assert_eq!(granted, Throttle::PAIR_LIMIT as usize);
        // Another client is not locked out of that e-mail.
        assert!(t.attempt("A@x.org ", ip("192.0.2.2")).is_ok());
    }

    #[test]
    fn a_right_password_gives_its_attempt_back() {
        let t = Throttle::default();
        for _ in 0..Throttle::PAIR_LIMIT - 1 {
            let _ = t.attempt("a@x.org", ip("192.0.2.1")).unwrap();
        }
        t.succeeded(t.attempt("a@x.org", ip("192.0.2.1")).unwrap());
        for _ in 0..Throttle::PAIR_LIMIT {
            let _ = t.attempt("a@x.org", ip("192.0.2.1")).unwrap();
        }
        assert!(t.attempt("a@x.org", ip("192.0.2.1")).is_err());
    }

    #[test]
    fn one_client_cannot_spray_and_many_clients_are_slowed() {
        let t = Throttle::default();
        for i in 0..Throttle::CLIENT_LIMIT {
            let _ = t.attempt(&format!("u{i}@x.org"), ip("192.0.2.1")).unwrap();
        }
        assert!(t.attempt("other@x.org", ip("192.0.2.1")).is_err());
        assert!(t.attempt("other@x.org", ip("192.0.2.9")).is_ok());
        // An e-mail guessed from many addresses: free up to EMAIL_FREE, then delayed.
        for i in 0..Throttle::EMAIL_FREE {
            let _ = t
                .attempt("b@x.org", IpAddr::from([198, 51, 100, i as u8]))
                .unwrap();
        }
        let wait = t.attempt("b@x.org", ip("203.0.113.1")).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let proxy = ip("127.0.0.1");
        assert_eq!(client_address(proxy, &h, &[]), proxy);
        assert_eq!(client_address(proxy, &h, &[proxy]), ip("10.0.0.2"));
        assert_eq!(
            client_address(proxy, &h, &[proxy, ip("10.0.0.2")]),
            ip("203.0.113.9")
        );
        assert_eq!(client_key(ip("2001:db8::1")), client_key(ip("2001:db8::2")));
        assert_eq!(client_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }
}
