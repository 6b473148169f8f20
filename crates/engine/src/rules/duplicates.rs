//! Likely duplicate accounts during a run (SPEC §9): an accepted `User` (its Email),
//! `ContactEmail`, `ContactPhone` or `ContactAddress` whose normalized key another account
//! already has — in the target, or earlier in this run — gets a `duplicate.likely` warning
//! naming that account, where its key came from, and the score.
//!
//! The keys the target already holds are loaded when the first phase that needs them starts, one
//! query per table. Rows this run wrote before an interruption come back from the target with
//! their source location and are added after the target's own rows, in the order they were
//! written, so a resumed run holds the same index (and gives the same findings) as one that was
//! never interrupted. The normalization and the blocking index are `ferry_validate::duplicates`.

use super::{Accepted, AcceptedRecord, EntityRule, Env};
use crate::log_sink::FindingSink;
use crate::RunError;
use ferry_catalogue::{self as cat, Entity, Known};
use ferry_findings::{Code, Location};
use ferry_store::schema::quote;
use ferry_store::{Row, Target};
use ferry_validate::duplicates::{self as dup, Likely, Match, Rule};
use ferry_validate::record::KEY_SEP;
use ferry_validate::{Record, Value};
use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

/// What the duplicate check keeps for a run.
#[derive(Default)]
pub(crate) struct Duplicates {
    likely: Likely,
    /// Which key kinds are loaded: e-mails, phones, names with postal codes.
    loaded: [bool; 3],
    /// (User, ContactName) → normalized full name, only for contacts whose first and last
    /// names say something else than their ContactName (`None` until loaded).
    names: Option<Names>,
    sources: Sources,
}

/// (Contacts' names come from the input: foldhash, seeded per process.)
type Names = HashMap<String, Option<String>>;

/// The normalized full name of the contact (User, ContactName).
fn name_of(names: &Option<Names>, user: &str, contact: &str) -> Option<String> {
    let key = |n: &Names| {
        let mut k = String::with_capacity(user.len() + contact.len() + 1);
        k.push_str(user);
        k.push(KEY_SEP);
        k.push_str(contact);
        n.get(&k).cloned()
    };
    match names.as_ref().and_then(key) {
        Some(n) => n,
        None => dup::name_key(contact),
    }
}

/// The sources (file, sheet) of this run's keys. An origin is 0 for a key already in the target,
/// else `(source + 1) << ROW_BITS | row`.
#[derive(Default)]
struct Sources(Vec<(Arc<str>, Option<Arc<str>>)>);

const ROW_BITS: u32 = 40;
const ROW_MASK: u64 = (1 << ROW_BITS) - 1;

impl Sources {
    fn origin(&mut self, loc: &Location) -> u64 {
        let found = self
            .0
            .iter()
            .rposition(|(f, s)| **f == *loc.file && s.as_deref() == loc.sheet.as_deref());
        let i = found.unwrap_or_else(|| {
            self.0.push((loc.file.clone(), loc.sheet.clone()));
            self.0.len() - 1
        });
        ((i as u64 + 1) << ROW_BITS) | (loc.row & ROW_MASK)
    }

    fn describe(&self, origin: u64) -> String {
        if origin == 0 {
            return "already in the target".into();
        }
        let (file, sheet) = &self.0[(origin >> ROW_BITS) as usize - 1];
        let at = Location {
            file: file.clone(),
            sheet: sheet.clone(),
            row: origin & ROW_MASK,
            column: None,
        };
        format!("at {at}")
    }
}

/// One key of a stored row: (account, key, normalized name or empty).
type Found = (String, String, String);

