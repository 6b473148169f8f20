//! In-memory key indexes: what each key of an entity type resolves to — a record in the target,
//! one accepted earlier in this run, or one this run rejected (SPEC §3.1).
//!
//! They are the one structure that grows with the size of a run (every keyed record of every
//! phase stays in them), so they are compact: the keys' text sits back to back in one string, an
//! open-addressing table of 8-byte entries finds them, and a record's location is a shared source
//! (file, sheet) plus its row instead of a full `Location`.

use ferry_catalogue::{did_you_mean, fold};
use ferry_findings::{Column, Location};
use rustc_hash::FxHashSet;
use std::cell::Cell;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

/// Where a record of this run came from: its source (file, sheet, record column), shared by
/// every record of that source in an index, and its row. Shown exactly as its `Location` is.
#[derive(Debug, Clone, PartialEq)]
pub struct At {
    src: Arc<Source>,
    row: u64,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Source {
    file: Arc<str>,
    sheet: Option<Arc<str>>,
    column: Option<Column>,
}

impl At {
    /// The full location (the file and sheet names are shared, not copied).
    pub fn location(&self) -> Location {
        Location {
            file: self.src.file.clone(),
            sheet: self.src.sheet.clone(),
            row: self.row,
            column: self.src.column,
        }
    }
}

impl From<&Location> for At {
    /// A location on its own, not shared with others (`KeyIndex::at` shares sources).
    fn from(l: &Location) -> At {
        At {
            src: Arc::new(Source {
                file: l.file.clone(),
                sheet: l.sheet.clone(),
                column: l.column,
            }),
            row: l.row,
        }
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.location(), f)
    }
}

/// What a key stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// In the target before the run (or skipped/updated onto it): row id and content hash.
    Target { id: i64, hash: i64 },
    /// Accepted earlier in this run (no content hash: a key seen again in the same run is a
    /// duplicate whatever the record says).
    Run { id: i64, location: At },
    /// Rejected earlier in this run (referrers are rejected with `reference.rejected_parent`).
    Rejected { location: At },
}

/// The outcome of looking a reference up.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolve {
    Found(i64),
    /// No exact match, but exactly one match after folding case and spaces.
    Folded {
        id: i64,
        actual: String,
    },
    RejectedParent(Location),
    Unknown {
        hint: Option<String>,
    },
}

/// An insert-only open-addressing hash table (linear probing) of entry numbers. Each slot is
/// `tag << 32 | (entry + 1)`, 0 when empty, where the tag is the high half of the key's hash: it
/// places the entry (so growing needs no hashing) and settles almost every comparison.
#[derive(Debug, Default)]
struct Table {
    slots: Vec<u64>,
    len: usize,
}

