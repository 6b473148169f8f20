//! `ferry report balances` (SPEC §13): one row per account in the target — Balance, OpenInvoices,
//! Undisbursed — sorted by User in byte order, money as plain decimals with 2 to 4 places.

use ferry_store::cells::money_from_e4;
use ferry_store::{StoreError, Target};
use ferry_validate::values::money_text;
use std::io::{self, Write};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Balance {
    pub user: String,
    pub balance: String,
    pub open_invoices: i64,
    pub undisbursed: String,
}

/// Money in ten-thousandths as `report balances` writes it (a plain decimal, 2 to 4 places).
pub fn money(e4: i64) -> String {
    money_text(money_from_e4(e4))
}

/// Why the balances could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed (a closed pipe, a full disk); said as the target's errors are.
    #[error("target")]
    Write(#[source] io::Error),
}

/// Every account's balance (Σ invoice totals − Σ payments), open invoices and undisbursed amount.
pub fn balances(
    target: &Target,
    f: impl FnMut(Balance) -> io::Result<()>,
) -> Result<(), WriteError> {
    each_balance(target, None, f)
}

/// One account's balance, computed as [`balances`] computes every account's.
pub fn balance_of(target: &Target, user: &str) -> Result<Option<Balance>, StoreError> {
    let mut out = None;
    each_balance(target, Some(user), |b| {
        out = Some(b);
        Ok(())
    })
    .map_err(|e| match e {
        WriteError::Store(e) => e,
        other => StoreError::Other(other.to_string()),
    })?;
    Ok(out)
}

fn each_balance(
    target: &Target,
    only: Option<&str>,
    mut f: impl FnMut(Balance) -> io::Result<()>,
) -> Result<(), WriteError> {
    let filter = if only.is_some() {
        "WHERE u.name = ?1"
    } else {
        ""
    };
    let sql = format!("SELECT u.name,
        coalesce((SELECT sum(total_e4) FROM invoice i WHERE i.\"user\" = u.name), 0),
        coalesce((SELECT count(*) FROM invoice i WHERE i.\"user\" = u.name AND i.closed = 0), 0),
        coalesce((SELECT sum(amount_e4) FROM ledger_line l WHERE l.\"user\" = u.name AND l.kind = 'payment'), 0),
        coalesce((SELECT sum(amount_e4 - disbursed_e4) FROM ledger_line l WHERE l.\"user\" = u.name AND l.kind = 'payment'), 0)
      FROM \"user\" u {filter} ORDER BY u.name");
    let params: Vec<ferry_store::Cell> = only
        .map(|u| ferry_store::Cell::Text(u.to_string()))
        .into_iter()
        .collect();
    // A failed write stops the reading and is returned as itself.
    let mut failed = None;
    let read = target.each(&sql, &params, |r| {
        let b = Balance {
            user: r.text(0),
            balance: money_text(money_from_e4(r.int(1) - r.int(3))),
            open_invoices: r.int(2),
            undisbursed: money_text(money_from_e4(r.int(4))),
        };
        f(b).map_err(|e| {
            let text = e.to_string();
            failed = Some(e);
            StoreError::Other(text)
        })
    });
    match failed {
        Some(e) => Err(WriteError::Write(e)),
        None => Ok(read?),
    }
}

/// The I/O error inside a CSV writer's error.
fn csv_io(e: csv::Error) -> io::Error {
    let text = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        _ => io::Error::other(text),
    }
}

pub fn write_csv(target: &Target, out: impl Write) -> Result<(), WriteError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["User", "Balance", "OpenInvoices", "Undisbursed"])
        .map_err(|e| WriteError::Write(csv_io(e)))?;
    balances(target, |b| {
        w.write_record([
            b.user.as_str(),
            &b.balance,
            &b.open_invoices.to_string(),
            &b.undisbursed,
        ])
        .map_err(csv_io)
    })?;
    w.flush().map_err(WriteError::Write)
}

pub fn write_json(target: &Target, mut out: impl Write) -> Result<(), WriteError> {
    let io = WriteError::Write;
    out.write_all(b"[").map_err(io)?;
    let mut first = true;
    balances(target, |b| {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        out.write_all(b"\n  ")?;
        serde_json::to_writer(&mut out, &b).map_err(io::Error::from)
    })?;
    out.write_all(b"\n]\n").map_err(io)
}
