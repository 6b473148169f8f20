//! Likely duplicate accounts (SPEC §9): the normalized keys they are found by, the name score,
//! and the blocking index that compares a record only with the accounts that share one of its
//! keys, never with all accounts.
//!
//! Normalization is deliberately plain:
//! - e-mail: trimmed and lower-cased, nothing else (no Gmail dot or `+tag` folding: those are
//!   different mailboxes on most providers);
//! - phone: the E.164 form when the number parsed, else its digits (at least 7 of them);
//! - name: Unicode NFKD, accents dropped, apostrophes removed, other punctuation as a space,
//!   lower-cased, white space collapsed;
//! - postal code: letters and digits only, upper-cased.
//!
//! The index keeps every normalized key as text (one shared string per kind) so that a match is
//! always a match of the actual strings: a hash collision can cost a comparison, never a false
//! warning.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Jaro-Winkler similarity of the normalized full names at or above which two accounts that
/// share a phone are likely duplicates.
pub const NAME_THRESHOLD: f64 = 0.92;

/// Entries kept per phone: a number shared by more accounts than this (a switchboard) is
/// compared with its first accounts only, so that one phone cannot make the check quadratic.
pub const PHONE_BLOCK_CAP: usize = 32;

/// A normalized e-mail address (`None` when nothing is left).
pub fn email_key(email: &str) -> Option<String> {
    let e = email.trim().to_lowercase();
    (!e.is_empty()).then_some(e)
}

/// A normalized phone: the E.164 form, else the digits when there are at least 7.
pub fn phone_key(given: &str, e164: Option<&str>) -> Option<String> {
    if let Some(e) = e164.map(str::trim).filter(|e| !e.is_empty()) {
        return Some(e.to_string());
    }
    let digits: String = given.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 7).then_some(digits)
}

/// A normalized name (`None` when it has no letter or digit).
pub fn name_key(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut space = false;
    for c in name.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '\u{2019}' | '\u{02bc}' | '`') {
            continue;
        }
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A contact's full name: first and last name when either is given, else its ContactName.
pub fn full_name(first: Option<&str>, last: Option<&str>, contact_name: Option<&str>) -> String {
    let first = first.map(str::trim).unwrap_or("");
    let last = last.map(str::trim).unwrap_or("");
    if first.is_empty() && last.is_empty() {
        contact_name.unwrap_or("").to_string()
    } else {
        format!("{first} {last}")
    }
}

/// A normalized postal code (`None` when it has no letter or digit).
pub fn postal_key(postal: &str) -> Option<String> {
    let p: String = postal
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    (!p.is_empty()).then_some(p)
}

/// The similarity of two normalized names, 0 to 1.
pub fn name_score(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(a, b)
}

/// Which rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Email,
    PhoneAndName,
    NameAndPostal,
}

/// Another account that a record likely duplicates.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub rule: Rule,
    /// The other account.
    pub account: String,
    /// The caller's code for where the other account's key came from (see `Likely`).
    pub origin: u64,
    /// 1 for the exact rules, the Jaro-Winkler score of the names for `PhoneAndName`.
    pub score: f64,
    /// For `PhoneAndName`: the other account's normalized name.
    pub other_name: Option<String>,
}

