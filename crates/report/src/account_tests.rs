//! Tests of the console's read side (`accounts.rs`, `account.rs`, `account_ledger.rs`) on a
//! small SQLite target: the right values in the right order, each line's source found (past
//! one chunk of source rows), disbursements to other accounts' invoices, contact points by
//! contact, and search hits with their first contact details.

use crate::account::account;
use crate::account_ledger::Disbursement;
use crate::accounts::search;
use ferry_store::{params, Target};
use std::path::PathBuf;

/// A fresh target in a file of its own, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn target() -> (Target, Scratch) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let path = std::env::temp_dir().join(format!(
        "ferry-report-accounts-{}-{nanos}.db",
        std::process::id()
    ));
    let (t, _) = Target::init(&path).unwrap();
    (t, Scratch(path))
}

/// Lines of `ACC-1`'s invoice (past one chunk of source rows).
const LINES: i64 = 600;

fn fill(t: &Target) {
    t.batch(
        "INSERT INTO \"user\" (rec_hash, name, email, status_type, role) VALUES
           (0, 'ACC-1', 'acc1@example.org', 'Active', 'Member'), (0, 'ACC-2', NULL, NULL, 'Member');
         INSERT INTO contact (rec_hash, \"user\", contact_name, contact_type) VALUES
           (0, 'ACC-1', 'Jane Doe', 'Primary'), (0, 'ACC-1', 'John Doe', 'Billing');
         INSERT INTO contact_email (rec_hash, \"user\", contact_name, email) VALUES
           (0, 'ACC-1', 'John Doe', 'john@example.org'), (0, 'ACC-1', 'Jane Doe', 'jane@example.org'),
           (0, 'ACC-1', NULL, 'nobody@example.org');
         INSERT INTO contact_phone (rec_hash, \"user\", contact_name, phone, contact_point_type) VALUES
           (0, 'ACC-1', 'Jane Doe', '(415) 555-2671', 'Mobile'), (0, 'ACC-1', 'Jane Doe', '555 0100', NULL);
         INSERT INTO invoice (id, \"user\", name, closed, total_e4, disbursed_e4) VALUES
           (1, 'ACC-1', 'INV-1', 0, 6000000, 50000), (2, 'ACC-2', 'INV-2', 1, 100000, 100000);
         INSERT INTO payment (id, rec_hash, \"user\", date, description, credit_e4) VALUES
           (1, 0, 'ACC-1', '2024-02-01', 'Cheque 12', 200000);",
    )
    .unwrap();
    for i in 1..=LINES {
        t.exec(
            "INSERT INTO debit (id, rec_hash, \"user\", date, description, debit_e4) VALUES (?1, 0, 'ACC-1', '2024-01-01', ?2, 10000)",
            params![i, format!("Dues {i}")],
        )
        .unwrap();
        // Written in reverse order of the debits: a line's source is found by its row id.
        t.exec(
            "INSERT INTO ledger_line (\"user\", invoice_id, kind, amount_e4, entity, row_id) VALUES ('ACC-1', 1, 'debit', 10000, 'Debit', ?1)",
            params![LINES + 1 - i],
        )
        .unwrap();
    }
    t.batch(&format!(
        "INSERT INTO ledger_line (id, \"user\", kind, amount_e4, disbursed_e4, entity, row_id) VALUES
           ({0}, 'ACC-1', 'payment', 200000, 150000, 'Payment', 1);
         INSERT INTO disbursement (payment_line_id, invoice_id, amount_e4) VALUES ({0}, 1, 50000), ({0}, 2, 100000);",
        LINES + 1
    ))
    .unwrap();
}

#[test]
fn an_accounts_invoices_payments_and_contacts() {
    let (t, _s) = target();
    fill(&t);
    let a = account(&t, "ACC-1").unwrap().unwrap();
    assert_eq!(a.facts[0], ("Role".to_string(), "Member".to_string()));
    assert_eq!(a.invoices.len(), 1);
    let inv = &a.invoices[0];
    assert_eq!(
        (inv.name.as_str(), inv.closed, inv.total_e4, inv.paid_e4),
        ("INV-1", false, 6000000, 50000)
    );
    assert_eq!(inv.lines.len() as i64, LINES);
    for (k, l) in inv.lines.iter().enumerate() {
        assert_eq!(l.description, format!("Dues {}", LINES - k as i64));
        assert_eq!(
            (l.date.as_str(), l.kind.as_str(), l.amount_e4),
            ("2024-01-01", "debit", 10000)
        );
    }
    assert_eq!(a.payments.len(), 1);
    let p = &a.payments[0];
    assert_eq!(
        (p.date.as_str(), p.description.as_str()),
        ("2024-02-01", "Cheque 12")
    );
    assert_eq!((p.amount_e4, p.disbursed_e4), (200000, 150000));
    let to = |invoice: &str, account: &str, amount_e4| Disbursement {
        invoice: invoice.into(),
        account: account.into(),
        amount_e4,
    };
    assert_eq!(
        p.to,
        vec![to("INV-1", "ACC-1", 50000), to("INV-2", "ACC-2", 100000)]
    );
    let points: Vec<_> = a
        .contacts
        .iter()
        .map(|c| {
            let labelled: Vec<_> = c
                .points
                .iter()
                .map(|p| (p.0.clone(), p.1.clone()))
                .collect();
            (c.name.as_str(), labelled)
        })
        .collect();
    let pt = |l: &str, v: &str| (l.to_string(), v.to_string());
    assert_eq!(
        points,
        vec![
            (
                "Jane Doe",
                vec![
                    pt("E-mail", "jane@example.org"),
                    pt("Mobile", "(415) 555-2671"),
                    pt("Phone", "555 0100")
                ]
            ),
            ("John Doe", vec![pt("E-mail", "john@example.org")]),
        ]
    );
    assert!(account(&t, "ACC-3").unwrap().is_none());
}

#[test]
fn search_finds_accounts_with_their_first_contact_details() {
    let (t, _s) = target();
    fill(&t);
    let hits = search(&t, "example.org", 50).unwrap();
    let names: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["ACC-1"]);
    let h = &hits[0];
    assert_eq!(
        (
            h.email.as_str(),
            h.phone.as_str(),
            h.contact.as_str(),
            h.status.as_str()
        ),
        ("john@example.org", "(415) 555-2671", "Jane Doe", "Active")
    );
    assert_eq!(
        search(&t, "4155552671", 50).unwrap().len(),
        1,
        "a phone by its digits"
    );
    assert_eq!(search(&t, "acc-", 1).unwrap().len(), 1, "at most the limit");
    assert_eq!(search(&t, "acc-", 50).unwrap().len(), 2);
    assert!(
        search(&t, "100%", 50).unwrap().is_empty(),
        "LIKE's wildcards are literal"
    );
}
