//! One account as the console's account page shows it: its facts, balance (computed as
//! `ferry report balances` computes it), parent and child accounts, contacts with their contact
//! points, packages, tickets, payment methods (masked as stored) and certifications, each with
//! the run, file, sheet and row it came from ([`Origin`]). Every table is read once for the
//! account (no query per contact); invoices and payments are `account_ledger.rs`'s.

use crate::account_ledger::{self, Invoice, Payment};
use crate::accounts::texts;
use crate::balances::{balance_of, Balance};
use crate::origin::{self, Origin};
use ferry_store::{params, Row, StoreError, Target};
use std::collections::HashMap;

/// Everything the account page shows of one account.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// The account's key (`HSC-0042`).
    pub name: String,
    /// What people call the account: its company, else its first billing contact's name, else
    /// its first contact's name; empty when it has none of them.
    pub title: String,
    /// Where the account record came from.
    pub origin: Origin,
    /// (label, value) of the account's non-empty facts, in the page's order.
    pub facts: Vec<(String, String)>,
    pub balance: Option<Balance>,
    /// The parent account's name, or empty.
    pub parent: String,
    pub children: Vec<String>,
    pub contacts: Vec<Contact>,
    pub invoices: Vec<Invoice>,
    pub payments: Vec<Payment>,
    /// (package name, next bill date or empty, origin).
    pub packages: Vec<(String, String, Origin)>,
    pub tickets: Vec<Ticket>,
    /// (reference, masked description, origin).
    pub methods: Vec<(String, String, Origin)>,
    pub certifications: Vec<Certification>,
}

