//! The order of day and month of slash dates, decided per column from all of its values
//! (SPEC §3 dates, §15 "rules that hold with or without a mapping").
//!
//! While the input is read, [`DateTally::observe`] counts, per column, the slash dates that fit
//! only M/D/Y, only D/M/Y, or both (memory: one tally per column). Once the options are known,
//! [`DateTally::decide`] turns the tallies into one rule per column, and [`DateColumns::order_for`]
//! tells each value which order it is read in — or why it is not read at all. No date is ever
//! read with day and month swapped: a value that fits only the order not in force is an error,
//! and so is an ambiguous value of a column that holds proof of the other order.

use crate::values::{parse_date_text, DateOrder, Problem};
use ferry_catalogue::{self as cat, Kind};
use ferry_findings::{Code, Finding, Location};
use ferry_sources::{RawRecord, RawValue};
use std::collections::HashMap;
use std::sync::Arc;

/// Which orders a text value fits as a slash date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    Both,
    MdyOnly,
    DmyOnly,
    /// A slash date under neither order (an impossible date): an error whatever the order.
    Neither,
}

/// How `t` fits as a slash date; `None` when it is no slash date (ISO dates, anything else).
pub fn fit(t: &str) -> Option<Fit> {
    let t = t.trim();
    let head = t.split(' ').next().unwrap_or("");
    if !head.contains('/') {
        return None;
    }
    let mdy = parse_date_text(t, DateOrder::Mdy).is_some();
    let dmy = parse_date_text(t, DateOrder::Dmy).is_some();
    Some(match (mdy, dmy) {
        (true, true) => Fit::Both,
        (true, false) => Fit::MdyOnly,
        (false, true) => Fit::DmyOnly,
        (false, false) => Fit::Neither,
    })
}

/// One column: a sheet's or CSV file's column, or an XML element type's attribute. The rows of
/// a Ledger sheet are of several types but share their columns, so ledger types are one group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ColumnKey {
    file: Arc<str>,
    sheet: Option<Arc<str>>,
    group: u16,
    field: &'static str,
}

const LEDGER_GROUP: u16 = u16::MAX;

impl ColumnKey {
    fn of(raw: &RawRecord, field: &'static str) -> ColumnKey {
        let e = cat::by_id(raw.entity);
        ColumnKey {
            file: raw.location.file.clone(),
            sheet: raw.location.sheet.clone(),
            group: if e.is_ledger() {
                LEDGER_GROUP
            } else {
                raw.entity
            },
            field,
        }
    }

    /// `column "Date" of payments.csv`, `column "Date" of sheet "Payments" (book.xlsx)`.
    fn describe(&self) -> String {
        match &self.sheet {
            Some(s) => format!("column \"{}\" of sheet \"{s}\" ({})", self.field, self.file),
            None => format!("column \"{}\" of {}", self.field, self.file),
        }
    }
}

/// The first value of a column that proves an order, for messages.
#[derive(Debug, Clone)]
struct Example {
    value: String,
    row: u64,
}

impl Example {
    fn show(&self) -> String {
        format!("{} at row {}", ferry_findings::clip(&self.value), self.row)
    }
}

#[derive(Debug, Clone, Default)]
struct Tally {
    mdy_only: u64,
    dmy_only: u64,
    both: u64,
    first_mdy: Option<Example>,
    first_dmy: Option<Example>,
    /// Where the column's first slash date is (its note is located there).
    first: Option<Location>,
    /// The input (command-line argument) the column belongs to.
    input: usize,
    entity: &'static str,
}

/// Per-column counts of slash dates, gathered while the input is read.
#[derive(Debug, Default)]
pub struct DateTally {
    columns: HashMap<ColumnKey, Tally>,
}

