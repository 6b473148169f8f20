//! In-memory key indexes: what each key of an entity type resolves to — a record in the target,
//! one accepted earlier in this run, or one this run rejected (SPEC §3.1).

use ferry_catalogue::{did_you_mean, fold};
use ferry_findings::Location;
use std::collections::HashMap;

/// What a key stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// In the target before the run (or skipped/updated onto it): row id and content hash.
    Target { id: i64, hash: i64 },
    /// Accepted earlier in this run.
    Run {
        id: i64,
        hash: i64,
        location: Location,
    },
    /// Rejected earlier in this run (referrers are rejected with `reference.rejected_parent`).
    Rejected { location: Location },
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

/// One index per (entity type, key fields).
#[derive(Debug, Default)]
pub struct KeyIndex {
    map: HashMap<Box<str>, Slot>,
    /// folded key → the one actual key with that fold (None when several); built on first miss.
    folded: Option<HashMap<String, Option<Box<str>>>>,
}

impl KeyIndex {
    pub fn new() -> KeyIndex {
        KeyIndex::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Slot> {
        self.map.get(key)
    }

    /// Sets what a key stands for, keeping the fold index current.
    pub fn set(&mut self, key: &str, slot: Slot) {
        let accepted = !matches!(slot, Slot::Rejected { .. });
        let existed = self.map.insert(key.into(), slot).is_some();
        if let Some(folded) = &mut self.folded {
            if accepted && !existed {
                let f = fold(key);
                match folded.get_mut(&f) {
                    Some(one) => {
                        if one.as_deref() != Some(key) {
                            *one = None;
                        }
                    }
                    None => {
                        folded.insert(f, Some(key.into()));
                    }
                }
            }
        }
    }

    /// Inserts only if the key is new (the first record with a key is the one references follow).
    pub fn set_if_absent(&mut self, key: &str, slot: Slot) {
        if !self.map.contains_key(key) {
            self.set(key, slot);
        }
    }

    fn build_fold(&mut self) {
        let mut folded: HashMap<String, Option<Box<str>>> = HashMap::new();
        for (k, slot) in &self.map {
            if matches!(slot, Slot::Rejected { .. }) {
                continue;
            }
            folded
                .entry(fold(k))
                .and_modify(|one| *one = None)
                .or_insert_with(|| Some(k.clone()));
        }
        self.folded = Some(folded);
    }

    /// The one accepted key that folds like `key`, if there is exactly one.
    pub fn fold_candidate(&mut self, key: &str) -> Option<String> {
        if self.folded.is_none() {
            self.build_fold();
        }
        let f = fold(key);
        let one = self.folded.as_ref().expect("built").get(&f)?.as_deref()?;
        (one != key).then(|| one.to_string())
    }

    /// Resolves a reference; `fold_case` accepts a unique folded match.
    pub fn resolve(&mut self, key: &str, fold_case: bool) -> Resolve {
        match self.map.get(key) {
            Some(Slot::Target { id, .. }) | Some(Slot::Run { id, .. }) => {
                return Resolve::Found(*id)
            }
            Some(Slot::Rejected { location }) => return Resolve::RejectedParent(location.clone()),
            None => {}
        }
        match self.fold_candidate(key) {
            Some(actual) => {
                if fold_case {
                    match self.map.get(actual.as_str()) {
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
        ix.set(
            "Business",
            Slot::Rejected {
                location: loc.clone(),
            },
        );
        assert_eq!(ix.resolve("Business", false), Resolve::RejectedParent(loc));
        // a new key after the fold index exists is folded too; two candidates mean no hint
        ix.set(
            "RESIDENTIAL",
            Slot::Run {
                id: 2,
                hash: 0,
                location: Location::default(),
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
}