/// Hashes that are already hashes: the string tables key their maps by a 64-bit hash.
#[derive(Default)]
struct Passthrough(u64);
impl Hasher for Passthrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Interned strings, numbered from 0: their text back to back, found by a 64-bit hash (strings
/// whose hash is already taken by another string go to a small map of their own).
#[derive(Default)]
struct Strings {
    text: String,
    ends: Vec<usize>,
    by_hash: HashMap<u64, u32, BuildHasherDefault<Passthrough>>,
    /// Strings whose 64-bit hash another string has (SipHash: they may have been crafted).
    spilled: HashMap<Box<str>, u32>,
    /// Seeded per process, as the key indexes' (`index.rs`).
    hasher: foldhash::quality::RandomState,
}

impl Strings {
    fn get(&self, s: &str) -> Option<u32> {
        let h = self.hasher.hash_one(s);
        match self.by_hash.get(&h) {
            Some(&i) if self.str(i) == s => Some(i),
            Some(_) => self.spilled.get(s).copied(),
            None => None,
        }
    }

    /// The number of `s`, and whether it is new.
    fn intern(&mut self, s: &str) -> (u32, bool) {
        if let Some(i) = self.get(s) {
            return (i, false);
        }
        let i = u32::try_from(self.ends.len()).expect("fewer than 2^32 keys");
        self.text.push_str(s);
        self.ends.push(self.text.len());
        let h = self.hasher.hash_one(s);
        match self.by_hash.entry(h) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.spilled.insert(s.into(), i);
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
        }
        (i, true)
    }

    fn str(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn bytes(&self) -> usize {
        self.text.capacity()
            + self.ends.capacity() * 8
            + self.by_hash.capacity() * 13
            + self.spilled.len() * 64
    }
}

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct PhoneEntry {
    account: u32,
    name: u32,
    next: u32,
    origin: u64,
}

/// The blocking index of likely duplicates. Each key kind maps a normalized key to the first
/// account that had it (a phone: to its first `PHONE_BLOCK_CAP` accounts and names); a record is
/// compared only with the accounts under its own keys. `origin` is opaque here: the caller's
/// code for where a key came from, handed back in a `Match`.
///
/// Each `*_check` both checks a record and adds its key; `*_add` only adds (loading what the
/// target already holds). The first account to hold a key keeps it.
#[derive(Default)]
pub struct Likely {
    accounts: Strings,
    names: Strings,
    emails: Strings,
    email_of: Vec<(u32, u64)>,
    pairs: Strings,
    pair_of: Vec<(u32, u64)>,
    phones: Strings,
    phone_head: Vec<u32>,
    phone_entries: Vec<PhoneEntry>,
}

impl Likely {
    pub fn new() -> Likely {
        Likely::default()
    }

    /// Roughly the bytes held (for measurements).
    pub fn bytes(&self) -> usize {
        self.accounts.bytes()
            + self.names.bytes()
            + self.emails.bytes()
            + self.pairs.bytes()
            + self.phones.bytes()
            + (self.email_of.capacity() + self.pair_of.capacity()) * 16
            + self.phone_head.capacity() * 4
            + self.phone_entries.capacity() * 24
    }

    /// How many keys of each kind are held: (e-mails, phones, name and postal code pairs).
    pub fn len(&self) -> (usize, usize, usize) {
        (self.emails.len(), self.phones.len(), self.pairs.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0, 0)
    }

    fn exact(
        keys: &mut Strings,
        owners: &mut Vec<(u32, u64)>,
        accounts: &mut Strings,
        account: &str,
        key: &str,
        origin: u64,
        check: bool,
    ) -> Option<(u32, u64)> {
        if let Some(k) = keys.get(key) {
            let (owner, at) = owners[k as usize];
            if check && accounts.str(owner) != account {
                return Some((owner, at));
            }
            return None;
        }
        let (a, _) = accounts.intern(account);
        keys.intern(key);
        owners.push((a, origin));
        None
    }

    fn exact_match(&self, rule: Rule, found: Option<(u32, u64)>) -> Option<Match> {
        found.map(|(owner, origin)| Match {
            rule,
            account: self.accounts.str(owner).to_string(),
            origin,
            score: 1.0,
            other_name: None,
        })
    }

    /// An account's normalized e-mail: the first other account that had it.
    pub fn email_check(&mut self, account: &str, email: &str, origin: u64) -> Option<Match> {
        let found = Self::exact(
            &mut self.emails,
            &mut self.email_of,
            &mut self.accounts,
            account,
            email,
            origin,
            true,
        );
        self.exact_match(Rule::Email, found)
    }

    pub fn email_add(&mut self, account: &str, email: &str, origin: u64) {
        Self::exact(
            &mut self.emails,
            &mut self.email_of,
            &mut self.accounts,
            account,
            email,
            origin,
            false,
        );
    }

    /// An account's normalized name and postal code: the first other account that had both.
    pub fn postal_check(
        &mut self,
        account: &str,
        name: &str,
        postal: &str,
        origin: u64,
    ) -> Option<Match> {
        let key = format!("{name}\u{1f}{postal}");
        let found = Self::exact(
            &mut self.pairs,
            &mut self.pair_of,
            &mut self.accounts,
            account,
            &key,
            origin,
            true,
        );
        self.exact_match(Rule::NameAndPostal, found)
    }

    pub fn postal_add(&mut self, account: &str, name: &str, postal: &str, origin: u64) {
        let key = format!("{name}\u{1f}{postal}");
        Self::exact(
            &mut self.pairs,
            &mut self.pair_of,
            &mut self.accounts,
            account,
            &key,
            origin,
            false,
        );
    }

    /// An account's normalized phone and name: of the other accounts with that phone, the one
    /// whose name is most similar, if the similarity reaches `NAME_THRESHOLD` (the earliest on a
    /// tie).
    pub fn phone_check(
        &mut self,
        account: &str,
        phone: &str,
        name: &str,
        origin: u64,
    ) -> Option<Match> {
        self.phone(account, phone, name, origin, true)
    }

    pub fn phone_add(&mut self, account: &str, phone: &str, name: &str, origin: u64) {
        self.phone(account, phone, name, origin, false);
    }

    fn phone(
        &mut self,
        account: &str,
        phone: &str,
        name: &str,
        origin: u64,
        check: bool,
    ) -> Option<Match> {
        let (p, new) = self.phones.intern(phone);
        if new {
            self.phone_head.push(NONE);
        }
        let mut best: Option<(f64, PhoneEntry)> = None;
        let mut same = false;
        let mut count = 0usize;
        let mut last = NONE;
        let mut at = self.phone_head[p as usize];
        while at != NONE {
            let e = self.phone_entries[at as usize];
            count += 1;
            let other = self.accounts.str(e.account);
            if other == account {
                same |= self.names.str(e.name) == name;
            } else if check {
                let score = name_score(name, self.names.str(e.name));
                if score >= NAME_THRESHOLD && best.is_none_or(|(b, _)| score > b) {
                    best = Some((score, e));
                }
            }
            last = at;
            at = e.next;
        }
        if !same && count < PHONE_BLOCK_CAP {
            let (a, _) = self.accounts.intern(account);
            let (n, _) = self.names.intern(name);
            let i = u32::try_from(self.phone_entries.len()).expect("fewer than 2^32 phones");
            self.phone_entries.push(PhoneEntry {
                account: a,
                name: n,
                next: NONE,
                origin,
            });
            if last == NONE {
                self.phone_head[p as usize] = i;
            } else {
                self.phone_entries[last as usize].next = i;
            }
        }
        best.map(|(score, e)| Match {
            rule: Rule::PhoneAndName,
            account: self.accounts.str(e.account).to_string(),
            origin: e.origin,
            score,
            other_name: Some(self.names.str(e.name).to_string()),
        })
    }

    /// Gives back what growth left unused.
    pub fn shrink_to_fit(&mut self) {
        for s in [
            &mut self.accounts,
            &mut self.names,
            &mut self.emails,
            &mut self.pairs,
            &mut self.phones,
        ] {
            s.text.shrink_to_fit();
            s.ends.shrink_to_fit();
            s.by_hash.shrink_to_fit();
        }
        self.email_of.shrink_to_fit();
        self.pair_of.shrink_to_fit();
        self.phone_head.shrink_to_fit();
        self.phone_entries.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize() {
        assert_eq!(
            name_key("  José  O'Brien-Smith ").unwrap(),
            "jose obrien smith"
        );
        assert_eq!(name_key("ZOË\tŁUKASZ").unwrap().as_str(), "zoe łukasz");
        assert_eq!(name_key("Dr. Jane   Doe,").unwrap(), "dr jane doe");
        assert_eq!(name_key("ﬁona"), Some("fiona".into())); // NFKD of the ligature
        assert_eq!(name_key(" -- "), None);
    }

    #[test]
    fn emails_phones_postal_codes_normalize() {
        assert_eq!(
            email_key("  Jane.Doe@Example.COM ").unwrap(),
            "jane.doe@example.com"
        );
        assert_eq!(email_key(" "), None);
        assert_eq!(
            phone_key("(415) 555-2671", Some("+14155552671")).unwrap(),
            "+14155552671"
        );
        assert_eq!(phone_key("555-1234 x9", None).unwrap(), "55512349");
        assert_eq!(phone_key("12-34", None), None);
        assert_eq!(postal_key("k1a 0b1").unwrap(), "K1A0B1");
        assert_eq!(postal_key("N2L-3G1"), postal_key("n2l3g1"));
        assert_eq!(postal_key(" - "), None);
        assert_eq!(
            full_name(Some("Jane"), Some("Doe"), Some("Billing")),
            "Jane Doe"
        );
        assert_eq!(full_name(None, Some(" "), Some("Jane Doe")), "Jane Doe");
    }

    #[test]
    fn near_names_score_high_and_different_people_low() {
        let near = [
            ("jon smith", "john smith"),
            ("catherine jones", "katherine jones"),
            ("jane doe", "jayne doe"),
            ("martha stewart", "marhta stewart"),
        ];
        for (a, b) in near {
            assert!(
                name_score(a, b) >= NAME_THRESHOLD,
                "{a} / {b}: {}",
                name_score(a, b)
            );
        }
        let apart = [
            ("john smith", "mary smith"),
            ("anna berg", "peter berg"),
            ("li wei", "wang fang"),
            ("david jones", "daniel jones"),
        ];
        for (a, b) in apart {
            assert!(
                name_score(a, b) < NAME_THRESHOLD,
                "{a} / {b}: {}",
                name_score(a, b)
            );
        }
        // The limit of the rule (SPEC §9's threshold): relatives whose first names differ by a
        // letter or share a long prefix score above it, and get a warning if they share a phone.
        for (a, b) in [
            ("john smith", "joan smith"),
            ("robert king", "roberta kingsley"),
        ] {
            assert!(name_score(a, b) >= NAME_THRESHOLD, "{a} / {b}");
        }
    }

    #[test]
    fn emails_match_other_accounts_only_and_name_the_first() {
        let mut l = Likely::new();
        assert_eq!(l.email_check("A", "x@example.com", 1), None);
        assert_eq!(l.email_check("A", "x@example.com", 2), None, "same account");
        let m = l.email_check("B", "x@example.com", 3).unwrap();
        assert_eq!(
            (m.rule, m.account.as_str(), m.origin, m.score),
            (Rule::Email, "A", 1, 1.0)
        );
        let m = l.email_check("C", "x@example.com", 4).unwrap();
        assert_eq!(m.account, "A", "the first holder is named");
        assert_eq!(l.email_check("D", "y@example.com", 5), None);
        l.email_add("E", "z@example.com", 0);
        assert_eq!(l.email_check("F", "z@example.com", 6).unwrap().account, "E");
    }

    #[test]
    fn phones_need_a_similar_name() {
        let mut l = Likely::new();
        l.phone_add("A", "+15195550100", "john smith", 0);
        assert_eq!(
            l.phone_check("B", "+15195550100", "mary smith", 1),
            None,
            "a relative"
        );
        let m = l.phone_check("C", "+15195550100", "jon smith", 2).unwrap();
        assert_eq!((m.account.as_str(), m.origin), ("A", 0));
        assert_eq!(m.other_name.as_deref(), Some("john smith"));
        assert!(m.score >= NAME_THRESHOLD && m.score < 1.0);
        // The best-scoring account is named, not just the first.
        let m = l.phone_check("D", "+15195550100", "mary smyth", 3).unwrap();
        assert_eq!(m.account, "B");
        // Another phone, same names: no match.
        assert_eq!(l.phone_check("E", "+15195550199", "john smith", 4), None);
    }

    #[test]
    fn a_shared_phone_is_capped() {
        let mut l = Likely::new();
        for i in 0..1000 {
            l.phone_check(&format!("A{i}"), "+15195550100", &format!("person {i}"), 0);
        }
        let head = l.phones.get("+15195550100").unwrap();
        let mut n = 0;
        let mut at = l.phone_head[head as usize];
        while at != NONE {
            n += 1;
            at = l.phone_entries[at as usize].next;
        }
        assert_eq!(n, PHONE_BLOCK_CAP);
    }

    #[test]
    fn name_and_postal_code_together() {
        let mut l = Likely::new();
        assert_eq!(l.postal_check("A", "jane doe", "N2L3G1", 7), None);
        assert_eq!(l.postal_check("B", "jane doe", "N2L3G2", 8), None);
        assert_eq!(l.postal_check("C", "john doe", "N2L3G1", 9), None);
        let m = l.postal_check("D", "jane doe", "N2L3G1", 10).unwrap();
        assert_eq!(
            (m.rule, m.account.as_str(), m.origin),
            (Rule::NameAndPostal, "A", 7)
        );
    }

    #[test]
    fn colliding_hashes_never_match() {
        let mut s = Strings::default();
        // Force every string onto one hash by pre-filling the map: a different string that finds
        // the slot taken must not be taken for it.
        let (a, _) = s.intern("alpha");
        let h = s.hasher.hash_one("beta");
        s.by_hash.insert(h, a);
        assert_eq!(s.get("beta"), None);
        let (b, new) = s.intern("beta");
        assert!(new && b != a);
        assert_eq!(s.get("beta"), Some(b));
        assert_eq!(s.get("alpha"), Some(a));
    }

    /// `cargo test -p ferry-validate --release -- --ignored --nocapture index_size`: the bytes
    /// the index holds for 100,000 accounts with one e-mail, phone and address each.
    #[test]
    #[ignore]
    fn index_size() {
        let mut l = Likely::new();
        for i in 0..100_000u64 {
            let a = format!("C{i:07}");
            l.email_check(&a, &format!("first.last{i}@example.com"), i);
            l.phone_check(
                &a,
                &format!("+1519{i:07}"),
                &format!("first{} last{}", i % 500, i % 300),
                i,
            );
            l.postal_check(
                &a,
                &format!("first{} last{}", i % 500, i % 300),
                &format!("N{i:05}"),
                i,
            );
        }
        l.shrink_to_fit();
        println!(
            "{} bytes, {:.0} per account",
            l.bytes(),
            l.bytes() as f64 / 1e5
        );
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn name_normalization_is_idempotent_and_ignores_case_and_spacing(s in "[a-zA-Z0-9àéîõüçñÀÉÑ' .,-]{0,40}") {
                if let Some(n) = name_key(&s) {
                    prop_assert_eq!(name_key(&n), Some(n.clone()));
                    prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
                    let spaced = format!("  {}  ", s.to_uppercase().replace(' ', "   "));
                    if s.to_uppercase().to_lowercase() == s.to_lowercase() {
                        prop_assert_eq!(name_key(&spaced), name_key(&s.to_lowercase()));
                    }
                }
            }

            #[test]
            fn score_is_symmetric_bounded_and_one_on_equal(a in "[a-z ]{0,20}", b in "[a-z ]{0,20}") {
                let s = name_score(&a, &b);
                prop_assert!((0.0..=1.0).contains(&s));
                prop_assert!((s - name_score(&b, &a)).abs() < 1e-9);
                if !a.is_empty() {
                    prop_assert_eq!(name_score(&a, &a), 1.0);
                }
            }

            #[test]
            fn the_index_agrees_with_a_plain_search(
                rows in proptest::collection::vec((0u8..6, 0u8..5), 0..60)
            ) {
                // e-mails: the first other holder, as a scan over all earlier rows finds it
                let mut l = Likely::new();
                let mut seen: Vec<(String, String)> = vec![];
                for (i, (acc, mail)) in rows.iter().enumerate() {
                    let (acc, mail) = (format!("A{acc}"), format!("m{mail}@x"));
                    let got = l.email_check(&acc, &mail, i as u64).map(|m| m.account);
                    let first = seen.iter().find(|(_, m)| *m == mail).map(|(a, _)| a.clone());
                    let want = first.filter(|a| *a != acc);
                    prop_assert_eq!(got, want);
                    seen.push((acc, mail));
                }
            }
        }
    }
}
