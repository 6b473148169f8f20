//! The sign-in throttle: how many passwords may be checked for one e-mail from one client, from
//! one client whatever the e-mail, for one e-mail from everywhere, and from one known device. An
//! attempt is charged *before* its (slow) Argon2 check, in the same critical section as the check
//! of the limits, so that however many requests arrive at once no more passwords are checked than
//! the limits allow.
//!
//! Design (and its trade-off): a guesser at one address gets [`Throttle::PAIR_LIMIT`] tries per
//! e-mail and [`Throttle::CLIENT_LIMIT`] in all per window, and locks out only *that address*
//! for that e-mail. A guesser with many addresses is slowed per e-mail: after
//! [`Throttle::EMAIL_FREE`] failures from all addresses, each further attempt on that e-mail from
//! an unknown device must wait twice as long as the one before (up to [`Throttle::MAX_DELAY`]),
//! remembered for [`Throttle::EMAIL_MEMORY`]. Such an attacker could keep an e-mail slowed for
//! good, so a browser the staff member signed in from before (it carries a *device cookie*, see
//! `devices.rs`) skips the e-mail-wide and per-client limits and has its own small limit,
//! [`Throttle::DEVICE_LIMIT`] per window (OWASP, "Slow down online guessing attacks with device
//! cookies").
//!
//! Memory is bounded whatever arrives: the per-client, per-pair and per-device counts are at most
//! [`Throttle::CAPACITY`] entries (a full table first drops the entries that impose no wait, the
//! least recently used first, and never refuses everyone); the per-e-mail counts live in a
//! fixed-size count-min sketch keyed by a per-process random key, and only an e-mail past its
//! free failures gets an exact entry (at most [`Throttle::EMAIL_CAPACITY`]). The state is in
//! memory: it is per console process, and a restart forgets it.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Key {
    /// One e-mail (its keyed hash) from one client: the guessing limit.
    Pair(u64, IpAddr),
    /// One client, whatever the e-mail (one address trying many e-mails).
    Client(IpAddr),
    /// One known device (its `staff_device` row): its own limit, instead of the others.
    Device(i64),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last: Instant,
}

/// A map of counts that never grows past its capacity.
struct Table<K> {
    map: HashMap<K, Entry>,
    capacity: usize,
}

/// The failures of every e-mail, approximately (a count-min sketch: each e-mail counts in one
/// cell of each row, and its count is the smallest of its cells, so collisions can only
/// overstate it, and only rarely past [`Throttle::EMAIL_FREE`]). Written by hand: it is twenty
/// lines, and the crates that offer one neither forget old counts nor take a keyed hash.
struct Sketch {
    /// `ROWS` rows of `WIDTH` cells: failures and the second (since `epoch`) of the last one.
    cells: Vec<(u32, u32)>,
    epoch: Instant,
}

struct State {
    limits: Table<Key>,
    /// Exact counts of the e-mails past their free failures, by keyed hash.
    emails: Table<u64>,
    sketch: Sketch,
}

/// The sign-in throttle of one console process.
pub struct Throttle {
    state: Mutex<State>,
    /// The per-process random key of the e-mails' hashes (SipHash): nobody outside can choose
    /// e-mails that share a count with a staff member's.
    key: RandomState,
}

/// A charged attempt: hand it back with [`Throttle::succeeded`] when the password was right,
/// or [`Throttle::refund`] when it could not be checked.
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    keys: Vec<Key>,
    /// The e-mail's keyed hash, when the attempt counted against the e-mail.
    email: Option<u64>,
}

/// Who is trying to sign in.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub email: &'a str,
    pub client: IpAddr,
    /// The known device this attempt comes from (its device cookie is valid for `email`).
    pub device: Option<i64>,
}

const ROWS: usize = 4;
const WIDTH_BITS: u32 = 16;
const WIDTH: usize = 1 << WIDTH_BITS;

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle::with_capacity(Throttle::CAPACITY, Throttle::EMAIL_CAPACITY)
    }
}

