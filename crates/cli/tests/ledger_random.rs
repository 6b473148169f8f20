//! Random ledgers through the real binary: for seeded random streams of debits, credits, closes
//! and payments over a small account tree, `ferry report balances` equals an independent model
//! built on the ledger crate's rules, and every run reconciles.

mod common;
use common::*;
use ferry_ledger::{credit_amount, disbursement, Book, Target};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const USERS: [&str; 5] = ["P", "C1", "C2", "G", "S"];
/// C1 and C2 are below P; G is below C1; S stands alone.
const PARENTS: [(&str, &str); 3] = [("C1", "P"), ("C2", "P"), ("G", "C1")];

fn below(user: &str) -> Vec<&'static str> {
    let mut out = vec![];
    let mut stack = vec![user.to_string()];
    while let Some(u) = stack.pop() {
        for (c, p) in PARENTS {
            if p == u {
                out.push(c);
                stack.push(c.to_string());
            }
        }
    }
    out
}

#[test]
fn random_ledgers_match_the_model() {
    for seed in 1..=6u64 {
        let mut rng = Rng(seed * 7919);
        let mut xml = String::from("<Import>\n");
        for u in USERS {
            writeln!(
                xml,
                "  <User Name=\"{u}\" Owner=\"admin\" Role=\"Customer\"/>"
            )
            .unwrap();
        }
        for (c, p) in PARENTS {
            writeln!(xml, "  <ChildAccount Name=\"{c}\" Parent=\"{p}\"/>").unwrap();
        }
        let mut books: BTreeMap<&str, Book> = USERS.iter().map(|u| (*u, Book::default())).collect();
        let mut paid: BTreeMap<&str, (Decimal, Decimal)> = USERS
            .iter()
            .map(|u| (*u, (Decimal::ZERO, Decimal::ZERO)))
            .collect();
        let mut next_id = 1;
        for _ in 0..150 {
            let u = USERS[rng.below(5) as usize];
            let named = (rng.below(4) == 0).then(|| format!("N{}", rng.below(3)));
            let inv_attr = named
                .as_ref()
                .map(|n| format!(" Invoice=\"{n}\""))
                .unwrap_or_default();
            let cents = 1 + rng.below(50_000) as i64;
            let amount = Decimal::new(cents, 2);
            match rng.below(4) {
                0 | 1 => {
                    let is_debit = rng.below(3) != 0;
                    let bulk = 1 + rng.below(3);
                    if is_debit {
                        writeln!(xml, "  <Debit User=\"{u}\" Date=\"2025-01-01\" Debit=\"{amount}\"{inv_attr}/>").unwrap();
                    } else {
                        writeln!(xml, "  <Credit User=\"{u}\" Date=\"2025-01-01\" Credit=\"{amount}\" BulkAmount=\"{bulk}\"{inv_attr}/>").unwrap();
                    }
                    let total = if is_debit {
                        amount
                    } else {
                        -credit_amount(amount, Decimal::from(bulk))
                    };
                    let book = books.get_mut(u).unwrap();
                    if let Ok(t) = book.plan_charge(u, named.as_deref()) {
                        if matches!(t, Target::New(_)) {
                            next_id += 1;
                        }
                        book.apply_charge(t, total, next_id);
                    }
                }
                2 => {
                    let delivered = rng.below(2) == 0;
                    writeln!(
                        xml,
                        "  <CloseInvoice User=\"{u}\" Delivered=\"{delivered}\"{inv_attr}/>"
                    )
                    .unwrap();
                    let book = books.get_mut(u).unwrap();
                    if let Ok(c) = book.plan_close(named.as_deref()) {
                        book.apply_close(&c, delivered);
                    }
                }
                _ => {
                    writeln!(xml, "  <Payment User=\"{u}\" Date=\"2025-01-02\" Credit=\"{amount}\"{inv_attr}/>").unwrap();
                    match &named {
                        None => {
                            let p = paid.get_mut(u).unwrap();
                            p.0 += amount;
                            p.1 += amount;
                        }
                        Some(n) => {
                            let own = books[u].find(n).map(|i| (u, i));
                            let found: Vec<(&str, usize)> = match own {
                                Some(x) => vec![x],
                                None => below(u)
                                    .into_iter()
                                    .filter_map(|a| books[a].find(n).map(|i| (a, i)))
                                    .collect(),
                            };
                            if found.len() == 1 {
                                let (a, i) = found[0];
                                let d = disbursement(amount, &books[a].invoices[i]);
                                books.get_mut(a).unwrap().invoices[i].disbursed += d;
                                let p = paid.get_mut(u).unwrap();
                                p.0 += amount;
                                p.1 += amount - d;
                            }
                        }
                    }
                }
            }
        }
        xml.push_str("</Import>\n");
        let dir = scratch();
        let d = dir.path();
        std::fs::write(d.join("l.xml"), &xml).unwrap();
        let r = ferry(d, &["import", "l.xml"]);
        assert!(r.code <= 1, "seed {seed}: {}", r.stderr);
        assert_eq!(
            ferry(d, &["reconcile", "1"]).code,
            0,
            "seed {seed}: the run does not reconcile"
        );
        let r = ferry(d, &["report", "balances", "--format", "json"]);
        let got: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        for row in got.as_array().unwrap() {
            let u = row["User"].as_str().unwrap();
            let book = &books[u];
            let (payments, undisbursed) = paid[u];
            let balance: Decimal = book.total() - payments;
            let want = |d: Decimal| d.to_string().parse::<Decimal>().unwrap();
            assert_eq!(
                row["Balance"].as_str().unwrap().parse::<Decimal>().unwrap(),
                want(balance),
                "seed {seed} {u} balance\n{xml}"
            );
            assert_eq!(
                row["OpenInvoices"].as_i64().unwrap() as usize,
                book.open_count(),
                "seed {seed} {u} open"
            );
            assert_eq!(
                row["Undisbursed"]
                    .as_str()
                    .unwrap()
                    .parse::<Decimal>()
                    .unwrap(),
                undisbursed,
                "seed {seed} {u} undisbursed"
            );
        }
    }
}
