//! The first stages of a record: what parsing found (with what `--on-existing update` forgives),
//! the rules that look at the record as given, then its references — found, folded to the
//! stored spelling (`--fold-case`), rejected with their parent, or unknown.

use super::{Draft, Parsed, State};
use crate::log_sink::FindingSink;
use crate::options::OnExisting;
use crate::RunError;
use ferry_catalogue::{self as cat, Ref};
use ferry_findings::Code;
use ferry_sources::RawValue;
use ferry_validate::record::{display_key, KEY_SEP};
use ferry_validate::{Record, Resolve, Slot};

impl State<'_> {
    /// Logs what parsing found and what the rules on the record as given find: the draft of a
    /// record, valid or not.
    pub(super) fn check_parsed(
        &mut self,
        p: &mut Parsed,
        log: &mut dyn FindingSink,
    ) -> Result<Draft, RunError> {
        let entity = p.rec.entity;
        // An update needs only the key and the fields it changes: the stored record has the rest.
        if self.eff.on_existing == OnExisting::Update {
            if let Some(k) = &p.key {
                if matches!(
                    self.indexes.index(entity, entity.key_fields())?.get(k),
                    Some(Slot::Target { .. })
                ) {
                    let key_fields = entity.key_fields();
                    p.findings.retain(|f| {
                        !(f.code == Code::Required
                            && f.field
                                .as_deref()
                                .is_some_and(|name| !key_fields.contains(&name)))
                    });
                }
            }
        }
        let mut invalid = p.findings.iter().any(|f| f.is_error()) || p.broken;
        for f in p.findings.iter() {
            log.push(f)?;
        }
        let (rules, mut env) = self.rules_env();
        invalid |= rules.given(&mut env, &p.rec, log)?;
        Ok(Draft {
            invalid,
            changed: false,
            extra: vec![],
            ledger_key: 0,
            plan: None,
        })
    }

    /// Resolves the record's references. A field whose reference failed is not reported again
    /// by a wider reference.
    pub(super) fn resolve_references(
        &mut self,
        p: &mut Parsed,
        d: &mut Draft,
        log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        let entity = p.rec.entity;
        let mut failed: Vec<&str> = vec![];
        for (j, r) in entity.refs.iter().enumerate() {
            if r.from
                .iter()
                .any(|f| p.rec.field_invalid(f) || failed.contains(f))
            {
                continue;
            }
            let key = if d.changed {
                p.rec.joined(r.from)
            } else {
                p.refs.get_mut(j).and_then(Option::take)
            };
            let Some(key) = key else {
                continue;
            };
            let target = cat::entity(r.target).expect("catalogue");
            let resolved = self
                .indexes
                .index(target, r.to)?
                .resolve(&key, self.eff.fold_case);
            if matches!(resolved, Resolve::Found(_)) {
                continue;
            }
            if self.unresolved(&mut p.rec, r, &key, resolved, log)? {
                d.invalid = true;
                failed.extend(r.from.iter().copied());
            } else {
                d.changed = true;
            }
        }
        Ok(())
    }

    /// A reference that was not found as given: folded (the record takes the stored spelling)
    /// or failed. Returns whether it failed.
    fn unresolved(
        &self,
        rec: &mut Record,
        r: &Ref,
        key: &str,
        resolved: Resolve,
        log: &mut dyn FindingSink,
    ) -> Result<bool, RunError> {
        let entity = rec.entity;
        let at = *r.from.last().expect("a reference has fields");
        let shown = display_key(key);
        match resolved {
            Resolve::Found(_) => Ok(false),
            Resolve::Folded { actual, .. } => {
                log.push(&rec.finding(Code::ReferenceCaseFolded, Some(at), format!("{} \"{shown}\" was matched to \"{}\" ignoring case and spacing (--fold-case).", r.target, display_key(&actual))))?;
                for (f, part) in r.from.iter().zip(actual.split(KEY_SEP)) {
                    let kind = entity.field_def(f).expect("field").kind;
                    rec.set(
                        f,
                        ferry_validate::values::parse(
                            kind,
                            &RawValue::Text(part.to_string()),
                            &self.rec_opts.values,
                        )
                        .ok(),
                    );
                }
                Ok(false)
            }
            Resolve::RejectedParent(loc) => {
                log.push(&rec.finding(
                    Code::RejectedParent,
                    Some(at),
                    format!(
                        "{} \"{shown}\" was rejected (at {loc}), so this {} is rejected too.",
                        r.target, entity.name
                    ),
                ))?;
                Ok(true)
            }
            Resolve::Unknown { hint } => {
                let what = if r.from.len() == 1 {
                    format!("{} \"{shown}\"", r.from[0])
                } else {
                    format!("{} ({}) \"{shown}\"", r.target, r.from.join(", "))
                };
                log.push(
                    &rec.finding(
                        Code::ReferenceUnknown,
                        Some(at),
                        format!(
                            "{what} matches no {} in the target or earlier in this run.",
                            r.target
                        ),
                    )
                    .hint(hint),
                )?;
                Ok(true)
            }
        }
    }
}