/// Runs `sql`, whose `n` key columns are followed by run_id, src_file, src_sheet, src_row and
/// id. The target's own keys are added at once; the keys this run wrote before an interruption
/// are collected into `later` with their origin, tagged with `table`.
#[allow(clippy::too_many_arguments)]
fn scan(
    target: &Target,
    run: i64,
    sources: &mut Sources,
    sql: &str,
    n: usize,
    table: u8,
    later: &mut Vec<(u8, i64, Found, u64)>,
    key: impl Fn(&Row) -> Option<Found>,
    mut add: impl FnMut(Found, u64),
) -> Result<(), RunError> {
    target.each(sql, &[], |r| {
        let Some(found) = key(r) else {
            return Ok(());
        };
        if r.opt_int(n) == Some(run) {
            let origin = sources.origin(&Location {
                file: r.opt_text(n + 1).unwrap_or_default().into(),
                sheet: r.opt_text(n + 2).map(Into::into),
                row: r.int(n + 3).max(0) as u64,
                column: None,
            });
            later.push((table, r.int(n + 4), found, origin));
        } else {
            add(found, 0);
        }
        Ok(())
    })?;
    Ok(())
}

/// Adds what `scan` kept for later (this run's own rows) in table and id order, as the run
/// wrote them.
fn replay(mut later: Vec<(u8, i64, Found, u64)>, mut add: impl FnMut(Found, u64)) {
    later.sort_by_key(|(t, id, ..)| (*t, *id));
    for (_, _, found, origin) in later {
        add(found, origin);
    }
}

/// The entity types checked for likely duplicates.
const CHECKED: [Known; 4] = [
    Known::User,
    Known::ContactEmail,
    Known::ContactPhone,
    Known::ContactAddress,
];

/// Whether the phase of `e` comes after every phase that checks likely duplicates.
fn after_the_checks(e: &Entity) -> bool {
    let order = cat::dependency_order();
    let pos = |id| order.iter().position(|p| p.entities().contains(&id));
    let last = CHECKED.iter().map(|k| k.id()).filter_map(pos).max();
    matches!((pos(e.id()), last), (Some(p), Some(l)) if p > l)
}

const RUN_COLUMNS: &str = "run_id, src_file, src_sheet, src_row, id";

fn col(e: &Entity, field: &str) -> String {
    quote(&e.field_def(field).expect("catalogue field").column())
}

impl EntityRule for Duplicates {
    fn accepted(
        &mut self,
        _env: &mut Env<'_, '_>,
        acc: &mut AcceptedRecord<'_>,
        log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        match acc.how {
            Accepted::Inserted => self.check(acc.rec, log),
            Accepted::Updated | Accepted::Unchanged | Accepted::Identical => Ok(()),
        }
    }
}

/// Which keys a checked type is found by: e-mails, phones, names with postal codes.
#[derive(Clone, Copy)]
enum KeyKind {
    Email = 0,
    Phone = 1,
    Postal = 2,
}

impl Duplicates {
    /// Loads, before the phase of `e` writes anything, the keys of the target it is checked
    /// against (once per run).
    pub(crate) fn prepare(&mut self, env: &Env<'_, '_>, e: &Entity) -> Result<(), RunError> {
        let kind = match e.known() {
            Some(Known::User | Known::ContactEmail) => KeyKind::Email,
            Some(Known::ContactPhone) => KeyKind::Phone,
            Some(Known::ContactAddress) => KeyKind::Postal,
            _ => {
                if self.loaded != [true; 3] && after_the_checks(e) {
                    // Nothing is checked any more: the index goes before the larger phases.
                    *self = Duplicates {
                        loaded: [true; 3],
                        ..Duplicates::default()
                    };
                }
                return Ok(());
            }
        };
        if self.loaded[kind as usize] {
            return Ok(());
        }
        self.loaded[kind as usize] = true;
        if !matches!(kind, KeyKind::Email) {
            self.load_names(env.target)?;
        }
        match kind {
            KeyKind::Email => self.load_emails(env.target, env.run),
            KeyKind::Phone => self.load_phones(env.target, env.run),
            KeyKind::Postal => self.load_postals(env.target, env.run),
        }
    }