impl Throttle {
    /// Failed sign-ins per e-mail from one client address within [`Throttle::WINDOW`].
    pub const PAIR_LIMIT: u32 = 5;
    /// Failed sign-ins from one client address, whatever the e-mail, within the window.
    pub const CLIENT_LIMIT: u32 = 20;
    /// Failed sign-ins from one known device within the window.
    pub const DEVICE_LIMIT: u32 = 5;
    /// Failed sign-ins per e-mail from all clients before each attempt on it is delayed.
    pub const EMAIL_FREE: u32 = 30;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// The longest delay between two attempts on one e-mail.
    pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
    /// How long the failures of an e-mail are remembered after its last one.
    pub const EMAIL_MEMORY: Duration = Duration::from_secs(24 * 3600);
    /// Per-pair, per-client and per-device entries kept at most. Each client address makes at
    /// most `CLIENT_LIMIT + 1` in a window (a pair entry is made only by a charged attempt);
    /// each entry takes about 60 bytes, so the table stays under 8 MiB.
    pub const CAPACITY: usize = 100_000;
    /// Exact per-e-mail entries kept at most (each costs an attacker `EMAIL_FREE` failures).
    pub const EMAIL_CAPACITY: usize = 10_000;

    /// A throttle keeping at most `capacity` per-client entries and `emails` exact e-mail ones.
    pub fn with_capacity(capacity: usize, emails: usize) -> Throttle {
        Throttle {
            state: Mutex::new(State {
                limits: Table::new(capacity),
                emails: Table::new(emails),
                sketch: Sketch::new(),
            }),
            key: RandomState::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Charges an attempt to sign in as `who`, or says how long to wait. Call it before checking
    /// the password.
    pub fn attempt(&self, who: Who) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let email = self.email_hash(who.email);
        let attempt = match who.device {
            Some(d) => Attempt {
                keys: vec![Key::Device(d)],
                email: None,
            },
            None => {
                let client = client_key(who.client);
                Attempt {
                    keys: vec![Key::Pair(email, client), Key::Client(client)],
                    email: Some(email),
                }
            }
        };
        let mut s = self.lock();
        let wait = s.wait(&attempt, now);
        if !wait.is_zero() {
            return Err(wait);
        }
        for k in &attempt.keys {
            s.limits.charge(*k, now, wait_of);
        }
        if let Some(h) = attempt.email {
            s.charge_email(h, now);
        }
        Ok(attempt)
    }

    /// The password was right: the attempt is given back, and this client's (or this device's)
    /// failures for this e-mail are forgotten.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut s = self.lock();
        for k in &attempt.keys {
            match k {
                Key::Pair(..) | Key::Device(_) => {
                    s.limits.map.remove(k);
                }
                Key::Client(_) => s.limits.give_back(k),
            }
        }
        if let Some(h) = attempt.email {
            s.give_back_email(h);
        }
    }

    /// The password could not be checked (the target failed): the attempt is given back whole.
    pub fn refund(&self, attempt: Attempt) {
        let mut s = self.lock();
        for k in &attempt.keys {
            s.limits.give_back(k);
        }
        if let Some(h) = attempt.email {
            s.give_back_email(h);
        }
    }

    /// The keyed hash of an e-mail as the staff table spells it.
    fn email_hash(&self, email: &str) -> u64 {
        self.key.hash_one(normal_email(email))
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        let s = self.lock();
        (s.limits.map.len(), s.emails.map.len())
    }
}

/// An e-mail as the staff table spells it. No staff e-mail is longer than 254 bytes
/// (`upsert_staff` refuses them): the rest is cut *before* lower-casing, so a huge one costs
/// nothing.
pub fn normal_email(email: &str) -> String {
    let t = email.trim();
    let mut end = t.len().min(256);
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    t[..end].to_lowercase()
}

impl State {
    /// How long `attempt` must wait (zero: go).
    fn wait(&mut self, attempt: &Attempt, now: Instant) -> Duration {
        let mut wait = attempt
            .keys
            .iter()
            .filter_map(|k| self.limits.map.get(k).map(|e| wait_of(k, e, now)))
            .max()
            .unwrap_or_default();
        if let Some(h) = attempt.email {
            self.promote(h, now);
            if let Some(e) = self.emails.map.get(&h) {
                wait = wait.max(email_wait(e, now));
            }
        }
        wait
    }