impl DateTally {
    /// Counts the slash dates of one raw record's date fields; `input` is the index of the
    /// input (command-line argument) it was read from.
    pub fn observe(&mut self, input: usize, raw: &RawRecord) {
        let e = cat::by_id(raw.entity);
        for rf in &raw.fields {
            let field = &e.fields[rf.field as usize];
            if field.kind != Kind::Date {
                continue;
            }
            let RawValue::Text(t) = &rf.value else {
                continue;
            };
            let Some(fit) = fit(t) else { continue };
            let tally = self
                .columns
                .entry(ColumnKey::of(raw, field.name))
                .or_default();
            if tally.first.is_none() {
                tally.first = Some(raw.location.with_column(rf.column));
                tally.input = input;
                tally.entity = if e.is_ledger() {
                    cat::LEDGER_SHEET
                } else {
                    e.name
                };
            }
            let example = || {
                Some(Example {
                    value: t.trim().to_string(),
                    row: raw.location.row,
                })
            };
            match fit {
                Fit::Both => tally.both += 1,
                Fit::MdyOnly => {
                    tally.mdy_only += 1;
                    if tally.first_mdy.is_none() {
                        tally.first_mdy = example();
                    }
                }
                Fit::DmyOnly => {
                    tally.dmy_only += 1;
                    if tally.first_dmy.is_none() {
                        tally.first_dmy = example();
                    }
                }
                Fit::Neither => {}
            }
        }
    }

    /// One rule per column. `explicit` is the order the user gave (`--date-order` or an Options
    /// sheet's `DateOrder`); without it, a column whose values prove one order is read in it
    /// (an info says so when that is not the default), and a column of only ambiguous values is
    /// read in the default order (one warning per column).
    pub fn decide(self, explicit: Option<DateOrder>) -> (DateColumns, Vec<Finding>) {
        let mut rules = HashMap::with_capacity(self.columns.len());
        let mut notes = Vec::new();
        let mut columns: Vec<(ColumnKey, Tally)> = self.columns.into_iter().collect();
        // Notes in a stable order (file, sheet, first row).
        columns.sort_by(|a, b| {
            let (la, lb) = (a.1.first.as_ref(), b.1.first.as_ref());
            (&a.0.file, &a.0.sheet, la.map(|l| l.row), a.0.field).cmp(&(
                &b.0.file,
                &b.0.sheet,
                lb.map(|l| l.row),
                b.0.field,
            ))
        });
        let proof = input_proof(&columns);
        for (key, t) in columns {
            let fallback = proof.get(&t.input).copied().flatten();
            let (rule, note) = rule_of(&key, &t, explicit, fallback);
            if let Some(n) = note {
                notes.push(n);
            }
            rules.insert(key, rule);
        }
        (DateColumns { rules, explicit }, notes)
    }
}

fn order_name(o: DateOrder) -> &'static str {
    match o {
        DateOrder::Mdy => "M/D/Y",
        DateOrder::Dmy => "D/M/Y",
    }
}

fn other(o: DateOrder) -> DateOrder {
    match o {
        DateOrder::Mdy => DateOrder::Dmy,
        DateOrder::Dmy => DateOrder::Mdy,
    }
}

/// The column's proof of each order, as words: `18 dates fit only D/M/Y (such as 25/6/2016 at
/// row 4)`.
fn evidence(t: &Tally) -> String {
    let dates = |n: u64| {
        if n == 1 {
            "1 slash date that can".to_string()
        } else {
            format!("{n} slash dates that can")
        }
    };
    let mut parts = Vec::new();
    if let Some(e) = &t.first_dmy {
        parts.push(format!(
            "{} only be D/M/Y (such as {})",
            dates(t.dmy_only),
            e.show()
        ));
    }
    if let Some(e) = &t.first_mdy {
        parts.push(format!(
            "{} only be M/D/Y (such as {})",
            dates(t.mdy_only),
            e.show()
        ));
    }
    format!("holds {}", parts.join(" and "))
}

/// The order a column's own values prove, if they prove exactly one.
fn proven(t: &Tally) -> Option<DateOrder> {
    match (t.mdy_only > 0, t.dmy_only > 0) {
        (true, false) => Some(DateOrder::Mdy),
        (false, true) => Some(DateOrder::Dmy),
        _ => None,
    }
}

/// Per input, the order its columns prove when they prove one and none proves the other: one
/// export comes from one system, so a column of only ambiguous dates follows its siblings.
fn input_proof(columns: &[(ColumnKey, Tally)]) -> HashMap<usize, Option<DateOrder>> {
    let mut seen: HashMap<usize, (bool, bool)> = HashMap::new();
    for (_, t) in columns {
        let s = seen.entry(t.input).or_default();
        s.0 |= t.mdy_only > 0;
        s.1 |= t.dmy_only > 0;
    }
    seen.into_iter()
        .map(|(i, s)| {
            let o = match s {
                (true, false) => Some(DateOrder::Mdy),
                (false, true) => Some(DateOrder::Dmy),
                _ => None,
            };
            (i, o)
        })
        .collect()
}