    /// The e-mails of accounts and contacts in the target.
    fn load_emails(&mut self, target: &Target, run: i64) -> Result<(), RunError> {
        let Duplicates {
            likely, sources, ..
        } = self;
        let mut later = vec![];
        for (table, (k, account)) in [(Known::User, "Name"), (Known::ContactEmail, "User")]
            .into_iter()
            .enumerate()
        {
            let t = k.entity();
            let sql = format!(
                "SELECT {}, {}, {RUN_COLUMNS} FROM {} WHERE {} IS NOT NULL",
                col(t, account),
                col(t, "Email"),
                quote(&t.table()),
                col(t, "Email")
            );
            let key = |r: &Row| {
                Some((
                    r.opt_text(0)?,
                    dup::email_key(&r.opt_text(1)?)?,
                    String::new(),
                ))
            };
            scan(
                target,
                run,
                sources,
                &sql,
                2,
                table as u8,
                &mut later,
                key,
                |(a, k, _), o| likely.email_add(&a, &k, o),
            )?;
        }
        replay(later, |(a, k, _), o| likely.email_add(&a, &k, o));
        Ok(())
    }

    /// The phones of contacts in the target, with their names.
    fn load_phones(&mut self, target: &Target, run: i64) -> Result<(), RunError> {
        let Duplicates {
            likely,
            names,
            sources,
            ..
        } = self;
        let mut later = vec![];
        let t = Known::ContactPhone.entity();
        let phone = t.field_def("Phone").expect("field").column();
        let sql = format!(
            "SELECT {}, {}, {}, {}, {RUN_COLUMNS} FROM {}",
            col(t, "User"),
            col(t, "ContactName"),
            quote(&phone),
            quote(&format!("{phone}_e164")),
            quote(&t.table()),
        );
        let key = |r: &Row| {
            let (user, contact) = (r.opt_text(0)?, r.opt_text(1)?);
            let key = dup::phone_key(&r.opt_text(2)?, r.opt_text(3).as_deref())?;
            let name = name_of(names, &user, &contact)?;
            Some((user, key, name))
        };
        scan(
            target,
            run,
            sources,
            &sql,
            4,
            0,
            &mut later,
            key,
            |(a, k, n), o| likely.phone_add(&a, &k, &n, o),
        )?;
        replay(later, |(a, k, n), o| likely.phone_add(&a, &k, &n, o));
        Ok(())
    }

    /// The postal codes of contacts in the target, with their names.
    fn load_postals(&mut self, target: &Target, run: i64) -> Result<(), RunError> {
        let Duplicates {
            likely,
            names,
            sources,
            ..
        } = self;
        let mut later = vec![];
        let t = Known::ContactAddress.entity();
        let sql = format!(
            "SELECT {}, {}, {}, {RUN_COLUMNS} FROM {} WHERE {} IS NOT NULL",
            col(t, "User"),
            col(t, "ContactName"),
            col(t, "PostalCode"),
            quote(&t.table()),
            col(t, "PostalCode"),
        );
        let key = |r: &Row| {
            let (user, contact) = (r.opt_text(0)?, r.opt_text(1)?);
            let postal = dup::postal_key(&r.opt_text(2)?)?;
            let name = name_of(names, &user, &contact)?;
            Some((user, postal, name))
        };
        scan(
            target,
            run,
            sources,
            &sql,
            3,
            0,
            &mut later,
            key,
            |(a, k, n), o| likely.postal_add(&a, &n, &k, o),
        )?;
        replay(later, |(a, k, n), o| likely.postal_add(&a, &n, &k, o));
        Ok(())
    }