    /// Gives an e-mail past its free failures (by the sketch) an exact entry, if it has none.
    fn promote(&mut self, h: u64, now: Instant) {
        if self.emails.map.contains_key(&h) {
            return;
        }
        let (failures, last) = self.sketch.estimate(h, now);
        if failures >= Throttle::EMAIL_FREE {
            self.emails.make_room(now, |_, e, now| email_wait(e, now));
            self.emails.map.insert(h, Entry { failures, last });
        }
    }

    fn charge_email(&mut self, h: u64, now: Instant) {
        self.sketch.charge(h, now);
        if let Some(e) = self.emails.map.get_mut(&h) {
            if now.duration_since(e.last) >= Throttle::EMAIL_MEMORY {
                e.failures = 0;
            }
            e.failures += 1;
            e.last = now;
        } else {
            self.promote(h, now);
        }
    }

    fn give_back_email(&mut self, h: u64) {
        self.sketch.give_back(h);
        self.emails.give_back(&h);
    }
}

impl<K: Copy + Eq + Hash> Table<K> {
    fn new(capacity: usize) -> Table<K> {
        Table {
            map: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// Counts a failure of `k` (making room for it first if it is new).
    fn charge(&mut self, k: K, now: Instant, wait: impl Fn(&K, &Entry, Instant) -> Duration) {
        if !self.map.contains_key(&k) {
            self.make_room(now, wait);
        }
        let e = self.map.entry(k).or_insert(Entry {
            failures: 0,
            last: now,
        });
        if now.duration_since(e.last) >= Throttle::WINDOW {
            e.failures = 0;
        }
        e.failures += 1;
        e.last = now;
    }

    fn give_back(&mut self, k: &K) {
        if let Some(e) = self.map.get_mut(k) {
            e.failures = e.failures.saturating_sub(1);
        }
    }

    /// Makes room for one more entry when the table is full: first drops the entries that
    /// impose no wait, least recently used first, down to nine tenths of the capacity; only if
    /// every entry still imposes one, the least recently used of those too. Going down to nine
    /// tenths means a full scan happens at most once per tenth of the capacity new entries.
    fn make_room(&mut self, now: Instant, wait: impl Fn(&K, &Entry, Instant) -> Duration) {
        if self.map.len() < self.capacity {
            return;
        }
        let target = self.capacity - self.capacity.div_ceil(10);
        let mut idle: Vec<(Instant, K)> = Vec::new();
        let mut busy: Vec<(Instant, K)> = Vec::new();
        for (k, e) in &self.map {
            if wait(k, e, now).is_zero() {
                idle.push((e.last, *k));
            } else {
                busy.push((e.last, *k));
            }
        }
        idle.sort_unstable_by_key(|(last, _)| *last);
        busy.sort_unstable_by_key(|(last, _)| *last);
        let excess = self.map.len() - target;
        for (_, k) in idle.into_iter().chain(busy).take(excess) {
            self.map.remove(&k);
        }
    }
}

/// How long `key` must wait before its next attempt (zero: go).
fn wait_of(key: &Key, e: &Entry, now: Instant) -> Duration {
    let age = now.duration_since(e.last);
    let limit = match key {
        Key::Pair(..) => Throttle::PAIR_LIMIT,
        Key::Client(_) => Throttle::CLIENT_LIMIT,
        Key::Device(_) => Throttle::DEVICE_LIMIT,
    };
    if e.failures >= limit {
        Throttle::WINDOW.saturating_sub(age)
    } else {
        Duration::ZERO
    }
}

/// How long the next attempt on an e-mail must wait: doubling from a second for each failure
/// past the free ones, up to [`Throttle::MAX_DELAY`], counted from the last failure.
fn email_wait(e: &Entry, now: Instant) -> Duration {
    let age = now.duration_since(e.last);
    if age >= Throttle::EMAIL_MEMORY || e.failures < Throttle::EMAIL_FREE {
        return Duration::ZERO;
    }
    let over = e.failures - Throttle::EMAIL_FREE;
    let delay = Duration::from_secs(1u64 << over.min(16)).min(Throttle::MAX_DELAY);
    delay.saturating_sub(age)
}

impl Sketch {
    fn new() -> Sketch {
        Sketch {
            cells: vec![(0, 0); ROWS * WIDTH],
            epoch: Instant::now(),
        }
    }

    /// The cell of `h` in each row: `WIDTH_BITS` bits of the keyed hash per row.
    fn slots(h: u64) -> [usize; ROWS] {
        std::array::from_fn(|row| {
            let bits = (h >> (row as u32 * WIDTH_BITS)) as usize & (WIDTH - 1);
            row * WIDTH + bits
        })
    }

    fn second(&self, now: Instant) -> u32 {
        u32::try_from(now.duration_since(self.epoch).as_secs()).unwrap_or(u32::MAX)
    }

    fn fresh(&self, cell: (u32, u32), now: Instant) -> u32 {
        let age = u64::from(self.second(now).saturating_sub(cell.1));
        if age >= Throttle::EMAIL_MEMORY.as_secs() {
            0
        } else {
            cell.0
        }
    }

    /// The failures of `h` (at least; collisions only add) and when the last one was.
    fn estimate(&self, h: u64, now: Instant) -> (u32, Instant) {
        let slots = Sketch::slots(h);
        let failures = slots
            .iter()
            .map(|&i| self.fresh(self.cells[i], now))
            .min()
            .unwrap_or(0);
        let last = slots.iter().map(|&i| self.cells[i].1).max().unwrap_or(0);
        (failures, self.epoch + Duration::from_secs(u64::from(last)))
    }

    fn charge(&mut self, h: u64, now: Instant) {
        let second = self.second(now);
        for i in Sketch::slots(h) {
            let count = self.fresh(self.cells[i], now);
            self.cells[i] = (count.saturating_add(1), second);
        }
    }

    fn give_back(&mut self, h: u64) {
        for i in Sketch::slots(h) {
            self.cells[i].0 = self.cells[i].0.saturating_sub(1);
        }
    }
}

/// An address as the throttle counts it: an IPv6 client by its /64 (one host usually has a
/// whole /64), an IPv4-mapped IPv6 address as IPv4.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn who<'a>(email: &'a str, client: &str) -> Who<'a> {
        Who {
            email,
            client: ip(client),
            device: None,
        }
    }

