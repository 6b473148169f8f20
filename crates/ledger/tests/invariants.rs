//! Property tests: for random valid ledgers across a small child tree, the invariants of SPEC §7
//! hold — balance = Σ invoice totals − Σ payments; nothing is disbursed to an invoice beyond what
//! it owed when the payment came; nothing is disbursed from a payment beyond its amount; at most
//! one open current invoice; unique invoice names; and source sums = imported + rejected.

use ferry_ledger::{credit_amount, disbursement, tax, Book, Target};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Op {
    Debit {
        acc: usize,
        cents: i64,
        invoice: Option<u8>,
    },
    Credit {
        acc: usize,
        cents: i64,
        bulk: u8,
        apply_tax: bool,
        invoice: Option<u8>,
    },
    Close {
        acc: usize,
        invoice: Option<u8>,
    },
    Payment {
        acc: usize,
        cents: i64,
        invoice: Option<u8>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let acc = 0usize..3;
    let inv = proptest::option::weighted(0.3, 0u8..3);
    prop_oneof![
        (acc.clone(), 1i64..100_000, inv.clone()).prop_map(|(acc, cents, invoice)| Op::Debit {
            acc,
            cents,
            invoice
        }),
        (
            acc.clone(),
            1i64..50_000,
            1u8..4,
            any::<bool>(),
            inv.clone()
        )
            .prop_map(|(acc, cents, bulk, apply_tax, invoice)| Op::Credit {
                acc,
                cents,
                bulk,
                apply_tax,
                invoice
            }),
        (acc.clone(), inv.clone()).prop_map(|(acc, invoice)| Op::Close { acc, invoice }),
        (acc, 1i64..150_000, inv).prop_map(|(acc, cents, invoice)| Op::Payment {
            acc,
            cents,
            invoice
        }),
    ]
}

/// A chain: PARENT has CHILD, CHILD has GRANDCHILD.
const USERS: [&str; 3] = ["PARENT", "CHILD", "GRANDCHILD"];

struct Pay {
    amount: Decimal,
    disbursed: Decimal,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn ledger_invariants(ops in proptest::collection::vec(op(), 1..60)) {
        let mut books: Vec<Book> = vec![Book::default(), Book::default(), Book::default()];
        let mut payments: Vec<Vec<Pay>> = vec![vec![], vec![], vec![]];
        let mut next_id = 1i64;
        let (mut source, mut imported, mut rejected) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        let rate = Decimal::new(13, 0);
        let name = |i: u8| format!("INV{i}");
        for op in ops {
            match op {
                Op::Debit { acc, cents, invoice } => {
                    let amount = Decimal::new(cents, 2);
                    source += amount;
                    match books[acc].plan_charge(USERS[acc], invoice.map(name).as_deref()) {
                        Ok(t) => {
                            let new = matches!(t, Target::New(_));
                            books[acc].apply_charge(t, amount, next_id);
                            if new { next_id += 1; }
                            imported += amount;
                        }
                        Err(_) => rejected += amount,
                    }
                }
                Op::Credit { acc, cents, bulk, apply_tax, invoice } => {
                    let amount = credit_amount(Decimal::new(cents, 2), Decimal::from(bulk));
                    let total = amount + if apply_tax { tax(amount, rate) } else { Decimal::ZERO };
                    source -= amount;
                    match books[acc].plan_charge(USERS[acc], invoice.map(name).as_deref()) {
                        Ok(t) => {
                            let new = matches!(t, Target::New(_));
                            books[acc].apply_charge(t, -total, next_id);
                            if new { next_id += 1; }
                            imported -= amount;
                        }
                        Err(_) => rejected -= amount,
                    }
                }
                Op::Close { acc, invoice } => {
                    if let Ok(c) = books[acc].plan_close(invoice.map(name).as_deref()) {
                        books[acc].apply_close(&c, true);
                    }
                }
                Op::Payment { acc, cents, invoice } => {
                    let amount = Decimal::new(cents, 2);
                    source -= amount;
                    // the invoice on the account itself, else on an account below it
                    let found = invoice.map(name).and_then(|n| (acc..3).find_map(|a| books[a].find(&n).map(|i| (a, i))));
                    match (invoice, found) {
                        (Some(_), None) => {
                            rejected -= amount;
                            continue;
                        }
                        (_, Some((a, i))) => {
                            let owed = books[a].invoices[i].outstanding();
                            let d = disbursement(amount, &books[a].invoices[i]);
                            prop_assert!(d <= amount && d >= Decimal::ZERO);
                            prop_assert!(d <= owed.max(Decimal::ZERO), "disbursed beyond what was owed");
                            books[a].invoices[i].disbursed += d;
                            payments[acc].push(Pay { amount, disbursed: d });
                        }
                        (None, None) => payments[acc].push(Pay { amount, disbursed: Decimal::ZERO }),
                    }
                    imported -= amount;
                }
            }
        }
        prop_assert_eq!(source, imported + rejected, "reconciliation");
        for acc in 0..3 {
            let b = &books[acc];
            if let Some(c) = b.current {
                prop_assert!(!b.invoices[c].closed, "the current invoice is open");
            }
            let mut names: HashMap<&str, usize> = HashMap::new();
            for inv in &b.invoices {
                *names.entry(&inv.name).or_default() += 1;
                prop_assert!(inv.disbursed >= Decimal::ZERO);
            }
            prop_assert!(names.values().all(|n| *n == 1), "invoice names are unique per account");
            for p in &payments[acc] {
                prop_assert!(p.disbursed <= p.amount, "disbursed from a payment ≤ its amount");
            }
            let paid: Decimal = payments[acc].iter().map(|p| p.amount).sum();
            let totals: Decimal = b.invoices.iter().map(|i| i.total).sum();
            prop_assert_eq!(b.total() - paid, totals - paid);
        }
    }
}
