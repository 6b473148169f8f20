//! Places the columns of one sample: which kind of export it is (a list of accounts, a
//! payments export, a file already named after an entity type), the field each column holds
//! by its header or its values, and the column that names each row's account.

use super::Sample;
use crate::sniff;
use crate::synonyms::{self, HeaderMatch};
use ferry_catalogue::{normalized, Entity, Kind, Known};
use std::cmp::Reverse;

/// The entity types a list of accounts fills, in the order their records are written.
pub const ACCOUNT_ENTITIES: &[&str] = &[
    "User",
    "ChildAccount",
    "Contact",
    "ContactEmail",
    "ContactPhone",
    "ContactFax",
    "ContactAddress",
    "UserExtendedAttribute",
    "UserNote",
];

/// Entity types whose fields a header may name by the field's own name in a list of
/// accounts (the others only by the synonym table).
const ACCOUNT_DIRECT: &[&str] = &["User", "Contact", "ContactAddress"];

/// Entity types of which one row may give several records (one per column).
pub const MANY_PER_ROW: &[&str] = &["ContactEmail", "ContactPhone", "ContactFax", "UserNote"];

/// What kind of export a sample is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Accounts and their contacts (a member list, a CRM's companies or people).
    Account,
    /// Payments received.
    Payment,
    /// A file, sheet or element already named after this entity type.
    Native(&'static str),
}

/// Where one column goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub entity: &'static str,
    pub field: &'static str,
    pub tag: Option<&'static str>,
    pub group: String,
    pub confidence: f64,
    /// The synonym table entry that placed it (`usize::MAX`: a field's name or the values).
    pub rank: usize,
}

/// The column that names each row's account, and why it was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub column: usize,
    pub confidence: f64,
    pub why: String,
}

/// A sample's columns placed.
#[derive(Debug, Clone)]
pub struct Placement {
    pub family: Family,
    /// By column index.
    pub columns: Vec<Option<Placed>>,
    pub account: Option<Account>,
    /// The rows are contacts of accounts another sample makes (no `User` of their own).
    pub child: bool,
}

/// A column's sampled values as text (cells a short row lacks are empty).
pub fn values(s: &Sample, i: usize) -> Vec<&str> {
    s.rows
        .iter()
        .map(|r| r.get(i).map_or("", String::as_str))
        .collect()
}

/// Places every column of a sample.
pub fn place(s: &Sample) -> Placement {
    if let Some(e) = native_entity(s) {
        return native(s, e);
    }
    let pay = by_headers(s, &["Payment"], &["Payment"]);
    let acct = by_headers(s, ACCOUNT_ENTITIES, ACCOUNT_DIRECT);
    let has = |m: &[Option<Placed>], f: &str| m.iter().flatten().any(|p| p.field == f);
    // A payment's date by its values: a column of dates no header of either kind claims (a
    // member list's `Joined` is the account's, not a payment's).
    let claimed: Vec<Option<Placed>> = pay
        .iter()
        .zip(&acct)
        .map(|(p, a)| p.clone().or(a.clone()))
        .collect();
    let free_date = (!has(&pay, "Date"))
        .then(|| date_column(s, &claimed))
        .flatten();
    let family = if has(&pay, "Credit") && (has(&pay, "Date") || free_date.is_some()) {
        Family::Payment
    } else {
        Family::Account
    };
    let mut columns = match family {
        Family::Payment => pay,
        _ => acct,
    };
    // Legacy ids name the account; they are no field of their own.
    for c in columns.iter_mut() {
        if c.as_ref()
            .is_some_and(|p| Known::User.is_named(p.entity) && p.field == "Name")
        {
            *c = None;
        }
    }
    judge_by_values(s, &mut columns);
    by_values(s, family, free_date, &mut columns);
    resolve_conflicts(&mut columns);
    let account = account(s, family, &columns);
    Placement {
        family,
        columns,
        account,
        child: false,
    }
}

/// The entity type a part is named after (`User.csv`, a `Contact` sheet), if any.
fn native_entity(s: &Sample) -> Option<&'static Entity> {
    let name = match (&s.sheet, &s.element) {
        (Some(sheet), _) => sheet.as_str(),
        (None, Some(element)) => element.as_str(),
        (None, None) => {
            let base = s.file.rsplit(['/', '\\']).next().unwrap_or(&s.file);
            base.rsplit_once('.').map_or(base, |(stem, _)| stem)
        }
    };
    ferry_catalogue::entity(name).or_else(|| ferry_catalogue::entity_alias(name))
}