    #[test]
    fn parallel_attempts_are_charged_before_they_are_checked() {
        let t = Arc::new(Throttle::default());
        let granted: usize = (0..64)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || t.attempt(who("a@x.org", "192.0.2.1")).is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap() as usize)
            .sum();
        assert_eq!(granted, Throttle::PAIR_LIMIT as usize);
        // Another client is not locked out of that e-mail.
        assert!(t.attempt(who("A@x.org ", "192.0.2.2")).is_ok());
    }

    #[test]
    fn a_right_password_gives_its_attempt_back_and_a_failed_check_all_of_it() {
        let t = Throttle::default();
        for _ in 0..Throttle::PAIR_LIMIT - 1 {
            let _ = t.attempt(who("a@x.org", "192.0.2.1")).unwrap();
        }
        t.succeeded(t.attempt(who("a@x.org", "192.0.2.1")).unwrap());
        for _ in 0..Throttle::PAIR_LIMIT * 3 {
            t.refund(t.attempt(who("a@x.org", "192.0.2.1")).unwrap());
        }
        for _ in 0..Throttle::PAIR_LIMIT {
            let _ = t.attempt(who("a@x.org", "192.0.2.1")).unwrap();
        }
        assert!(t.attempt(who("a@x.org", "192.0.2.1")).is_err());
    }

    #[test]
    fn one_client_cannot_spray_and_many_clients_are_slowed() {
        let t = Throttle::default();
        for i in 0..Throttle::CLIENT_LIMIT {
            let _ = t.attempt(who(&format!("u{i}@x.org"), "192.0.2.1")).unwrap();
        }
        assert!(t.attempt(who("other@x.org", "192.0.2.1")).is_err());
        assert!(t.attempt(who("other@x.org", "192.0.2.9")).is_ok());
        // An e-mail guessed from many addresses: free up to EMAIL_FREE, then delayed.
        for i in 0..Throttle::EMAIL_FREE {
            let _ = t
                .attempt(who("b@x.org", &format!("198.51.100.{i}")))
                .unwrap();
        }
        let wait = t.attempt(who("b@x.org", "203.0.113.1")).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
    }

    #[test]
    fn a_known_device_has_its_own_limit() {
        let t = Throttle::default();
        for i in 0..Throttle::EMAIL_FREE + 5 {
            let _ = t.attempt(who("c@x.org", &format!("198.51.100.{i}")));
        }
        assert!(t.attempt(who("c@x.org", "192.0.2.7")).is_err(), "delayed");
        let device = |d| Who {
            device: Some(d),
            ..who("c@x.org", "192.0.2.7")
        };
        // The staff member's own browser is not slowed by the attack on the e-mail...
        for _ in 0..Throttle::DEVICE_LIMIT {
            let _ = t.attempt(device(1)).unwrap();
        }
        // ...but is limited itself, and a right password on it clears its count.
        assert!(t.attempt(device(1)).is_err());
        t.succeeded(t.attempt(device(2)).unwrap());
        assert!(t.attempt(device(2)).is_ok());
    }

    /// A table full of entries refuses nobody: idle entries go first, then the oldest; memory
    /// stays bounded however many addresses and e-mails arrive.
    #[test]
    fn a_full_table_refuses_nobody_and_stays_bounded() {
        let t = Throttle::with_capacity(1_000, 50);
        // A guesser locks itself out of one e-mail (entries that impose a wait).
        for _ in 0..Throttle::PAIR_LIMIT {
            let _ = t.attempt(who("staff@x.org", "192.0.2.66")).unwrap();
        }
        // 20,000 addresses, 100 e-mails each past their free failures.
        for i in 0..20_000u32 {
            let [a, b, c, d] = (0x0a00_0000 + i).to_be_bytes();
            let client = format!("{a}.{b}.{c}.{d}");
            let email = format!("u{}@x.org", i % 100);
            let _ = t.attempt(who(&email, &client));
        }
        let (limits, emails) = t.sizes();
        assert!(limits <= 1_000, "{limits} entries");
        assert!(emails <= 50, "{emails} e-mail entries");
        // Someone new is served, and the guesser's lockout survived (the idle went first).
        assert!(t.attempt(who("new@x.org", "203.0.113.9")).is_ok());
        assert!(t.attempt(who("staff@x.org", "192.0.2.66")).is_err());
        // Everything busy: the oldest lockouts go, never everyone refused.
        let full = Throttle::with_capacity(100, 10);
        for i in 0..200u32 {
            let client = format!("10.1.{}.{}", i / 256, i % 256);
            for j in 0..4 {
                let email = format!("z{i}-{j}@x.org");
                for _ in 0..Throttle::PAIR_LIMIT {
                    let _ = full.attempt(who(&email, &client));
                }
            }
        }
        assert!(full.sizes().0 <= 100);
        assert!(full.attempt(who("z@x.org", "203.0.113.10")).is_ok());
    }

    /// The full default table: 250,000 attempts from distinct addresses keep it at its
    /// capacity (the memory bound), and e-mails that never reach their free failures take no
    /// entry at all.
    #[test]
    fn the_default_table_stays_at_its_capacity() {
        let t = Throttle::default();
        for i in 0..250_000u32 {
            let [a, b, c, d] = (0x0a00_0000 + i).to_be_bytes();
            let _ = t.attempt(who(&format!("spray{i}@x.org"), &format!("{a}.{b}.{c}.{d}")));
        }
        let (limits, emails) = t.sizes();
        assert!(limits <= Throttle::CAPACITY, "{limits}");
        assert_eq!(emails, 0, "no e-mail past its free failures");
        assert!(t.attempt(who("staff@x.org", "203.0.113.9")).is_ok());
    }

    #[test]
    fn e_mails_are_cut_before_they_are_lower_cased() {
        assert_eq!(normal_email(" A@X.org "), "a@x.org");
        let huge = "É".repeat(100_000);
        assert!(normal_email(&huge).len() <= 2 * 256);
        assert_eq!(client_key(ip("2001:db8::1")), client_key(ip("2001:db8::2")));
        assert_eq!(client_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }
}
