//! Whether an input holds anything Ferry reads (SPEC §15: an input from which no record of any
//! entity type is read fails). An input fails when it has sheets, CSV files or XML element
//! types and none of them is an entity type, `Ledger` or `Options` (Ferry's own sheets such as
//! `Findings` do not count either way). An entity-type sheet with a header and no rows is not
//! this case (`input.empty`), nor is an input with no sheet at all.
//!
//! The message says which entity types the headers of what was not read resemble: a header
//! resembles a field when their normalized names (`names::normalized`) are equal or one holds
//! the other (both of 4 characters or more).

use crate::{RawRecord, RawValue, Sink, SourceError};
use ferry_catalogue as cat;
use ferry_findings::{Finding, Location};

/// A sheet, CSV file or XML element type that names no entity type, and its header.
#[derive(Debug)]
pub(crate) struct UnknownPart {
    name: String,
    headers: Vec<String>,
}

/// A visitor that passes everything on and notes which parts were read.
pub(crate) struct Census<'a> {
    pub inner: &'a mut dyn Sink,
    read: bool,
    unknown: Vec<UnknownPart>,
}

impl<'a> Census<'a> {
    pub fn new(inner: &'a mut dyn Sink) -> Census<'a> {
        Census {
            inner,
            read: false,
            unknown: Vec::new(),
        }
    }

    /// The error for an input none of whose parts Ferry reads; `what` is `sheet`, `file` or
    /// `element`.
    pub fn check(&self, path: &str, what: &str) -> Result<(), SourceError> {
        if self.read || self.unknown.is_empty() {
            return Ok(());
        }
        Err(SourceError::Refused {
            path: path.to_string(),
            message: message(&self.unknown, what),
        })
    }
}

impl Sink for Census<'_> {
    fn record(&mut self, record: RawRecord) -> Result<(), SourceError> {
        self.inner.record(record)
    }
    fn finding(&mut self, finding: Finding) -> Result<(), SourceError> {
        self.inner.finding(finding)
    }
    fn option(
        &mut self,
        name: String,
        value: RawValue,
        location: Location,
    ) -> Result<(), SourceError> {
        self.inner.option(name, value, location)
    }
    fn part(&mut self, name: &str, read: bool, headers: &[String]) {
        if read {
            self.read = true;
        } else if self.unknown.len() < 50 {
            self.unknown.push(UnknownPart {
                name: ferry_findings::clip(name),
                headers: headers
                    .iter()
                    .take(200)
                    .map(|h| ferry_findings::clip(h.trim()))
                    .collect(),
            });
        }
        self.inner.part(name, read, headers);
    }
    fn overrule(&mut self) {
        self.inner.overrule();
    }
    fn raw_row(&mut self, row: crate::RawRow<'_>) -> Result<(), SourceError> {
        self.inner.raw_row(row)
    }
}

fn resembles(header: &str, field: &str) -> bool {
    let (h, f) = (cat::normalized(header), cat::normalized(field));
    h == f || (h.len().min(f.len()) >= 4 && (h.contains(&f) || f.contains(&h)))
}

/// The entity types whose fields the headers resemble, best first (at most 3), each with the
/// fields resembled.
pub(crate) fn resemblance(headers: &[String]) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut scored: Vec<(usize, usize, &'static str, Vec<&'static str>)> = Vec::new();
    for e in cat::ENTITIES {
        let mut fields = Vec::new();
        let mut exact = 0;
        for h in headers {
            if let Some(f) = e.fields.iter().find(|f| resembles(h, f.name)) {
                if !fields.contains(&f.name) {
                    fields.push(f.name);
                }
                exact += usize::from(cat::same_name(h, [f.name]).is_some());
            }
        }
        if !fields.is_empty() {
            scored.push((fields.len(), exact, e.name, fields));
        }
    }
    // Most fields resembled, then most exact, then catalogue order (a stable sort).
    scored.sort_by_key(|s| std::cmp::Reverse((s.0, s.1)));
    scored
        .into_iter()
        .take(3)
        .map(|(_, _, n, f)| (n, f))
        .collect()
}

fn message(unknown: &[UnknownPart], what: &str) -> String {
    let parts: Vec<String> = unknown
        .iter()
        .take(5)
        .map(|p| {
            let r = resemblance(&p.headers);
            let like = if r.is_empty() {
                "resembles no entity type".to_string()
            } else {
                let list: Vec<String> = r
                    .iter()
                    .map(|(e, f)| {
                        let shown: Vec<&str> = f.iter().take(5).copied().collect();
                        format!("{e} ({})", shown.join(", "))
                    })
                    .collect();
                format!("resembles {}", list.join("; "))
            };
            format!("\"{}\" {like}", p.name)
        })
        .collect();
    let more = if unknown.len() > 5 {
        format!(" and {} more", unknown.len() - 5)
    } else {
        String::new()
    };
    format!(
        "no {what} names an entity type, so no record would be read: {}{more}. Map it as it stands: `ferry map suggest INPUT --out mapping.toml` proposes a mapping, `ferry import INPUT --mapping mapping.toml` applies it. Or name each {what} after the entity type of its rows (User, Contact, ContactEmail, Payment, …) and its columns after Ferry's field names (docs/formats.md, or `ferry template`).",
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_customer_list_resembles_users_and_contacts() {
        let r = resemblance(&h(&[
            "first_name",
            "last_name",
            "company_name",
            "address",
            "city",
            "county",
            "postal",
            "phone1",
            "email",
            "web",
        ]));
        let names: Vec<&str> = r.iter().map(|(e, _)| *e).collect();
        assert!(names.contains(&"ContactAddress"), "{r:?}");
        assert!(resemblance(&h(&["zzz", "qq"])).is_empty());
    }
}