fn rule_of(
    key: &ColumnKey,
    t: &Tally,
    explicit: Option<DateOrder>,
    siblings: Option<DateOrder>,
) -> (Rule, Option<Finding>) {
    let proven = proven(t);
    let in_force = explicit.or(proven).or(siblings).unwrap_or_default();
    let against = match in_force {
        DateOrder::Mdy => t.dmy_only,
        DateOrder::Dmy => t.mdy_only,
    };
    let column = key.describe();
    let at = t
        .first
        .clone()
        .unwrap_or_else(|| Location::start(key.file.clone(), key.sheet.clone()));
    let note = |code, message: String| {
        Some(
            Finding::new(code, at.clone(), message)
                .entity(t.entity)
                .field(key.field),
        )
    };
    if against > 0 {
        let why = match explicit {
            Some(o) => format!(
                "the order given ({})",
                match o {
                    DateOrder::Mdy => "--date-order mdy or DateOrder=MDY",
                    DateOrder::Dmy => "--date-order dmy or DateOrder=DMY",
                }
            ),
            None => "the default".to_string(),
        };
        let rule = Rule::Mixed {
            in_force,
            why: why.into(),
            column: column.clone().into(),
            evidence: evidence(t).into(),
        };
        return (rule, None);
    }
    let finding = match (explicit, proven, siblings) {
        (None, Some(DateOrder::Dmy), _) => note(
            Code::DateOrderInferred,
            format!(
                "The {column} {}, and none that can only be M/D/Y; all its slash dates are read as D/M/Y.",
                evidence(t)
            ),
        ),
        (None, None, Some(DateOrder::Dmy)) if t.both > 0 => note(
            Code::DateOrderInferred,
            format!(
                "All {} slash dates of the {column} fit both M/D/Y and D/M/Y; they are read as D/M/Y, the order that other date columns of the same input prove (none proves M/D/Y).",
                t.both
            ),
        ),
        (None, None, None) if t.both > 0 => note(
            Code::DateOrderAssumed,
            format!(
                "All {} slash dates of the {column} fit both M/D/Y and D/M/Y; they are read as M/D/Y (the default). If they are D/M/Y, give --date-order dmy (or DateOrder=DMY in an Options sheet).",
                t.both
            ),
        ),
        _ => None,
    };
    (Rule::Order(in_force), finding)
}

/// How the slash dates of one column are read.
#[derive(Debug, Clone)]
enum Rule {
    /// Every slash date in this order (no value of the column contradicts it).
    Order(DateOrder),
    /// The column holds proof against the order in force: only values that fit that order
    /// alone are read; the others are errors.
    Mixed {
        in_force: DateOrder,
        why: Arc<str>,
        column: Arc<str>,
        evidence: Arc<str>,
    },
}

/// The per-column rules of a run.
#[derive(Debug, Clone, Default)]
pub struct DateColumns {
    rules: HashMap<ColumnKey, Rule>,
    explicit: Option<DateOrder>,
}