/// A part named after an entity type: its headers are that type's fields.
fn native(s: &Sample, e: &'static Entity) -> Placement {
    let columns = s
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            first_of_its_name(s, i)?;
            let field = e
                .field_def(h)
                .map(|f| f.name)
                .or_else(|| e.field_alias(h))
                .or_else(|| ferry_catalogue::same_name(h, e.fields.iter().map(|f| f.name)))?;
            Some(Placed {
                entity: e.name,
                field,
                tag: None,
                group: String::new(),
                confidence: synonyms::confidence(h, field),
                rank: usize::MAX,
            })
        })
        .collect();
    Placement {
        family: Family::Native(e.name),
        columns,
        account: None,
        child: false,
    }
}

/// `Some(i)` when a mapping can name the column: its header is given, no earlier column has
/// the same, and it has no braces (a template could not name it).
pub fn first_of_its_name(s: &Sample, i: usize) -> Option<usize> {
    let h = s.headers.get(i)?;
    let usable = !h.trim().is_empty() && !h.contains(['{', '}']);
    (usable && !s.headers[..i].contains(h)).then_some(i)
}

/// Each column's field by its header: the synonym table, then the fields' own names.
fn by_headers(s: &Sample, entities: &[&str], direct: &[&str]) -> Vec<Option<Placed>> {
    (0..s.headers.len())
        .map(|i| {
            let h = &s.headers[first_of_its_name(s, i)?];
            let m = synonyms::by_table(h, entities).or_else(|| by_field_name(h, direct))?;
            Some(placed(m))
        })
        .collect()
}

fn placed(m: HeaderMatch) -> Placed {
    Placed {
        entity: m.entity,
        field: m.field,
        tag: m.tag,
        group: m.group,
        confidence: m.confidence,
        rank: m.rank,
    }
}

/// A field of `entities` named by `header` across case and punctuation (not the account field).
fn by_field_name(header: &str, entities: &[&str]) -> Option<HeaderMatch> {
    entities.iter().find_map(|name| {
        let e = ferry_catalogue::entity(name)?;
        let fields = e
            .fields
            .iter()
            .map(|f| f.name)
            .filter(|f| e.account_field != Some(f));
        let field = ferry_catalogue::same_name(header, fields)?;
        Some(HeaderMatch {
            entity: e.name,
            field,
            tag: None,
            group: String::new(),
            confidence: synonyms::confidence(header, field),
            rank: usize::MAX,
        })
    })
}

/// The kind of a placed field.
pub fn kind(p: &Placed) -> Option<Kind> {
    Some(ferry_catalogue::entity(p.entity)?.field_def(p.field)?.kind)
}

/// Lowers the confidence of a header match its values contradict (an `Email` column of no
/// e-mails, a `Date` column no date pattern reads).
fn judge_by_values(s: &Sample, columns: &mut [Option<Placed>]) {
    for (i, c) in columns.iter_mut().enumerate() {
        let Some(p) = c else { continue };
        let v = values(s, i);
        let contradicted = match kind(p) {
            Some(Kind::Email) => share_below(sniff::emails(&v), 0.5),
            Some(Kind::Phone) => share_below(sniff::phones(&v), 0.5),
            Some(Kind::Date) => has_values(&v) && sniff::date(&v).is_none(),
            Some(Kind::Money(_) | Kind::Decimal(_)) => {
                has_values(&v) && sniff::number(&v).is_none()
            }
            _ => false,
        };
        if contradicted {
            p.confidence *= 0.6;
        }
    }
}

fn share_below((share, n): (f64, usize), min: f64) -> bool {
    n > 0 && share < min
}

fn has_values(v: &[&str]) -> bool {
    sniff::present(v).next().is_some()
}

/// Places columns no header names by what their values are: e-mails and phone numbers in a
/// list of accounts, a payment's date (`free_date`).
fn by_values(s: &Sample, family: Family, free_date: Option<usize>, columns: &mut [Option<Placed>]) {
    let content = |entity, field, tag, confidence| Placed {
        entity,
        field,
        tag,
        group: String::new(),
        confidence,
        rank: usize::MAX,
    };
    match family {
        Family::Account => {
            for (i, c) in columns.iter_mut().enumerate() {
                if c.is_some() || first_of_its_name(s, i).is_none() || is_id(&s.headers[i]) {
                    continue;
                }
                let v = values(s, i);
                if sniff::emails(&v).0 >= 0.9 {
                    *c = Some(content("ContactEmail", "Email", None, 0.6));
                } else if sniff::phones(&v).0 >= 0.9 {
                    *c = Some(content("ContactPhone", "Phone", None, 0.5));
                }
            }
        }
        Family::Payment => {
            if let Some(i) = free_date {
                columns[i] = Some(content("Payment", "Date", None, 0.5));
            }
        }
        Family::Native(_) => {}
    }
}

/// The first column left unplaced whose every value is a date.
fn date_column(s: &Sample, columns: &[Option<Placed>]) -> Option<usize> {
    (0..s.headers.len()).find(|&i| {
        columns.get(i).is_none_or(Option::is_none)
            && first_of_its_name(s, i).is_some()
            && sniff::date(&values(s, i)).is_some()
    })
}