/// A contact of the account and its contact points: (label, value, origin), e-mails first,
/// then phones, faxes, other points and addresses, each in the order they were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub kind: String,
    pub title: String,
    pub company: String,
    pub points: Vec<(String, String, Origin)>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ticket {
    pub id: String,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub date: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Certification {
    pub program: String,
    pub component: String,
    pub status: String,
    pub grade: String,
    pub completed: String,
    /// The run that migrated the registration (its place is the legacy record's).
    pub origin: Origin,
}

/// The account named `name`, or `None` if the target has none.
pub fn account(t: &Target, name: &str) -> Result<Option<Account>, StoreError> {
    let Some(u) = t.first(
        &format!("SELECT u.name, u.role, coalesce(u.status_type, ''), coalesce(u.currency, ''), coalesce(u.created_date, ''), coalesce(u.email, ''), coalesce(u.owner, ''), {} FROM \"user\" u WHERE u.name = ?1", origin::columns("u")),
        params![name],
    )?
    else {
        return Ok(None);
    };
    let rows = |sql: &str| t.rows(sql, params![name]);
    Ok(Some(Account {
        name: name.to_string(),
        title: title(t, name)?,
        origin: Origin::at(&u, 7),
        facts: facts(&u),
        balance: balance_of(t, name)?,
        parent: texts(&rows("SELECT parent FROM child_account WHERE name = ?1")?)
            .into_iter()
            .next()
            .unwrap_or_default(),
        children: texts(&rows(
            "SELECT name FROM child_account WHERE parent = ?1 ORDER BY name",
        )?),
        contacts: contacts(t, name)?,
        invoices: account_ledger::invoices(t, name)?,
        payments: account_ledger::payments(t, name)?,
        packages: triples(&rows(&format!("SELECT p.name, coalesce(p.next_bill_date, ''), {} FROM user_package p WHERE p.\"user\" = ?1 ORDER BY p.id", origin::columns("p")))?),
        tickets: tickets(t, name)?,
        methods: methods(t, name)?,
        certifications: certifications(t, name)?,
    }))
}

fn facts(u: &Row) -> Vec<(String, String)> {
    [
        ("Owner", u.text(6)),
        ("Role", u.text(1)),
        ("Status", u.text(2)),
        ("Currency", u.text(3)),
        ("Created", u.text(4)),
        ("E-mail", u.text(5)),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// (text, text, origin) of rows selecting two texts then [`origin::columns`].
fn triples(rows: &[Row]) -> Vec<(String, String, Origin)> {
    rows.iter()
        .map(|r| (r.text(0), r.text(1), Origin::at(r, 2)))
        .collect()
}

/// What people call account `name`: its company, else its first billing contact's name, else
/// its first contact's name (empty: none).
fn title(t: &Target, name: &str) -> Result<String, StoreError> {
    let first = |sql: &str| -> Result<String, StoreError> {
        Ok(texts(&t.rows(sql, params![name])?)
            .into_iter()
            .find(|s| !s.trim().is_empty())
            .unwrap_or_default())
    };
    let company = first("SELECT company FROM user_company WHERE \"user\" = ?1 ORDER BY id")?;
    if !company.is_empty() {
        return Ok(company);
    }
    first("SELECT contact_name FROM contact WHERE \"user\" = ?1 ORDER BY CASE WHEN contact_type = 'Billing Contact' THEN 0 ELSE 1 END, id")
}

/// The contact-point tables, in the order a contact's points are listed: each query gives
/// (contact name, label, value, `{origin}`) for one account, in the order the points were
/// written.
const POINTS: [&str; 5] = [
    "SELECT contact_name, 'E-mail', email, {origin} FROM contact_email x WHERE \"user\" = ?1 ORDER BY id",
    "SELECT contact_name, coalesce(contact_point_type, 'Phone'), phone, {origin} FROM contact_phone x WHERE \"user\" = ?1 ORDER BY id",
    "SELECT contact_name, coalesce(contact_point_type, 'Fax'), phone, {origin} FROM contact_fax x WHERE \"user\" = ?1 ORDER BY id",
    "SELECT contact_name, contact_point_type, value, {origin} FROM contact_point x WHERE \"user\" = ?1 ORDER BY id",
    "SELECT contact_name, 'Address', address1 || coalesce(', ' || address2, '') || coalesce(', ' || city, '') || coalesce(', ' || region, '') || coalesce(' ' || postal_code, '') || coalesce(', ' || country, ''), {origin} FROM contact_address x WHERE \"user\" = ?1 ORDER BY id",
];

type Points = HashMap<String, Vec<(String, String, Origin)>>;

fn contacts(t: &Target, name: &str) -> Result<Vec<Contact>, StoreError> {
    let mut points: Points = HashMap::new();
    for sql in POINTS {
        let sql = sql.replace("{origin}", &origin::columns("x"));
        for p in t.rows(&sql, params![name])? {
            // A point of no contact belongs to none (`contact_name = ?` never matches NULL).
            let Some(contact) = p.opt_text(0) else {
                continue;
            };
            points
                .entry(contact)
                .or_default()
                .push((p.text(1), p.text(2), Origin::at(&p, 3)));
        }
    }
    Ok(t.rows(
        &format!("SELECT contact_name, coalesce(contact_type, ''), coalesce(contact_title, ''), coalesce(contact_company, ''), {} FROM contact x WHERE \"user\" = ?1 ORDER BY id", origin::columns("x")),
        params![name],
    )?
    .into_iter()
    .map(|c| Contact {
        points: points.get(&c.text(0)).cloned().unwrap_or_default(),
        name: c.text(0),
        kind: c.text(1),
        title: c.text(2),
        company: c.text(3),
        origin: Origin::at(&c, 4),
    })
    .collect())
}

fn tickets(t: &Target, name: &str) -> Result<Vec<Ticket>, StoreError> {
    Ok(t.rows(
        &format!("SELECT ticket_id, subject, coalesce(status, ''), coalesce(priority, ''), coalesce(date, ''), {} FROM ticket x WHERE \"user\" = ?1 ORDER BY id", origin::columns("x")),
        params![name],
    )?
    .iter()
    .map(|r| Ticket {
        id: r.text(0),
        subject: r.text(1),
        status: r.text(2),
        priority: r.text(3),
        date: r.text(4),
        origin: Origin::at(r, 5),
    })
    .collect())
}

/// Payment methods as stored: brand and last four digits, never a full number.
fn methods(t: &Target, name: &str) -> Result<Vec<(String, String, Origin)>, StoreError> {
    Ok(triples(&t.rows(
        &format!("SELECT m.ref,
           coalesce((SELECT 'Card ' || coalesce(c.card_brand, '') || ' ending ' || c.card_last4 || ', expires ' || c.expiry_month || '/' || c.expiry_year FROM user_payment_method_credit_card c WHERE c.ref = m.ref),
                    (SELECT 'Bank account (' || a.account_type || ') ending ' || a.account_last4 FROM user_payment_method_ach a WHERE a.ref = m.ref),
                    (SELECT 'Cheque' || coalesce(', ' || k.bank_name, '') FROM user_payment_method_check k WHERE k.ref = m.ref),
                    (SELECT 'Cash' FROM user_payment_method_cash h WHERE h.ref = m.ref),
                    'No details')
           || CASE WHEN m.\"default\" = 1 THEN ' (default)' ELSE '' END, {}
         FROM user_payment_method m WHERE m.\"user\" = ?1 ORDER BY m.id", origin::columns("m")),
        params![name],
    )?))
}

fn certifications(t: &Target, name: &str) -> Result<Vec<Certification>, StoreError> {
    Ok(t.rows(
        "SELECT p.title, coalesce(e.component_code, ''), coalesce(e.status, r.status, ''), coalesce(e.grade, ''), coalesce(e.completed_date, r.completed_date, ''), r.run_id
         FROM cert_registration r JOIN cert_program p ON p.code = r.program_code
         LEFT JOIN cert_enrollment e ON e.registration_id = r.id
         WHERE r.\"user\" = ?1 ORDER BY p.title, e.component_code",
        params![name],
    )?
    .iter()
    .map(|r| Certification {
        program: r.text(0),
        component: r.text(1),
        status: r.text(2),
        grade: r.text(3),
        completed: r.text(4),
        origin: Origin::of_run(r.opt_int(5)),
    })
    .collect())
}
