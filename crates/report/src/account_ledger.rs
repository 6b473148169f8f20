//! An account's invoices (with their ledger lines) and payments (with the invoices they were
//! applied to), as the console's account page shows them. Each line's description and date come
//! from the record it was made from: read with one query per source table for the whole account,
//! never one per line.

use crate::accounts::placeholders;
use crate::origin::{self, Origin};
use ferry_store::{params, Cell, Row, StoreError, Target};
use std::collections::HashMap;

/// An invoice of the account, money in ten-thousandths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invoice {
    pub name: String,
    pub closed: bool,
    pub delivered: bool,
    pub total_e4: i64,
    pub paid_e4: i64,
    /// The run that made the invoice.
    pub origin: Origin,
    /// Its ledger lines other than payments, in the order they were written.
    pub lines: Vec<Line>,
}

/// A ledger line and the description and date of the record it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// `debit`, `debit_tax`, `credit`, `credit_tax`, …
    pub kind: String,
    pub tax_rank: Option<i64>,
    pub amount_e4: i64,
    pub description: String,
    pub date: String,
    /// The ledger record the line was made from.
    pub origin: Origin,
}

/// A payment of the account and where it went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payment {
    pub date: String,
    pub description: String,
    pub amount_e4: i64,
    pub disbursed_e4: i64,
    /// The ledger record of the payment.
    pub origin: Origin,
    /// The disbursements of the payment, in the order they were made.
    pub to: Vec<Disbursement>,
}

/// Part of a payment applied to an invoice (possibly another account's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disbursement {
    pub invoice: String,
    /// The account the invoice belongs to.
    pub account: String,
    pub amount_e4: i64,
}

/// The account's invoices, in the order they were written, with their lines.
pub fn invoices(t: &Target, name: &str) -> Result<Vec<Invoice>, StoreError> {
    let lines = t.rows(
        "SELECT l.invoice_id, l.kind, l.tax_rank, l.amount_e4, l.entity, l.row_id FROM ledger_line l
         JOIN invoice i ON i.id = l.invoice_id
         WHERE i.\"user\" = ?1 AND l.kind <> 'payment' ORDER BY l.id",
        params![name],
    )?;
    let sources = sources(t, lines.iter().map(|l| (l.text(4), l.int(5))))?;
    let mut by_invoice: HashMap<i64, Vec<Line>> = HashMap::new();
    for l in &lines {
        let (description, date, origin) = sources
            .get(&(l.text(4), l.int(5)))
            .cloned()
            .unwrap_or_default();
        by_invoice.entry(l.int(0)).or_default().push(Line {
            kind: l.text(1),
            tax_rank: l.opt_int(2),
            amount_e4: l.int(3),
            description,
            date,
            origin,
        });
    }
    Ok(t.rows(
        "SELECT id, name, closed, delivered, total_e4, disbursed_e4, run_id FROM invoice WHERE \"user\" = ?1 ORDER BY id",
        params![name],
    )?
    .into_iter()
    .map(|i| Invoice {
        name: i.text(1),
        closed: i.int(2) != 0,
        delivered: i.int(3) != 0,
        total_e4: i.int(4),
        paid_e4: i.int(5),
        origin: Origin::of_run(i.opt_int(6)),
        lines: by_invoice.remove(&i.int(0)).unwrap_or_default(),
    })
    .collect())
}

/// The account's payments, in the order they were written, with their disbursements.
pub fn payments(t: &Target, name: &str) -> Result<Vec<Payment>, StoreError> {
    let rows = t.rows(
        "SELECT id, amount_e4, disbursed_e4, entity, row_id FROM ledger_line WHERE \"user\" = ?1 AND kind = 'payment' ORDER BY id",
        params![name],
    )?;
    let sources = sources(t, rows.iter().map(|p| (p.text(3), p.int(4))))?;
    let mut to: HashMap<i64, Vec<Disbursement>> = HashMap::new();
    for d in t.rows(
        "SELECT d.payment_line_id, i.name, i.\"user\", d.amount_e4 FROM disbursement d
         JOIN invoice i ON i.id = d.invoice_id
         JOIN ledger_line l ON l.id = d.payment_line_id
         WHERE l.\"user\" = ?1 AND l.kind = 'payment' ORDER BY d.id",
        params![name],
    )? {
        to.entry(d.int(0)).or_default().push(Disbursement {
            invoice: d.text(1),
            account: d.text(2),
            amount_e4: d.int(3),
        });
    }
    Ok(rows
        .iter()
        .map(|p| {
            let (description, date, origin) = sources
                .get(&(p.text(3), p.int(4)))
                .cloned()
                .unwrap_or_default();
            Payment {
                origin,
                date,
                description,
                amount_e4: p.int(1),
                disbursed_e4: p.int(2),
                to: to.remove(&p.int(0)).unwrap_or_default(),
            }
        })
        .collect())
}

/// (description, date, origin) by (entity, row id).
type Sources = HashMap<(String, i64), (String, String, Origin)>;

/// Source rows read per query (well under every backend's limit on parameters).
const CHUNK: usize = 500;

/// The (description, date, origin) of each (entity, row id) given: one query per source table (per
/// [`CHUNK`] rows); a row of an entity with no description or date field gets empty text.
fn sources(t: &Target, of: impl Iterator<Item = (String, i64)>) -> Result<Sources, StoreError> {
    let mut ids: HashMap<String, Vec<i64>> = HashMap::new();
    for (entity, row) in of {
        ids.entry(entity).or_default().push(row);
    }
    let mut out = HashMap::new();
    for (entity, mut rows) in ids {
        let Some(e) = ferry_catalogue::entity(&entity) else {
            continue;
        };
        rows.sort_unstable();
        rows.dedup();
        let has = |f: &str| e.field_def(f).is_some();
        let desc = if has("Description") {
            "coalesce(description, '')"
        } else {
            "''"
        };
        let date = if has("Date") {
            "coalesce(date, '')"
        } else {
            "''"
        };
        for chunk in rows.chunks(CHUNK) {
            let sql = format!(
                "SELECT x.id, {desc}, {date}, {} FROM {} x WHERE x.id IN ({})",
                origin::columns("x"),
                ferry_store::schema::quote(&e.table()),
                placeholders(chunk.len())
            );
            let ps: Vec<Cell> = chunk.iter().map(|&id| Cell::Int(id)).collect();
            for r in t.rows(&sql, &ps)? {
                out.insert((entity.clone(), r.int(0)), source(&r));
            }
        }
    }
    Ok(out)
}

fn source(r: &Row) -> (String, String, Origin) {
    (r.text(1), r.text(2), Origin::at(r, 3))
}
