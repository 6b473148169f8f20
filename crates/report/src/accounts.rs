//! Account search for the console's Records page: accounts found by name, e-mail, contact name
//! or phone digits, each with its first contact, e-mail, phone and status (one query per table
//! for the whole page of hits, not one per hit).

use ferry_store::{params, Cell, Row, StoreError, Target};
use std::collections::HashMap;

/// One account a search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountHit {
    pub name: String,
    /// The account's first e-mail contact point (by id), or empty.
    pub email: String,
    /// The account's first phone (as written in the source), or empty.
    pub phone: String,
    /// The account's first contact's name, or empty.
    pub contact: String,
    pub status: String,
}

/// How many accounts the target holds.
pub fn count(t: &Target) -> Result<i64, StoreError> {
    t.int("SELECT count(*) FROM \"user\"", &[])
}

/// A `LIKE` pattern matching `q` anywhere, case-insensitively (with `ESCAPE '\'`).
pub(crate) fn like(q: &str) -> String {
    anywhere(&q.to_lowercase())
}

/// A `LIKE` pattern matching `q` as it is, anywhere (with `ESCAPE '\'`).
fn anywhere(q: &str) -> String {
    format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// The names of the accounts matching `q`, in byte order, at most `limit + 1` of them (so the
/// caller can tell there were more). Names, e-mails and contact names are compared folded
/// (`zoe` finds `Zoë`, `ZOE` too: [`ferry_store::fold`]), in the query: no row is read into
/// Rust to be compared.
fn matching_names(t: &Target, q: &str, limit: usize) -> Result<Vec<String>, StoreError> {
    let pattern = anywhere(&ferry_store::fold::fold(q));
    let f = |col: &str| t.folded(col);
    let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
    // A phone is matched on its digits (as given or in E.164), so any way of writing it finds it.
    let phone = if digits.len() >= 4 {
        format!("%{digits}%")
    } else {
        "\u{1}never".to_string()
    };
    let rows = t.rows(
        &format!("SELECT name FROM (
           SELECT u.name FROM \"user\" u WHERE {} LIKE ?1 ESCAPE '\\' OR {} LIKE ?1 ESCAPE '\\'
           UNION SELECT e.\"user\" FROM contact_email e WHERE {} LIKE ?1 ESCAPE '\\'
           UNION SELECT c.\"user\" FROM contact c WHERE {} LIKE ?1 ESCAPE '\\'
           UNION SELECT p.\"user\" FROM contact_phone p WHERE replace(replace(replace(replace(replace(coalesce(p.phone_e164, p.phone), '+', ''), '-', ''), ' ', ''), '(', ''), ')', '') LIKE ?2
              OR replace(replace(replace(replace(replace(p.phone, '+', ''), '-', ''), ' ', ''), '(', ''), ')', '') LIKE ?2
         ) AS found ORDER BY name LIMIT {}",
            f("u.name"),
            f("coalesce(u.email, '')"),
            f("e.email"),
            f("c.contact_name"),
            limit + 1
        ),
        params![pattern, phone],
    )?;
    Ok(rows.iter().map(|r| r.text(0)).collect())
}

/// `?1, ?2, …` for `n` parameters.
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first value (in the query's order) per account of a `SELECT account, value` query over
/// the accounts `names`.
fn first_per_account(
    t: &Target,
    sql: &str,
    names: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    let ps: Vec<Cell> = names.iter().map(|n| Cell::Text(n.clone())).collect();
    let sql = sql.replace("(?*)", &format!("({})", placeholders(names.len())));
    let mut out = HashMap::new();
    for r in t.rows(&sql, &ps)? {
        out.entry(r.text(0)).or_insert_with(|| r.text(1));
    }
    Ok(out)
}

/// The accounts matching `q` (by name, e-mail, contact name or phone digits), in byte order:
/// the first `limit` of them.
pub fn search(t: &Target, q: &str, limit: usize) -> Result<Vec<AccountHit>, StoreError> {
    let mut names = matching_names(t, q, limit)?;
    names.truncate(limit);
    if names.is_empty() {
        return Ok(vec![]);
    }
    let first = |sql: &str| first_per_account(t, sql, &names);
    let mut email =
        first("SELECT \"user\", email FROM contact_email WHERE \"user\" IN (?*) ORDER BY id")?;
    let mut phone =
        first("SELECT \"user\", phone FROM contact_phone WHERE \"user\" IN (?*) ORDER BY id")?;
    let mut contact =
        first("SELECT \"user\", contact_name FROM contact WHERE \"user\" IN (?*) ORDER BY id")?;
    let status = first("SELECT name, coalesce(status_type, '') FROM \"user\" WHERE name IN (?*)")?;
    Ok(names
        .into_iter()
        .map(|name| AccountHit {
            email: email.remove(&name).unwrap_or_default(),
            phone: phone.remove(&name).unwrap_or_default(),
            contact: contact.remove(&name).unwrap_or_default(),
            status: status.get(&name).cloned().unwrap_or_default(),
            name,
        })
        .collect())
}

/// The texts of column 0 of `rows`.
pub(crate) fn texts(rows: &[Row]) -> Vec<String> {
    rows.iter().map(|r| r.text(0)).collect()
}
