//! `--max-records`: which records a run admits, decided in spool order.

use ferry_catalogue::{self as cat, Entity, EntityId};
use ferry_sources::RawRecord;
use ferry_validate::record::KEY_SEP;
use std::collections::HashSet;

/// `--max-records`: which records are left out. It depends only on the records in spool order
/// (across phases), so the producer thread decides it, also for records replayed on resume.
#[derive(Default)]
pub(super) struct Admission {
    max_records: u64,
    /// How many User records were seen, and the accounts admitted.
    users_seen: u64,
    admitted: HashSet<String>,
    /// Records left out, by (entity, key): what refers to them is left out too.
    excluded: HashSet<(EntityId, String)>,
}

impl Admission {
    /// Admits every record (`max_records` 0), or the first `max_records` accounts and what is theirs.
    pub(super) fn new(max_records: u64) -> Admission {
        Admission {
            max_records,
            ..Admission::default()
        }
    }

    /// `--max-records`: whether the record's account is admitted (User records admit themselves).
    pub(super) fn admit(&mut self, e: &'static Entity, raw: &RawRecord) -> bool {
        if self.max_records == 0 {
            return true;
        }
        let value_of = |name: &str| {
            e.field(name)
                .and_then(|fid| raw.get(fid))
                .map(|f| f.value.display().trim().to_string())
        };
        let joined = |fields: &[&str]| -> Option<String> {
            let parts: Option<Vec<String>> = fields.iter().map(|f| value_of(f)).collect();
            parts.map(|p| p.join(&KEY_SEP.to_string()))
        };
        let admitted = if e.is(ferry_catalogue::Known::User) {
            self.users_seen += 1;
            self.users_seen <= self.max_records
        } else if e.refs.iter().any(|r| {
            // A record that names a left-out record anywhere (a child's parent, a ticket's
            // assignee, a payment method's detail, a ticket's tracking) is left out with it,
            // not rejected for a reference it could not see.
            let target = cat::entity(r.target).expect("catalogue").id();
            joined(r.from).is_some_and(|k| self.excluded.contains(&(target, k)))
        }) {
            false
        } else {
            match e.account_field.and_then(value_of) {
                Some(a) => self.admitted.contains(&a),
                None => true,
            }
        };
        if e.is(ferry_catalogue::Known::User) && admitted {
            if let Some(a) = value_of("Name") {
                self.admitted.insert(a);
            }
        }
        if !admitted && !e.key_fields().is_empty() {
            if let Some(k) = joined(e.key_fields()) {
                self.excluded.insert((e.id(), k));
            }
        }
        // Records referred to by a key other than their own (a held package by User and Name).
        if !admitted {
            for fields in cat::lookup_keys(e.id())
                .iter()
                .filter(|f| **f != e.key_fields())
            {
                if let Some(k) = joined(fields) {
                    self.excluded.insert((e.id(), k));
                }
            }
        }
        admitted
    }
}
