//! Invoice and payment semantics of SPEC §7, as a pure state machine over one account's book.
//!
//! Every operation is planned first (`plan_*`, which never changes the book and may refuse) and
//! applied only when the whole record is accepted (`apply_*`), so that a rejected ledger record
//! changes no ledger state: it opens no invoice and takes no number.

use rust_decimal::{Decimal, RoundingStrategy};

/// One invoice of an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    /// Row id in the target (assigned by the caller).
    pub id: i64,
    pub name: String,
    pub closed: bool,
    pub delivered: bool,
    /// Σ debits + Σ debit taxes − Σ credits − Σ credit taxes.
    pub total: Decimal,
    /// Σ disbursed to it by payments.
    pub disbursed: Decimal,
}

impl Invoice {
    /// What is still owed on it (may be zero or negative).
    pub fn outstanding(&self) -> Decimal {
        self.total - self.disbursed
    }
}

/// One account's invoices and its current invoice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Book {
    pub invoices: Vec<Invoice>,
    pub current: Option<usize>,
}

/// Why a ledger record is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A Debit or Credit names an invoice that is closed.
    InvoiceClosed(String),
    /// A CloseInvoice or Payment names an invoice that does not exist (at that point).
    InvoiceUnknown(String),
    /// A Payment's invoice name matches invoices on several accounts of the child tree.
    InvoiceAmbiguous(String, Vec<String>),
}

/// Where a Debit or Credit lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Existing(usize),
    /// A new invoice with this name, which becomes current.
    New(String),
}

/// What a CloseInvoice does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Close {
    Close(usize),
    /// Nothing open to close, or the named invoice is already closed: a warning, no change.
    Nothing,
    /// Already closed; `Delivered=true` still marks it delivered.
    AlreadyClosed(usize),
}

impl Book {
    pub fn find(&self, name: &str) -> Option<usize> {
        self.invoices.iter().position(|i| i.name == name)
    }

    /// The name of the next automatic invoice: `<user>-<n>`, n = 1 + invoices held, skipping
    /// names already taken.
    pub fn next_name(&self, user: &str) -> String {
        let mut n = self.invoices.len() + 1;
        loop {
            let name = format!("{user}-{n}");
            if self.find(&name).is_none() {
                return name;
            }
            n += 1;
        }
    }

    /// Where a Debit or Credit goes (SPEC §7): the named invoice (joined if open, opened if
    /// unknown, refused if closed), else the current one, else a new automatic one.
    pub fn plan_charge(&self, user: &str, invoice: Option<&str>) -> Result<Target, Refusal> {
        match invoice {
            Some(name) => match self.find(name) {
                Some(i) if self.invoices[i].closed => Err(Refusal::InvoiceClosed(name.to_string())),
                Some(i) => Ok(Target::Existing(i)),
                None => Ok(Target::New(name.to_string())),
            },
            None => match self.current {
                Some(i) => Ok(Target::Existing(i)),
                None => Ok(Target::New(self.next_name(user))),
            },
        }
    }

    /// Applies a charge (positive) or credit (negative) of `amount` to the planned invoice,
    /// which becomes current. Returns the invoice's index; `new_id` is used for a new invoice.
    pub fn apply_charge(&mut self, target: Target, amount: Decimal, new_id: i64) -> usize {
        let i = match target {
            Target::Existing(i) => i,
            Target::New(name) => {
                self.invoices.push(Invoice {
                    id: new_id,
                    name,
                    closed: false,
                    delivered: false,
                    total: Decimal::ZERO,
                    disbursed: Decimal::ZERO,
                });
                self.invoices.len() - 1
            }
        };
        self.invoices[i].total += amount;
        self.current = Some(i);
        i
    }

    pub fn plan_close(&self, invoice: Option<&str>) -> Result<Close, Refusal> {
        match invoice {
            Some(name) => match self.find(name) {
                Some(i) if self.invoices[i].closed => Ok(Close::AlreadyClosed(i)),
                Some(i) => Ok(Close::Close(i)),
                None => Err(Refusal::InvoiceUnknown(name.to_string())),
            },
            None => Ok(match self.current {
                Some(i) => Close::Close(i),
                None => Close::Nothing,
            }),
        }
    }

    pub fn apply_close(&mut self, close: &Close, delivered: bool) {
        match *close {
            Close::Close(i) => {
                self.invoices[i].closed = true;
                self.invoices[i].delivered |= delivered;
                if self.current == Some(i) {
                    self.current = None;
                }
            }
            Close::AlreadyClosed(i) => self.invoices[i].delivered |= delivered,
            Close::Nothing => {}
        }
    }

    pub fn open_count(&self) -> usize {
        self.invoices.iter().filter(|i| !i.closed).count()
    }

    pub fn total(&self) -> Decimal {
        self.invoices.iter().map(|i| i.total).sum()
    }
}