impl DateColumns {
    /// The order `text` (a value of `field` of `raw`) is read in, or why it is not read.
    pub fn order_for(
        &self,
        raw: &RawRecord,
        field: &'static str,
        text: &str,
        default: DateOrder,
    ) -> Result<DateOrder, Problem> {
        let Some(fit) = fit(text) else {
            return Ok(default);
        };
        let rule = self.rules.get(&ColumnKey::of(raw, field));
        let (in_force, mixed) = match rule {
            Some(Rule::Order(o)) => (*o, None),
            Some(Rule::Mixed {
                in_force,
                why,
                column,
                evidence,
            }) => (*in_force, Some((why, column, evidence))),
            None => (self.explicit.unwrap_or(default), None),
        };
        let shown = ferry_findings::clip(text.trim());
        match (fit, mixed) {
            (Fit::Neither, _) | (Fit::Both, None) => Ok(in_force),
            (Fit::MdyOnly, _) if in_force == DateOrder::Mdy => Ok(in_force),
            (Fit::DmyOnly, _) if in_force == DateOrder::Dmy => Ok(in_force),
            (Fit::Both, Some((_, column, evidence))) => Err(Problem {
                code: Code::DateAmbiguous,
                message: format!(
                    "\"{shown}\" could be read as M/D/Y or D/M/Y, and the {column} {evidence}; it is not imported rather than read with day and month perhaps swapped."
                ),
                hint: iso_hint(text, None),
            }),
            (_, why) => {
                let why = match why {
                    Some((why, column, evidence)) => format!("{why}; the {column} {evidence}"),
                    None => "the order in force".to_string(),
                };
                Err(Problem {
                    code: Code::DateOrderConflict,
                    message: format!(
                        "\"{shown}\" can only be a {} date, but this column is read as {} ({why}); it is not imported.",
                        order_name(other(in_force)),
                        order_name(in_force)
                    ),
                    hint: iso_hint(text, Some(other(in_force))),
                })
            }
        }
    }
}