    /// The contacts whose full name is not their ContactName (once, after the Contact phase).
    fn load_names(&mut self, target: &Target) -> Result<(), RunError> {
        if self.names.is_some() {
            return Ok(());
        }
        let t = Known::Contact.entity();
        let sql = format!(
            "SELECT {}, {}, {}, {} FROM {} WHERE {} IS NOT NULL OR {} IS NOT NULL",
            col(t, "User"),
            col(t, "ContactName"),
            col(t, "ContactFirstName"),
            col(t, "ContactLastName"),
            quote(&t.table()),
            col(t, "ContactFirstName"),
            col(t, "ContactLastName"),
        );
        let mut names = HashMap::new();
        target.each(&sql, &[], |r| {
            let (user, contact) = (r.text(0), r.text(1));
            let full = dup::name_key(&dup::full_name(
                r.opt_text(2).as_deref(),
                r.opt_text(3).as_deref(),
                Some(&contact),
            ));
            if full != dup::name_key(&contact) {
                names.insert(format!("{user}{KEY_SEP}{contact}"), full);
            }
            Ok(())
        })?;
        names.shrink_to_fit();
        self.names = Some(names);
        Ok(())
    }

    /// Checks an accepted record against the accounts before it, and adds its keys.
    fn check(&mut self, rec: &Record, log: &mut dyn FindingSink) -> Result<(), RunError> {
        let known = rec.entity.known();
        let account_field = match known {
            Some(Known::User) => "Name",
            Some(Known::ContactEmail | Known::ContactPhone | Known::ContactAddress) => "User",
            _ => return Ok(()),
        };
        let Some(account) = rec.text(account_field) else {
            return Ok(());
        };
        let d = self;
        let contact_name = || name_of(&d.names, account, rec.text("ContactName").unwrap_or(""));
        let (key, name, field) = match known {
            Some(Known::User | Known::ContactEmail) => {
                (rec.text("Email").and_then(dup::email_key), None, "Email")
            }
            Some(Known::ContactPhone) => match rec.get("Phone") {
                Some(Value::Phone { given, e164 }) => (
                    dup::phone_key(given, e164.as_deref()),
                    contact_name(),
                    "Phone",
                ),
                _ => return Ok(()),
            },
            _ => (
                rec.text("PostalCode").and_then(dup::postal_key),
                contact_name(),
                "PostalCode",
            ),
        };
        let Some(key) = key else {
            return Ok(());
        };
        let origin = d.sources.origin(&rec.location);
        let found = match (field, name.as_deref()) {
            ("Email", _) => d.likely.email_check(account, &key, origin),
            ("Phone", Some(n)) => d.likely.phone_check(account, &key, n, origin),
            ("PostalCode", Some(n)) => d.likely.postal_check(account, n, &key, origin),
            _ => None,
        };
        if let Some(m) = found {
            let at = d.sources.describe(m.origin);
            let message = message(rec, account, name.as_deref(), &key, &m, &at);
            log.push(&rec.finding(Code::DuplicateLikely, Some(field), message))?;
        }
        Ok(())
    }
}

/// The warning's sentence: the other account, where its key came from, what matched, the score.
fn message(
    rec: &Record,
    account: &str,
    name: Option<&str>,
    key: &str,
    m: &Match,
    at: &str,
) -> String {
    let name = name.unwrap_or("");
    let what = match m.rule {
        Rule::Email => format!(
            "the same e-mail address \"{}\" (ignoring case and spaces)",
            rec.text("Email").unwrap_or("").trim()
        ),
        Rule::PhoneAndName => format!(
            "the same phone ({key}) and a similar name (\"{name}\" and \"{}\")",
            m.other_name.as_deref().unwrap_or("")
        ),
        Rule::NameAndPostal => {
            format!("the same name and postal code (\"{name}\", {key})")
        }
    };
    let score = match m.rule {
        Rule::PhoneAndName => format!("Jaro-Winkler score {:.2}", m.score),
        _ => format!("score {:.2}", m.score),
    };
    format!(
        "Account \"{account}\" is likely a duplicate of account \"{}\" ({at}): {what}; {score}.",
        m.account
    )
}
