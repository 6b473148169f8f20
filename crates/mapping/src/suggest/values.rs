//! What the values of a proposed source need: a format per date and amount column (checked
//! against every sampled value), row filters of a payments export, missing-value markers.

use super::place::{values, Family, Placement};
use super::records::{RecordPlan, Src};
use super::Sample;
use crate::sniff::{self, DateSniff};
use crate::synonyms::{
    self, DONE_VALUES, MISSING_MARKERS, NOT_PAYMENT_WORDS, STATUS_HEADERS, TYPE_HEADERS,
};
use ferry_catalogue::Kind;

/// One `[source.columns."X"]` entry: `key = value` lines (values written as TOML) and
/// comments.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnEntry {
    pub column: usize,
    pub lines: Vec<(&'static str, String)>,
    pub comments: Vec<String>,
}

/// A proposed row filter.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPlan {
    pub column: usize,
    pub values: Vec<String>,
    pub comment: String,
}

/// The formats of the columns that records read, by the kind of their field.
pub fn formats(s: &Sample, records: &[RecordPlan]) -> Vec<ColumnEntry> {
    let mut done: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for r in records {
        let Some(e) = ferry_catalogue::entity(r.entity) else {
            continue;
        };
        for f in &r.fields {
            let (Src::Column(i), Some(def)) = (&f.src, e.field_def(f.field)) else {
                continue;
            };
            if done.contains(i) {
                continue;
            }
            done.push(*i);
            let v = values(s, *i);
            let entry = match def.kind {
                Kind::Date => date_entry(*i, &v),
                Kind::Money(_) | Kind::Decimal(_) | Kind::Integer { .. } => number_entry(*i, &v),
                _ => None,
            };
            out.extend(entry);
        }
    }
    out.sort_by_key(|e| e.column);
    out
}

fn q(s: &str) -> String {
    super::toml_out::quote(s)
}

fn date_entry(column: usize, v: &[&str]) -> Option<ColumnEntry> {
    let entry = |lines, comments| {
        Some(ColumnEntry {
            column,
            lines,
            comments,
        })
    };
    match sniff::date(v)? {
        DateSniff::Native => None,
        DateSniff::Iso => entry(
            vec![("format", q("iso"))],
            vec!["ISO 8601 timestamps: the date and time are kept as written, the zone is dropped".into()],
        ),
        DateSniff::Pattern(p) if p.contains("%y") => entry(
            vec![("format", q(p)), ("twoDigitYearPivot", sniff::PIVOT.to_string())],
            vec![format!(
                "every sampled value reads as {p}; check: 2-digit years, 00–{} are 20yy",
                sniff::PIVOT - 1
            )],
        ),
        DateSniff::Pattern(p) => {
            let proof = if sniff::swap_is_tried(p) {
                ", and not with day and month swapped"
            } else {
                ""
            };
            entry(
                vec![("format", q(p))],
                vec![format!("every sampled value reads as {p}{proof}")],
            )
        }
        DateSniff::Ambiguous {
            day_first,
            month_first,
        } => entry(
            Vec::new(),
            vec![
                format!("check: every sampled value reads as {day_first} and as {month_first} (no day above 12): say which"),
                format!("format = {}", q(day_first)),
            ],
        ),
    }
}

fn number_entry(column: usize, v: &[&str]) -> Option<ColumnEntry> {
    let n = sniff::number(v)?;
    if n.is_plain() {
        return None;
    }
    let mut lines = Vec::new();
    if n.decimal != '.' {
        lines.push(("decimalChar", q(&n.decimal.to_string())));
    }
    if let Some(g) = n.group {
        lines.push(("groupChar", q(&g.to_string())));
    }
    if n.symbols {
        lines.push(("bareNumber", "false".to_string()));
    }
    let mut comments = vec!["every sampled value reads with these marks".to_string()];
    if n.symbols {
        comments.push("currency symbols or codes around the numbers are dropped".into());
    }
    Some(ColumnEntry {
        column,
        lines,
        comments,
    })
}

/// A payments export's filters: keep completed rows, skip rows of money going out.
pub fn filters(s: &Sample, p: &Placement) -> (Vec<FilterPlan>, Vec<FilterPlan>) {
    if p.family != Family::Payment {
        return (Vec::new(), Vec::new());
    }
    let free = |i: usize| p.columns.get(i).is_none_or(Option::is_none);
    let mut keep = Vec::new();
    let mut skip = Vec::new();
    for (i, h) in s.headers.iter().enumerate() {
        if !free(i) || p.account.as_ref().is_some_and(|a| a.column == i) {
            continue;
        }
        let seen = distinct(&values(s, i));
        if synonyms::is_one_of(h, STATUS_HEADERS) && keep.is_empty() {
            if let Some(done) = seen
                .iter()
                .find(|v| DONE_VALUES.iter().any(|d| d.eq_ignore_ascii_case(v)))
            {
                keep.push(FilterPlan {
                    column: i,
                    values: vec![done.clone()],
                    comment: "check: only completed payments".into(),
                });
            }
        }
        if synonyms::is_one_of(h, TYPE_HEADERS) && skip.is_empty() {
            let out: Vec<String> = seen.into_iter().filter(|v| is_not_a_payment(v)).collect();
            if !out.is_empty() {
                skip.push(FilterPlan {
                    column: i,
                    values: out,
                    comment: "check: rows of money going out or moved are no payments".into(),
                });
            }
        }
    }
    (keep, skip)
}

fn is_not_a_payment(v: &str) -> bool {
    v.split(|c: char| !c.is_alphanumeric())
        .any(|w| NOT_PAYMENT_WORDS.iter().any(|n| n.eq_ignore_ascii_case(w)))
}

/// The distinct trimmed values, in order of first appearance (at most 50).
fn distinct(v: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in v.iter().map(|x| x.trim()).filter(|x| !x.is_empty()) {
        if out.len() >= 50 {
            break;
        }
        if !out.iter().any(|o| o == x) {
            out.push(x.to_string());
        }
    }
    out
}

/// The missing-value markers that the columns read by records hold (with `""`), if any.
pub fn missing_markers(s: &Sample, records: &[RecordPlan]) -> Vec<String> {
    let mut cols: Vec<usize> = records
        .iter()
        .flat_map(|r| &r.fields)
        .flat_map(|f| match &f.src {
            Src::Column(i) => vec![*i],
            Src::Template(c) => c.clone(),
            Src::Value(_) => Vec::new(),
        })
        .collect();
    cols.sort_unstable();
    cols.dedup();
    let found: Vec<&str> = MISSING_MARKERS
        .iter()
        .copied()
        .filter(|m| {
            cols.iter()
                .any(|i| values(s, *i).iter().any(|v| v.trim() == *m))
        })
        .collect();
    if found.is_empty() {
        return Vec::new();
    }
    std::iter::once("").chain(found).map(String::from).collect()
}