/// `write it as 2016-06-25` for a value that fits one order; both readings for an ambiguous one.
fn iso_hint(text: &str, only: Option<DateOrder>) -> Option<String> {
    let iso = |o| parse_date_text(text, o).map(|(d, _)| d.date().format("%Y-%m-%d").to_string());
    match only {
        Some(o) => iso(o).map(|d| format!("write it as {d}")),
        None => {
            let (m, d) = (iso(DateOrder::Mdy)?, iso(DateOrder::Dmy)?);
            Some(format!("write it as {m} (if M/D/Y) or {d} (if D/M/Y)"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_sources::RawField;

    fn payment(row: u64, date: &str) -> RawRecord {
        let e = cat::entity("Payment").unwrap();
        RawRecord {
            entity: e.id(),
            location: Location {
                file: "payments.csv".into(),
                sheet: None,
                row,
                column: None,
            },
            fields: vec![RawField {
                field: e.field("Date").unwrap(),
                value: RawValue::Text(date.into()),
                column: Some(ferry_findings::Column::Number(3)),
            }],
            broken: false,
            header: None,
        }
    }

    fn decide(
        dates: &[&str],
        explicit: Option<DateOrder>,
    ) -> (DateColumns, Vec<Finding>, Vec<RawRecord>) {
        let mut t = DateTally::default();
        let recs: Vec<RawRecord> = dates
            .iter()
            .enumerate()
            .map(|(i, d)| payment(i as u64 + 2, d))
            .collect();
        for r in &recs {
            t.observe(0, r);
        }
        let (c, n) = t.decide(explicit);
        (c, n, recs)
    }

    fn orders(c: &DateColumns, recs: &[RawRecord]) -> Vec<Result<DateOrder, Code>> {
        recs.iter()
            .map(|r| {
                let RawValue::Text(t) = &r.fields[0].value else {
                    unreachable!()
                };
                c.order_for(r, "Date", t, DateOrder::Mdy)
                    .map_err(|p| p.code)
            })
            .collect()
    }

    #[test]
    fn fits() {
        assert_eq!(fit("9/6/2016"), Some(Fit::Both));
        assert_eq!(fit("25/6/2016"), Some(Fit::DmyOnly));
        assert_eq!(fit("6/25/2016 3:00 PM"), Some(Fit::MdyOnly));
        assert_eq!(fit("31/4/2016"), Some(Fit::Neither));
        assert_eq!(fit("2016-06-09"), None);
        assert_eq!(fit("soon"), None);
    }

    #[test]
    fn a_column_proven_dmy_is_read_dmy_with_one_note() {
        let (c, n, r) = decide(&["25/6/2016", "9/6/2016", "13/1/2017"], None);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].code, Code::DateOrderInferred);
        assert!(
            n[0].message.contains("25/6/2016 at row 2"),
            "{}",
            n[0].message
        );
        assert_eq!(orders(&c, &r), vec![Ok(DateOrder::Dmy); 3]);
    }

    #[test]
    fn a_column_proven_mdy_needs_no_note() {
        let (c, n, r) = decide(&["6/25/2016", "6/9/2016"], None);
        assert!(n.is_empty());
        assert_eq!(orders(&c, &r), vec![Ok(DateOrder::Mdy); 2]);
    }

    #[test]
    fn only_ambiguous_values_give_one_warning() {
        let (c, n, r) = decide(&["1/2/2016", "3/4/2016", "5/6/2016"], None);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].code, Code::DateOrderAssumed);
        assert_eq!(orders(&c, &r), vec![Ok(DateOrder::Mdy); 3]);
        // An explicit order needs no warning.
        let (_, n, _) = decide(&["1/2/2016"], Some(DateOrder::Dmy));
        assert!(n.is_empty());
    }

    #[test]
    fn an_explicit_order_contradicted_makes_the_doubtful_values_errors() {
        let (c, n, r) = decide(
            &["25/6/2016", "9/6/2016", "6/25/2016"],
            Some(DateOrder::Mdy),
        );
        assert!(n.is_empty());
        assert_eq!(
            orders(&c, &r),
            vec![
                Err(Code::DateOrderConflict),
                Err(Code::DateAmbiguous),
                Ok(DateOrder::Mdy)
            ]
        );
    }

    #[test]
    fn values_that_contradict_each_other() {
        let (c, _, r) = decide(&["25/6/2016", "9/6/2016", "6/25/2016", "31/4/2016"], None);
        assert_eq!(
            orders(&c, &r),
            vec![
                Err(Code::DateOrderConflict),
                Err(Code::DateAmbiguous),
                Ok(DateOrder::Mdy),
                Ok(DateOrder::Mdy)
            ]
        );
        let RawValue::Text(t) = &r[1].fields[0].value else {
            unreachable!()
        };
        let p = c.order_for(&r[1], "Date", t, DateOrder::Mdy).unwrap_err();
        assert!(
            p.message.contains("column \"Date\" of payments.csv"),
            "{}",
            p.message
        );
        assert_eq!(
            p.hint.as_deref(),
            Some("write it as 2016-09-06 (if M/D/Y) or 2016-06-09 (if D/M/Y)")
        );
    }

    #[test]
    fn columns_are_told_apart() {
        let mut t = DateTally::default();
        let a = payment(2, "25/6/2016");
        let mut b = payment(2, "6/9/2016");
        b.location.file = "other.csv".into();
        t.observe(0, &a);
        t.observe(1, &b);
        let (c, n) = t.decide(None);
        assert_eq!(n.len(), 2);
        assert!(n.iter().any(|f| f.code == Code::DateOrderAssumed));
        assert_eq!(
            c.order_for(&b, "Date", "6/9/2016", DateOrder::Mdy),
            Ok(DateOrder::Mdy)
        );
    }

    #[test]
    fn an_ambiguous_column_follows_the_proof_of_its_input() {
        let user = |date: &str| {
            let e = cat::entity("User").unwrap();
            let mut r = payment(3, date);
            r.entity = e.id();
            r.fields[0].field = e.field("CreatedDate").unwrap();
            r
        };
        for (proof, order, notes) in [
            ("25/6/2016", DateOrder::Dmy, 2),
            ("6/25/2016", DateOrder::Mdy, 0),
        ] {
            let mut t = DateTally::default();
            let (a, b) = (payment(2, proof), user("6/9/2016"));
            t.observe(0, &a);
            t.observe(0, &b);
            let (c, n) = t.decide(None);
            assert_eq!(n.len(), notes, "{n:#?}");
            assert!(n.iter().all(|f| f.code == Code::DateOrderInferred));
            assert_eq!(
                c.order_for(&b, "CreatedDate", "6/9/2016", DateOrder::Mdy),
                Ok(order)
            );
        }
        // Siblings that disagree prove nothing.
        let mut t = DateTally::default();
        t.observe(0, &payment(2, "25/6/2016"));
        t.observe(0, &user("6/25/2016"));
        let b = user("6/9/2016");
        let mut b2 = b.clone();
        b2.location.file = "b.csv".into();
        t.observe(0, &b2);
        let (c, n) = t.decide(None);
        assert!(n.iter().any(|f| f.code == Code::DateOrderAssumed));
        assert_eq!(
            c.order_for(&b2, "CreatedDate", "6/9/2016", DateOrder::Mdy),
            Ok(DateOrder::Mdy)
        );
    }
}