impl Table {
    /// The entry whose tag is `tag` and for which `eq` holds.
    fn find(&self, tag: u32, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut pos = tag as usize & mask;
        loop {
            let s = self.slots[pos];
            if s == 0 {
                return None;
            }
            if (s >> 32) as u32 == tag {
                let entry = (s as u32) - 1;
                if eq(entry) {
                    return Some(entry);
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Adds an entry known not to be in the table yet.
    fn insert(&mut self, tag: u32, entry: u32) {
        // Kept at most half full: probes stay short.
        if (self.len + 1) * 2 > self.slots.len() {
            let cap = (self.slots.len() * 2).max(16);
            let old = std::mem::replace(&mut self.slots, vec![0; cap]);
            for s in old.into_iter().filter(|s| *s != 0) {
                self.place(s);
            }
        }
        self.place((u64::from(tag) << 32) | (u64::from(entry) + 1));
        self.len += 1;
    }

    fn place(&mut self, s: u64) {
        let mask = self.slots.len() - 1;
        let mut pos = (s >> 32) as usize & mask;
        while self.slots[pos] != 0 {
            pos = (pos + 1) & mask;
        }
        self.slots[pos] = s;
    }
}

/// Entry numbers are u32: more than 4 billion keys in one index would need far more memory
/// (their slots alone, 160 GiB) than a run can have.
fn entry_number(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 keys in one index")
}

/// The fold index: folded key → the one accepted key with that fold, or several.
#[derive(Debug, Default)]
struct Folded {
    table: Table,
    /// Per fold: an entry with that fold (to compare folds) and the one entry, or `None` when
    /// several keys fold alike.
    groups: Vec<(u32, Option<u32>)>,
}

/// One index per (entity type, key fields).
#[derive(Debug, Default)]
pub struct KeyIndex {
    /// Every key's text, back to back.
    text: String,
    /// Where entry `i`'s key ends in `text` (it starts where entry `i - 1` ends).
    ends: Vec<usize>,
    slots: Vec<Slot>,
    table: Table,
    /// Keys come from the input: a hash seeded per process (foldhash, much cheaper than SipHash
    /// on short keys), so that crafted keys cannot be made to collide.
    hasher: foldhash::quality::RandomState,
    /// The sources of this index's locations, each stored once (a handful: file names).
    sources: FxHashSet<Arc<Source>>,
    last_source: Option<Arc<Source>>,
    /// Built on the first miss.
    folded: Option<Folded>,
    /// The entry last found, plus one (0: none). References come in runs of the same key (an
    /// account's ledger rows, contacts, e-mails): comparing with the last one first saves the
    /// hash and, in a large index, a cache miss on the table.
    last: Cell<u32>,
}

impl KeyIndex {
    pub fn new() -> KeyIndex {
        KeyIndex::default()
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn key_of(&self, entry: u32) -> &str {
        let i = entry as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..self.ends[i]).unwrap_or("")
    }

    fn tag(&self, key: &str) -> u32 {
        (self.hasher.hash_one(key) >> 32) as u32
    }

    fn find(&self, key: &str) -> Option<u32> {
        let last = self.last.get();
        if last != 0 && self.key_of(last - 1) == key {
            return Some(last - 1);
        }
        let found = self
            .table
            .find(self.tag(key), |entry| self.key_of(entry) == key);
        if let Some(entry) = found {
            self.last.set(entry.wrapping_add(1));
        }
        found
    }

    /// A location as this index keeps it, its source shared with the index's other locations.
    pub fn at(&mut self, location: &Location) -> At {
        if let Some(s) = &self.last_source {
            if Arc::ptr_eq(&s.file, &location.file)
                && match (&s.sheet, &location.sheet) {
                    (None, None) => true,
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    _ => false,
                }
                && s.column == location.column
            {
                return At {
                    src: s.clone(),
                    row: location.row,
                };
            }
        }
        let wanted = Source {
            file: location.file.clone(),
            sheet: location.sheet.clone(),
            column: location.column,
        };
        let src = match self.sources.get(&wanted) {
            Some(s) => s.clone(),
            None => {
                let s = Arc::new(wanted);
                self.sources.insert(s.clone());
                s
            }
        };
        self.last_source = Some(src.clone());
        At {
            src,
            row: location.row,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Slot> {
        self.find(key).map(|entry| &self.slots[entry as usize])
    }

    /// Sets what a key stands for, keeping the fold index current.
    pub fn set(&mut self, key: &str, slot: Slot) {
        let accepted = !matches!(slot, Slot::Rejected { .. });
        let slot = self.shared(slot);
        let tag = self.tag(key);
        if let Some(entry) = self.table.find(tag, |e| self.key_of(e) == key) {
            self.slots[entry as usize] = slot;
            return;
        }
        let entry = entry_number(self.slots.len());
        self.text.push_str(key);
        self.ends.push(self.text.len());
        self.slots.push(slot);
        self.table.insert(tag, entry);
        if accepted && self.folded.is_some() {
            self.fold_in(entry);
        }
    }

    /// A slot whose location shares this index's sources.
    fn shared(&mut self, slot: Slot) -> Slot {
        match slot {
            Slot::Run { id, location } if !self.is_shared(&location) => Slot::Run {
                id,
                location: self.at(&location.location()),
            },
            Slot::Rejected { location } if !self.is_shared(&location) => Slot::Rejected {
                location: self.at(&location.location()),
            },
            other => other,
        }
    }

    fn is_shared(&self, at: &At) -> bool {
        self.last_source
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, &at.src))
            || self
                .sources
                .get(&*at.src)
                .is_some_and(|s| Arc::ptr_eq(s, &at.src))
    }

    /// Gives back what growing left unused (when the index is complete, e.g. after its phase).
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.slots.shrink_to_fit();
    }

    /// Inserts only if the key is new (the first record with a key is the one references follow).
    pub fn set_if_absent(&mut self, key: &str, slot: Slot) {
        if self.find(key).is_none() {
            self.set(key, slot);
        }
    }

    /// Adds an accepted entry to the fold index.
    fn fold_in(&mut self, entry: u32) {
        let f = fold(self.key_of(entry));
        let tag = self.tag(&f);
        let Some(folded) = self.folded.as_ref() else {
            return;
        };
        let found = folded
            .table
            .find(tag, |g| fold(self.key_of(folded.groups[g as usize].0)) == f);
        let Some(folded) = self.folded.as_mut() else {
            return;
        };
        match found {
            Some(g) => {
                let one = &mut folded.groups[g as usize].1;
                if *one != Some(entry) {
                    *one = None;
                }
            }
            None => {
                let g = entry_number(folded.groups.len());
                folded.groups.push((entry, Some(entry)));
                folded.table.insert(tag, g);
            }
        }
    }

    fn build_fold(&mut self) {
        self.folded = Some(Folded::default());
        for entry in 0..self.slots.len() {
            if !matches!(self.slots[entry], Slot::Rejected { .. }) {
                self.fold_in(entry_number(entry));
            }
        }
    }

    /// The one accepted key that folds like `key`, if there is exactly one.
    pub fn fold_candidate(&mut self, key: &str) -> Option<String> {
        if self.folded.is_none() {
            self.build_fold();
        }
        let f = fold(key);
        let folded = self.folded.as_ref()?;
        let g = folded.table.find(self.tag(&f), |g| {
            fold(self.key_of(folded.groups[g as usize].0)) == f
        })?;
        let one = self.key_of(folded.groups[g as usize].1?);
        (one != key).then(|| one.to_string())
    }

    /// Resolves a reference; `fold_case` accepts a unique folded match.
    pub fn resolve(&mut self, key: &str, fold_case: bool) -> Resolve {
        match self.get(key) {
            Some(Slot::Target { id, .. }) | Some(Slot::Run { id, .. }) => {
                return Resolve::Found(*id)
            }
            Some(Slot::Rejected { location }) => {
                return Resolve::RejectedParent(location.location())
            }
            None => {}
        }
        match self.fold_candidate(key) {
            Some(actual) => {
                if fold_case {
                    match self.get(actual.as_str()) {
                        Some(Slot::Target { id, .. }) | Some(Slot::Run { id, .. }) => {
                            Resolve::Folded { id: *id, actual }
                        }
                        _ => Resolve::Unknown { hint: None },
                    }
                } else {
                    Resolve::Unknown {
                        hint: Some(did_you_mean(&crate::record::display_key(&actual))),
                    }
                }
            }
            None => Resolve::Unknown { hint: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_folded_rejected_unknown() {
        let mut ix = KeyIndex::new();
        ix.set("Residential", Slot::Target { id: 1, hash: 0 });
        assert_eq!(ix.resolve("Residential", false), Resolve::Found(1));
        assert_eq!(
            ix.resolve("residential", false),
            Resolve::Unknown {
                hint: Some("did you mean \"Residential\"?".into())
            }
        );
        assert_eq!(
            ix.resolve("residential", true),
            Resolve::Folded {
                id: 1,
                actual: "Residential".into()
            }
        );
        assert_eq!(
            ix.resolve("Residental", false),
            Resolve::Unknown { hint: None }
        );
        let loc = Location {
            file: "f".into(),
            sheet: None,
            row: 2,
            column: None,
        };
        let at = ix.at(&loc);
        ix.set("Business", Slot::Rejected { location: at });
        assert_eq!(ix.resolve("Business", false), Resolve::RejectedParent(loc));
        // a new key after the fold index exists is folded too; two candidates mean no hint
        ix.set(
            "RESIDENTIAL",
            Slot::Run {
                id: 2,
                location: At::from(&Location::default()),
            },
        );
        assert_eq!(
            ix.resolve("residential", false),
            Resolve::Unknown { hint: None }
        );
        assert_eq!(
            ix.resolve("Residential   Plan", false),
            Resolve::Unknown { hint: None }
        );
    }

    #[test]
    fn inner_spaces_collapse() {
        let mut ix = KeyIndex::new();
        ix.set("Billing Contact", Slot::Target { id: 1, hash: 0 });
        assert_eq!(
            ix.resolve("billing  contact", false),
            Resolve::Unknown {
                hint: Some("did you mean \"Billing Contact\"?".into())
            }
        );
    }

    #[test]
    fn many_keys_grow_and_overwrite() {
        let mut ix = KeyIndex::new();
        for i in 0..5000i64 {
            ix.set(&format!("C{i:07}"), Slot::Target { id: i, hash: -i });
        }
        ix.set("", Slot::Target { id: -1, hash: 0 });
        assert_eq!(ix.len(), 5001);
        for i in 0..5000i64 {
            assert_eq!(
                ix.get(&format!("C{i:07}")),
                Some(&Slot::Target { id: i, hash: -i })
            );
        }
        assert_eq!(ix.get(""), Some(&Slot::Target { id: -1, hash: 0 }));
        assert_eq!(ix.get("C0005000"), None);
        // set replaces, set_if_absent does not
        ix.set("C0000007", Slot::Target { id: 70, hash: 1 });
        ix.set_if_absent("C0000007", Slot::Target { id: 71, hash: 1 });
        assert_eq!(ix.get("C0000007"), Some(&Slot::Target { id: 70, hash: 1 }));
        assert_eq!(ix.len(), 5001);
        // folding after growth: one candidate, then several
        assert_eq!(ix.fold_candidate("c0004999"), Some("C0004999".into()));
        ix.set("c0004999", Slot::Target { id: 9, hash: 0 });
        assert_eq!(ix.fold_candidate("c0004999"), None);
        assert_eq!(ix.fold_candidate("C0004999 "), None);
    }

    #[test]
    fn rejected_keys_are_not_fold_candidates() {
        let mut ix = KeyIndex::new();
        let at = ix.at(&Location::default());
        ix.set("Gold", Slot::Rejected { location: at });
        assert_eq!(ix.fold_candidate("gold"), None);
        // accepted later under the same key: not added to the fold index already built
        ix.set("Gold", Slot::Target { id: 1, hash: 0 });
        assert_eq!(ix.fold_candidate("gold"), None);
        // but a fold index built afterwards has it
        let mut fresh = KeyIndex::new();
        let at = fresh.at(&Location::default());
        fresh.set("Gold", Slot::Rejected { location: at });
        fresh.set("Gold", Slot::Target { id: 1, hash: 0 });
        assert_eq!(fresh.fold_candidate("gold"), Some("Gold".into()));
    }

    #[test]
    fn locations_are_shared_and_shown_as_given() {
        let mut ix = KeyIndex::new();
        let file: Arc<str> = "in/User.csv".into();
        let sheet: Arc<str> = "User".into();
        for (i, (sheet, column)) in [
            (None, None),
            (Some(sheet.clone()), Some(Column::Letter(3))),
            (Some(sheet.clone()), None),
            (None, Some(Column::Number(4))),
        ]
        .into_iter()
        .enumerate()
        {
            let loc = Location {
                file: file.clone(),
                sheet,
                row: 10 + i as u64,
                column,
            };
            let at = ix.at(&loc);
            assert_eq!(at.location(), loc);
            assert_eq!(at.to_string(), loc.to_string());
            // an equal location from other Arcs shares the same source
            let copy = Location {
                file: "in/User.csv".into(),
                sheet: loc.sheet.as_deref().map(Into::into),
                ..loc.clone()
            };
            assert!(Arc::ptr_eq(&ix.at(&copy).src, &at.src));
            ix.set(
                &format!("k{i}"),
                Slot::Rejected {
                    location: At::from(&loc),
                },
            );
            match ix.get(&format!("k{i}")) {
                Some(Slot::Rejected { location }) => {
                    assert!(Arc::ptr_eq(&location.src, &at.src));
                    assert_eq!(location.location(), loc);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(ix.sources.len(), 4);
    }

    #[test]
    fn slots_are_small() {
        assert!(std::mem::size_of::<Slot>() <= 32);
        assert_eq!(std::mem::size_of::<At>(), 16);
    }
}
