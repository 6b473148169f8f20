//! The run's key indexes: for each entity type and set of fields, which keys the target and
//! this run hold (loaded from the target on first use), and which keys this run rejected.

use crate::RunError;
use ferry_catalogue::{Entity, EntityId};
use ferry_findings::Location;
use ferry_store::Target;
use ferry_validate::{KeyIndex, Slot};
use rustc_hash::FxHashMap;

/// One entity type's indexes: (fields, index), one per set of fields (found without building
/// a lookup key).
pub(crate) type EntityIndexes = Vec<(Vec<String>, KeyIndex)>;

/// The key indexes of a run.
pub(crate) struct Indexes<'a> {
    target: &'a Target,
    run: i64,
    by_entity: FxHashMap<EntityId, EntityIndexes>,
}

impl<'a> Indexes<'a> {
    pub(crate) fn new(target: &'a Target, run: i64) -> Indexes<'a> {
        Indexes {
            target,
            run,
            by_entity: FxHashMap::default(),
        }
    }

    /// The index of `entity` by `fields`, loaded from the target on first use.
    pub(crate) fn index(
        &mut self,
        entity: &'static Entity,
        fields: &[&str],
    ) -> Result<&mut KeyIndex, RunError> {
        let eid = entity.id();
        let found = self
            .by_entity
            .get(&eid)
            .and_then(|v| v.iter().position(|(f, _)| f.iter().eq(fields.iter())));
        let i = match found {
            Some(i) => i,
            None => {
                let ix = self.load(entity, fields)?;
                let v = self.by_entity.entry(eid).or_default();
                v.push((fields.iter().map(|f| f.to_string()).collect(), ix));
                v.len() - 1
            }
        };
        Ok(&mut self.by_entity.get_mut(&eid).expect("present")[i].1)
    }

    /// Reads the index of `entity` by `fields` from the target.
    fn load(&self, entity: &'static Entity, fields: &[&str]) -> Result<KeyIndex, RunError> {
        let mut ix = KeyIndex::new();
        let is_key = entity.key_fields() == fields;
        // A resumed run finds its own earlier records as records of this run, where they came from.
        let run = self.run;
        self.target
            .keys(entity, fields, Some(run), |k, rid, hash, origin| {
                let slot = match origin {
                    Some(m) => Slot::Run {
                        id: rid,
                        location: ix.at(&Location {
                            file: m.file.unwrap_or_default().into(),
                            sheet: m.sheet.map(Into::into),
                            row: m.row.unwrap_or(0) as u64,
                            column: None,
                        }),
                    },
                    None => Slot::Target { id: rid, hash },
                };
                if is_key {
                    ix.set(&k, slot);
                } else {
                    ix.set_if_absent(&k, slot);
                }
            })?;
        if is_key {
            for (k, location) in self.target.rejected_keys(run, entity.name)? {
                let location = ix.at(&location);
                ix.set(&k, Slot::Rejected { location });
            }
        }
        Ok(ix)
    }

    /// Marks `key` of `entity` rejected (unless this run holds it already), so that what refers
    /// to it is rejected too.
    pub(crate) fn reject_key(
        &mut self,
        entity: &'static Entity,
        key: &str,
        loc: &Location,
    ) -> Result<(), RunError> {
        let (target, run) = (self.target, self.run);
        let ix = self.index(entity, entity.key_fields())?;
        match ix.get(key) {
            Some(Slot::Run { .. }) | Some(Slot::Rejected { .. }) => {}
            _ => {
                let location = ix.at(loc);
                ix.set(key, Slot::Rejected { location });
                // Kept with the chunk, so that a resumed run still rejects what refers to it.
                target.record_rejected(run, entity.name, key, loc)?;
            }
        }
        Ok(())
    }

    /// Notes that the record at `loc` took `key` onto the stored row `id` (skipped as identical,
    /// skipped or updated under `--on-existing`): references still resolve to the stored row, and a
    /// later record of this run with the same key is a duplicate of this one, whose rejection
    /// taints nothing (SPEC §3.1) — not a second `key.exists` that would reject its referrers.
    pub(crate) fn seen_in_run(
        &mut self,
        entity: &'static Entity,
        key: &str,
        id: i64,
        loc: &Location,
    ) -> Result<(), RunError> {
        let ix = self.index(entity, entity.key_fields())?;
        if let Some(Slot::Target { .. }) | None = ix.get(key) {
            let location = ix.at(loc);
            ix.set(key, Slot::Run { id, location });
        }
        Ok(())
    }

    /// Every index, per entity type (the run loop shrinks them after a phase).
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut EntityIndexes> {
        self.by_entity.values_mut()
    }
}
