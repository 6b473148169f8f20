//! The last stage of a record: write it — as a new row (with its ledger effects, made visible
//! to references and identity checks) or over the stored row (`--on-existing update`, keeping
//! what the record does not give) — and let its rules act on the accepted record.

use super::{Draft, Outcome, Parsed, State};
use crate::log_sink::FindingSink;
use crate::rules::{Accepted, AcceptedRecord};
use crate::RunError;
use ferry_catalogue as cat;
use ferry_findings::Code;
use ferry_sources::RawValue;
use ferry_store::{cells, RowMeta};
use ferry_validate::record::display_key;
use ferry_validate::Slot;
use std::collections::HashSet;

impl State<'_> {
    /// Writes a valid record over the stored row `id` of key `k`.
    pub(super) fn update(
        &mut self,
        p: &mut Parsed,
        d: Draft,
        id: i64,
        k: String,
        log: &mut dyn FindingSink,
    ) -> Result<Outcome, RunError> {
        let entity = p.rec.entity;
        let stored = self.target.fetch(entity, id)?;
        let before = cells::to_texts(entity, &stored);
        // Keep the stored value of every field the record does not give.
        let given: HashSet<u16> = p.given.iter().copied().collect();
        for (i, f) in entity.fields.iter().enumerate() {
            if !given.contains(&(i as u16)) && !entity.key_fields().contains(&f.name) {
                if let Some(t) = &before[i] {
                    p.rec.values[i] = ferry_validate::values::parse(
                        f.kind,
                        &RawValue::Text(t.clone()),
                        &self.rec_opts.values,
                    )
                    .ok();
                }
            }
        }
        let new_hash = d.with_derived(p.rec.content_hash());
        if let Some(Slot::Target { hash: stored, .. }) =
            self.indexes.index(entity, entity.key_fields())?.get(&k)
        {
            if *stored == new_hash {
                self.indexes.seen_in_run(entity, &k, id, &p.rec.location)?;
                self.accepted(p, Accepted::Unchanged, log)?;
                log.push(&p.rec.finding(
                    Code::KeyIdentical,
                    None,
                    format!(
                        "{} \"{}\" is already in the target with these values; skipped.",
                        entity.name,
                        display_key(&k)
                    ),
                ))?;
                return Ok(Outcome::Skipped);
            }
        }
        self.target.record_change(
            self.run,
            entity.name,
            id,
            "update",
            Some(&serde_json::to_string(&before).unwrap_or_default()),
        )?;
        self.target.update(
            entity,
            id,
            &cells::to_cells(entity, &p.rec.values),
            new_hash,
        )?;
        if !d.extra.is_empty() {
            self.target.update_extra(entity, id, &d.extra)?;
        }
        let ix = self.indexes.index(entity, entity.key_fields())?;
        let location = ix.at(&p.rec.location);
        ix.set(&k, Slot::Run { id, location });
        self.accepted(p, Accepted::Updated, log)?;
        Ok(Outcome::Updated)
    }

    /// Writes a valid record as a new row with identity hash `hash`.
    pub(super) fn insert(
        &mut self,
        p: &mut Parsed,
        d: Draft,
        hash: i64,
        log: &mut dyn FindingSink,
    ) -> Result<Outcome, RunError> {
        let entity = p.rec.entity;
        let eid = p.entity;
        let id = {
            let n = self.next_id.get_mut(&eid).expect("prepared");
            let id = *n;
            *n += 1;
            id
        };
        let mut extra = d.extra;
        if let Some(plan) = d.plan {
            let ledger = self.ledger.as_mut().expect("prepared");
            ledger.seq += 1;
            let seq = ledger.seq;
            let invoice = ledger.apply(self.target, plan, entity.name, id)?;
            extra = vec![
                cells::Cell::Int(seq),
                invoice.map(cells::Cell::Int).unwrap_or(cells::Cell::Null),
                cells::Cell::Int(d.ledger_key),
            ];
        }
        let rec = &p.rec;
        let meta = RowMeta {
            run_id: Some(self.run),
            // `str::to_owned`, not `to_string` (which formats through `Display` for an `Arc`).
            file: Some(rec.location.file.as_ref().to_owned()),
            sheet: rec.location.sheet.as_deref().map(str::to_owned),
            row: Some(rec.location.row as i64),
            col: rec.location.column.map(|c| c.render()),
        };
        self.target.insert(
            entity,
            id,
            cells::to_cells(entity, &rec.values),
            extra,
            meta,
            hash,
        )?;
        self.make_visible(p, d.changed, id, hash)?;
        self.accepted(p, Accepted::Inserted, log)?;
        Ok(Outcome::Imported)
    }

    /// Makes a new row visible to references and duplicate checks.
    fn make_visible(
        &mut self,
        p: &mut Parsed,
        changed: bool,
        id: i64,
        hash: i64,
    ) -> Result<(), RunError> {
        let (entity, eid) = (p.rec.entity, p.entity);
        for (j, fields) in cat::lookup_keys(eid).iter().copied().enumerate() {
            let k = if changed {
                p.rec.joined(fields)
            } else {
                p.lookups.get_mut(j).and_then(Option::take)
            };
            if let Some(k) = k {
                let ix = self.indexes.index(entity, fields)?;
                if ix.get(&k).is_none() {
                    let location = ix.at(&p.rec.location);
                    ix.set(&k, Slot::Run { id, location });
                }
            }
        }
        if let Some(set) = self.identities.get_mut(&eid) {
            set.insert(hash);
        }
        Ok(())
    }

    /// The record's rules act on it, accepted as `how`.
    pub(super) fn accepted(
        &mut self,
        p: &mut Parsed,
        how: Accepted,
        log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        let (rules, mut env) = self.rules_env();
        let mut acc = AcceptedRecord {
            rec: &p.rec,
            how,
            password: &mut p.login_password,
        };
        rules.accepted(&mut env, &mut acc, log)
    }
}