/// How much of a payment goes to an invoice: up to what is outstanding, nothing when that is
/// zero or less.
pub fn disbursement(amount: Decimal, invoice: &Invoice) -> Decimal {
    let out = invoice.outstanding();
    if out <= Decimal::ZERO {
        Decimal::ZERO
    } else {
        amount.min(out)
    }
}

/// A credit's amount: `Credit × BulkAmount`, rounded to 4 decimals half away from zero.
pub fn credit_amount(credit: Decimal, bulk: Decimal) -> Decimal {
    (credit * bulk).round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

/// One rank's tax on an amount: `amount × percent / 100`, rounded once to 2 decimals half away
/// from zero.
pub fn tax(amount: Decimal, percent: Decimal) -> Decimal {
    (amount * percent / Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn automatic_invoices_are_numbered_and_persist_as_current() {
        let mut b = Book::default();
        let t = b.plan_charge("CUST1", None).unwrap();
        assert_eq!(t, Target::New("CUST1-1".into()));
        b.apply_charge(t, d("10"), 1);
        // a second charge joins the current invoice
        assert_eq!(b.plan_charge("CUST1", None).unwrap(), Target::Existing(0));
        b.apply_charge(Target::Existing(0), d("5"), 0);
        assert_eq!(b.invoices[0].total, d("15"));
        // close, then the next charge opens CUST1-2
        let c = b.plan_close(None).unwrap();
        b.apply_close(&c, false);
        assert_eq!(b.current, None);
        assert_eq!(
            b.plan_charge("CUST1", None).unwrap(),
            Target::New("CUST1-2".into())
        );
    }

    #[test]
    fn names_skip_taken_ones_and_count_named_invoices() {
        let mut b = Book::default();
        b.apply_charge(Target::New("CUST1-2".into()), d("1"), 1);
        // one invoice held → n = 2, taken → CUST1-3
        assert_eq!(b.next_name("CUST1"), "CUST1-3");
    }

    #[test]
    fn named_invoices_join_open_refuse_closed_and_keep_the_old_current_open() {
        let mut b = Book::default();
        b.apply_charge(Target::New("A-1".into()), d("10"), 1);
        let t = b.plan_charge("A", Some("SPECIAL")).unwrap();
        b.apply_charge(t, d("3"), 2);
        assert_eq!(b.current, Some(1));
        assert!(
            !b.invoices[0].closed,
            "the earlier current invoice stays open"
        );
        b.apply_close(&Close::Close(1), false);
        assert_eq!(
            b.plan_charge("A", Some("SPECIAL")),
            Err(Refusal::InvoiceClosed("SPECIAL".into()))
        );
        assert_eq!(
            b.plan_close(Some("NOPE")),
            Err(Refusal::InvoiceUnknown("NOPE".into()))
        );
        assert_eq!(b.plan_close(Some("SPECIAL")), Ok(Close::AlreadyClosed(1)));
    }

    #[test]
    fn nothing_to_close_is_no_change() {
        let b = Book::default();
        assert_eq!(b.plan_close(None), Ok(Close::Nothing));
    }

    #[test]
    fn credit_rounding_is_half_away_from_zero() {
        // 3 × 33.33335 = 100.00005 → 100.0001 (4 decimals, half away from zero)
        assert_eq!(credit_amount(d("33.33335"), d("3")), d("100.0001"));
        // 2.5 × 0.00001 = 0.000025 → 0.0000 (below half of the 4th decimal)
        assert_eq!(credit_amount(d("0.00001"), d("2.5")), d("0.0000"));
        // GST 5 % of 12.50 = 0.625 → 0.63 (half away from zero, not to even)
        assert_eq!(tax(d("12.50"), d("5")), d("0.63"));
        // PST 7 % of 12.50 = 0.875 → 0.88
        assert_eq!(tax(d("12.50"), d("7")), d("0.88"));
        // 13 % of 10.05 = 1.3065 → 1.31
        assert_eq!(tax(d("10.05"), d("13")), d("1.31"));
    }

    #[test]
    fn payments_disburse_up_to_the_outstanding_amount() {
        let inv = Invoice {
            id: 1,
            name: "A-1".into(),
            closed: true,
            delivered: true,
            total: d("100"),
            disbursed: d("30"),
        };
        // 70 outstanding: a payment of 100 disburses 70, 30 stays undisbursed
        assert_eq!(disbursement(d("100"), &inv), d("70"));
        assert_eq!(disbursement(d("20"), &inv), d("20"));
        let paid = Invoice {
            disbursed: d("100"),
            ..inv.clone()
        };
        assert_eq!(disbursement(d("20"), &paid), Decimal::ZERO);
        let credit = Invoice {
            total: d("-5"),
            disbursed: Decimal::ZERO,
            ..inv
        };
        assert_eq!(disbursement(d("20"), &credit), Decimal::ZERO);
    }
}