/// Two columns for one field of a record that a row gives once: the more certain keeps it
/// (on a tie the one of the earlier table entry, then the first), the other is left unplaced.
fn resolve_conflicts(columns: &mut [Option<Placed>]) {
    let slot = |p: &Placed| (p.entity, p.field, p.tag, p.group.clone());
    for i in 0..columns.len() {
        let Some(p) = columns[i].clone() else {
            continue;
        };
        if MANY_PER_ROW.contains(&p.entity) {
            continue;
        }
        let better = columns.iter().enumerate().any(|(j, q)| {
            q.as_ref().is_some_and(|q| {
                j != i
                    && slot(q) == slot(&p)
                    && (q.confidence, Reverse(q.rank), Reverse(j))
                        > (p.confidence, Reverse(p.rank), Reverse(i))
            })
        });
        if better {
            columns[i] = None;
        }
    }
}

/// Whether a header reads like a key: a legacy id of the table, or a name ending in `id`,
/// `no`, `number`, `code`, `ref` or `key`.
fn is_id(header: &str) -> bool {
    let n = normalized(header);
    synonyms::SYNONYMS.iter().any(|s| {
        Known::User.is_named(s.entity) && s.field == "Name" && synonyms::is_one_of(header, s.names)
    }) || ["id", "no", "number", "num", "code", "ref", "key"]
        .iter()
        .any(|end| n.len() > end.len() && n.ends_with(end))
}

/// The column that names each row's account: a legacy id (by the table, else a key-like
/// header whose sampled values are all given and distinct), else an e-mail column, else a
/// name (to check).
fn account(s: &Sample, family: Family, columns: &[Option<Placed>]) -> Option<Account> {
    let found = |(column, confidence, why): (usize, f64, &str)| Account {
        column,
        confidence,
        why: why.to_string(),
    };
    legacy_id(s, family, columns)
        .or_else(|| email_column(s, columns))
        .or_else(|| name_column(s, columns))
        .map(found)
}

/// Whether column `i` is free to name the account: no field holds it and a mapping can name it.
fn free(s: &Sample, columns: &[Option<Placed>], i: usize) -> bool {
    columns[i].is_none() && first_of_its_name(s, i).is_some()
}

type Choice = (usize, f64, &'static str);

fn legacy_id(s: &Sample, family: Family, columns: &[Option<Placed>]) -> Option<Choice> {
    let mut free = (0..s.headers.len()).filter(|&i| free(s, columns, i));
    // A payments export's bare `id` is the payment's own.
    let own_id = |i: usize| family == Family::Payment && normalized(&s.headers[i]) == "id";
    let by_table = |i: usize| {
        !own_id(i)
            && synonyms::by_table(&s.headers[i], &["User"]).is_some_and(|m| m.field == "Name")
    };
    if let Some(i) = free.clone().find(|&i| by_table(i)) {
        return Some((i, 0.8, "a legacy id names each account"));
    }
    if family != Family::Account {
        return None;
    }
    let key = |i: usize| is_id(&s.headers[i]) && sniff::is_unique(&values(s, i));
    free.find(|&i| key(i)).map(|i| {
        (
            i,
            0.6,
            "a key column names each account (every sampled value is given and distinct)",
        )
    })
}

/// An e-mail column: placed as one, named as one, else one whose values are e-mails.
fn email_column(s: &Sample, columns: &[Option<Placed>]) -> Option<Choice> {
    let n = s.headers.len();
    let by_header = |i: usize| {
        columns[i]
            .as_ref()
            .is_some_and(|p| Known::ContactEmail.is_named(p.entity))
            || (free(s, columns, i)
                && synonyms::by_table(&s.headers[i], &["ContactEmail"]).is_some())
    };
    let by_values = |i: usize| free(s, columns, i) && sniff::emails(&values(s, i)).0 >= 0.9;
    let i = (0..n)
        .find(|&i| by_header(i))
        .or_else(|| (0..n).find(|&i| by_values(i)))?;
    Some((i, 0.7, "no legacy id column: the e-mail names each account"))
}

/// A name column, else the first column a mapping can name: a person has to check.
fn name_column(s: &Sample, columns: &[Option<Placed>]) -> Option<Choice> {
    let n = s.headers.len();
    let is_name = |i: usize| {
        columns[i]
            .as_ref()
            .is_some_and(|p| matches!(p.field, "ContactName" | "ContactCompany"))
            || (free(s, columns, i)
                && synonyms::by_table(&s.headers[i], &["Contact"])
                    .is_some_and(|m| m.field == "ContactName"))
    };
    if let Some(i) = (0..n).find(|&i| is_name(i)) {
        return Some((
            i,
            0.3,
            "check: no id or e-mail column; names are not always unique",
        ));
    }
    let i = (0..n).find(|&i| first_of_its_name(s, i).is_some())?;
    Some((i, 0.3, "check: no id, e-mail or name column"))
}
