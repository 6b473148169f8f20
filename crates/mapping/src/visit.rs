//! Between the readers and the spool: the raw rows of the parts a mapping claims become
//! located records of Ferry's entity types, and what the mapping cannot read becomes findings.

use crate::apply::Value;
use crate::{Bound, Mapping, Produced, ProducedRecord, RowProblem, Source};
use ferry_catalogue as cat;
use ferry_findings::{clip, Code, Finding, Location};
use ferry_sources::{
    RawField, RawPart, RawParts, RawRecord, RawRow, RawValue, SourceError, Visitor,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which parts `mapping` reads: for [`ferry_sources::ReadOptions::raw`].
pub fn raw_parts(mapping: Arc<Mapping>) -> RawParts {
    RawParts(Arc::new(move |file, sheet, element| {
        mapping.source_for(file, sheet, element).is_some()
    }))
}

/// A visitor that applies a mapping to raw rows and passes everything else on unchanged.
/// `E` is the inner visitor's error type: its own failures pass through as they are.
pub struct Mapped<'a, E = SourceError> {
    inner: &'a mut dyn Visitor<Error = E>,
    mapping: &'a Mapping,
    parts: Vec<PartState>,
}

/// What is known of one part met: its source bound to its header, and the rows its filters
/// left out.
struct PartState {
    part: RawPart,
    source: usize,
    bound: Bound,
    /// For an XML element type: the columns the source reads, which each element's attributes
    /// are lined up with.
    columns: Option<Vec<String>>,
    filtered: BTreeMap<String, u64>,
}

impl PartState {
    fn is(&self, p: &RawPart) -> bool {
        self.part.file == p.file && self.part.sheet == p.sheet && self.part.element == p.element
    }
}

impl<'a, E: From<SourceError>> Mapped<'a, E> {
    pub fn new(inner: &'a mut dyn Visitor<Error = E>, mapping: &'a Mapping) -> Mapped<'a, E> {
        Mapped {
            inner,
            mapping,
            parts: Vec::new(),
        }
    }

    /// Reports the rows each part's filters left out (call once all inputs are read).
    pub fn finish(self) -> Result<(), E> {
        for p in &self.parts {
            let label = self.mapping.sources[p.source].label();
            for (reason, n) in &p.filtered {
                let f = Finding::new(
                    Code::MappingFiltered,
                    p.part.location(1, None),
                    format!(
                        "{n} row(s) of {} left out by the mapping \"{label}\": {reason}.",
                        what(&p.part)
                    ),
                );
                self.inner.finding(f)?;
            }
        }
        Ok(())
    }

    /// The state of a row's part; on its first row, the header is checked against the source.
    fn state(&mut self, row: &RawRow<'_>) -> Result<usize, E> {
        if let Some(i) = self.parts.iter().position(|s| s.is(row.part)) {
            return Ok(i);
        }
        let p = row.part;
        let file = p.file.rsplit(['/', '\\']).next().unwrap_or(&p.file);
        let source = self
            .mapping
            .sources
            .iter()
            .position(|s| s.reads(file, p.sheet.as_deref(), p.element.as_deref()))
            .ok_or_else(|| SourceError::Sink(format!("no mapping source reads {}", what(p))))?;
        let mapping: &Mapping = self.mapping;
        let s = &mapping.sources[source];
        let (bound, columns) = if p.element.is_none() {
            let bound = s.bind(row.headers);
            self.check_header(s, &bound, p, row.headers)?;
            (bound, None)
        } else {
            let columns = s.read_columns();
            (s.bind(&columns), Some(columns))
        };
        self.parts.push(PartState {
            part: p.clone(),
            source,
            bound,
            columns,
            filtered: BTreeMap::new(),
        });
        Ok(self.parts.len() - 1)
    }

    /// Refuses a file or sheet that lacks a column the source reads (before anything is
    /// written), and lists once the columns the source leaves unread.
    fn check_header(
        &mut self,
        source: &Source,
        bound: &Bound,
        part: &RawPart,
        headers: &[String],
    ) -> Result<(), E> {
        let missing = bound.missing_columns();
        if !missing.is_empty() {
            let hints: Vec<String> = missing
                .iter()
                .filter_map(|m| like(m, headers).map(|n| format!("\"{m}\": did you mean \"{n}\"?")))
                .collect();
            return Err(SourceError::Refused {
                path: what(part),
                message: format!(
                    "the mapping \"{}\" reads column(s) this {} does not have: {}{}",
                    source.label(),
                    if part.sheet.is_some() {
                        "sheet"
                    } else {
                        "file"
                    },
                    missing.join(", "),
                    if hints.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", hints.join("; "))
                    }
                ),
            }
            .into());
        }
        let read = bound.read_columns();
        let unused: Vec<String> = headers
            .iter()
            .filter(|h| !h.trim().is_empty())
            .filter(|h| index_of(&read, h).is_none())
            .map(|h| clip(h))
            .collect();
        if !unused.is_empty() {
            let shown: Vec<String> = unused.iter().take(30).map(|h| format!("\"{h}\"")).collect();
            let more = unused.len().saturating_sub(30);
            let f = Finding::new(
                Code::MappingUnusedColumn,
                part.location(1, None),
                format!(
                    "The mapping \"{}\" reads no value of {} column(s) of {}: {}{}; they are not imported.",
                    source.label(),
                    unused.len(),
                    what(part),
                    shown.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() }
                ),
            );
            self.inner.finding(f)?;
        }
        Ok(())
    }

    fn row(&mut self, row: RawRow<'_>) -> Result<(), E> {
        let state = self.state(&row)?;
        let part = &self.parts[state];
        let (source, bound) = (&self.mapping.sources[part.source], &part.bound);
        // An XML element gives only the attributes it has: line them up with the columns the
        // source reads (an absent attribute is an empty cell).
        let aligned;
        let (headers, cells): (&[String], &[RawValue]) = match &part.columns {
            Some(columns) => {
                aligned = align(columns, row.headers, row.cells);
                (columns, &aligned)
            }
            None => (row.headers, row.cells),
        };
        let texts: Vec<String> = cells.iter().map(text_of).collect();
        if let Some(reason) = bound.dropped_by(&texts) {
            *self.parts[state].filtered.entry(reason).or_default() += 1;
            return Ok(());
        }
        let produced = bound.apply(&texts);
        let bad: Vec<usize> = (0..cells.len()).filter(|i| is_bad(&cells[*i])).collect();
        let tainted = if bad.is_empty() {
            None
        } else {
            let mut poisoned = texts.clone();
            for i in &bad {
                poisoned[*i] = "\u{1}".into();
            }
            Some(bound.apply(&poisoned))
        };
        let emit = Emit {
            part: row.part,
            row: row.row,
            headers,
            cells,
            label: source.label(),
        };
        emit.all(&produced, tainted.as_deref(), &bad, self.inner)
    }
}

impl<E: From<SourceError>> Visitor for Mapped<'_, E> {
    type Error = E;
    fn record(&mut self, record: RawRecord) -> Result<(), E> {
        self.inner.record(record)
    }
    fn finding(&mut self, finding: Finding) -> Result<(), E> {
        self.inner.finding(finding)
    }
    fn option(&mut self, name: String, value: RawValue, location: Location) -> Result<(), E> {
        self.inner.option(name, value, location)
    }
    fn part(&mut self, name: &str, read: bool, headers: &[String]) {
        self.inner.part(name, read, headers)
    }
    fn raw_row(&mut self, row: RawRow<'_>) -> Result<(), E> {
        self.row(row)
    }
}

/// One row's records and problems on their way to the spool.
struct Emit<'r> {
    part: &'r RawPart,
    row: u64,
    headers: &'r [String],
    cells: &'r [RawValue],
    label: String,
}

impl Emit<'_> {
    fn all<E: From<SourceError>>(
        &self,
        produced: &[Produced],
        tainted: Option<&[Produced]>,
        bad: &[usize],
        out: &mut dyn Visitor<Error = E>,
    ) -> Result<(), E> {
        let shape_changed = tainted.is_some_and(|t| t.len() != produced.len());
        for (i, p) in produced.iter().enumerate() {
            match p {
                Produced::Record(r) => {
                    match self.taint(r, tainted.map(|t| t.get(i)), shape_changed, bad) {
                        Some(col) => self.cell_problem(r.entity, col, out)?,
                        None => out.record(self.record(r, false))?,
                    }
                }
                Produced::Problem(p) => self.problem(p, out)?,
                // Rejected with the values it could read, so that its key and references are
                // judged as usual (its children are rejected as a rejected parent's).
                Produced::Rejected(r) => out.record(self.record(r, true))?,
            }
        }
        Ok(())
    }

    fn empty(&self, entity: &str) -> RawRecord {
        RawRecord {
            entity: cat::entity_id(entity).unwrap_or_default(),
            location: self.part.location(self.row, None),
            fields: Vec::new(),
            broken: true,
            header: None,
        }
    }

    /// The bad cell a record depends on other than by copying it as it stands, if any: the
    /// row applied with its bad cells changed gives another record.
    fn taint(
        &self,
        r: &ProducedRecord,
        other: Option<Option<&Produced>>,
        shape_changed: bool,
        bad: &[usize],
    ) -> Option<usize> {
        let other = other?;
        let copied = |v: &Value| {
            v.verbatim
                && v.column
                    .as_deref()
                    .and_then(|c| index_of(self.headers, c))
                    .is_some_and(|i| bad.contains(&i))
        };
        let same = !shape_changed
            && match other {
                Some(Produced::Record(o)) => {
                    let a = r.fields.iter().filter(|v| !copied(v));
                    let b = o.fields.iter().filter(|v| !copied(v));
                    a.eq(b)
                }
                _ => false,
            };
        (!same).then(|| bad[0])
    }

    /// A record as the spool takes it: a column copied as it stands keeps the reader's typed
    /// cell (a workbook number or date, a cell error) so the validator judges it as usual.
    fn record(&self, r: &ProducedRecord, broken: bool) -> RawRecord {
        let entity = cat::entity(r.entity).expect("mapped records are of catalogue types");
        let fields = r
            .fields
            .iter()
            .filter_map(|v| {
                let field = entity.field(v.field)?;
                let idx = v.column.as_deref().and_then(|c| index_of(self.headers, c));
                let value = match idx.map(|i| &self.cells[i]) {
                    Some(RawValue::Text(_)) | None => RawValue::Text(v.text.clone()),
                    Some(typed) if v.verbatim => typed.clone(),
                    Some(_) => RawValue::Text(v.text.clone()),
                };
                Some(RawField {
                    field,
                    value,
                    column: idx.map(|i| self.part.column(i)),
                })
            })
            .collect();
        RawRecord {
            entity: entity.id(),
            location: self.part.location(self.row, None),
            fields,
            broken,
            header: None,
        }
    }

    /// The finding of a value the mapping could not read; returns the entity type it was for.
    fn problem<E: From<SourceError>>(
        &self,
        p: &RowProblem,
        out: &mut dyn Visitor<Error = E>,
    ) -> Result<(), E> {
        let (entity, field) = match p.target.as_deref().and_then(|t| t.split_once('.')) {
            Some((e, f)) => (cat::entity(e), cat::entity(e).and_then(|e| e.field_def(f))),
            None => (None, None),
        };
        let secret = field.is_some_and(|f| f.is_secret());
        let idx = index_of(self.headers, &p.column);
        let message = if secret {
            format!("The mapping cannot read the value of column {}", p.column)
        } else {
            capitalized(&p.message)
        };
        let of = entity
            .map(|e| format!("; this row's {} record is not imported", e.name))
            .unwrap_or_default();
        let mut f = Finding::new(
            Code::MappingValue,
            self.part.location(self.row, idx),
            format!("{message}{of}."),
        );
        if let Some(e) = entity {
            f = f.entity(e.name);
        }
        if let Some(fd) = field {
            f = f.field(fd.name);
        }
        if !secret && !p.value.is_empty() {
            f = f.value(&p.value);
        }
        out.finding(f)
    }

    /// A record that needs a bad cell (a cell error, an over-long value) transformed.
    fn cell_problem<E: From<SourceError>>(
        &self,
        entity: &'static str,
        col: usize,
        out: &mut dyn Visitor<Error = E>,
    ) -> Result<(), E> {
        let cell = &self.cells[col];
        let what = match cell {
            RawValue::TooLong { bytes, .. } => {
                format!("a value of {bytes} bytes, over the reader's limit")
            }
            RawValue::CellError(e) => format!("the error value {e}"),
            RawValue::FormulaNoValue => "a formula without a calculated value".into(),
            _ => "a date cell that is no date".into(),
        };
        let f = Finding::new(
            Code::MappingValue,
            self.part.location(self.row, Some(col)),
            format!(
                "{}: column {} holds {what}, which the mapping cannot transform; this row's {entity} record is not imported.",
                self.label,
                self.headers.get(col).map_or("?", String::as_str)
            ),
        )
        .entity(entity);
        out.finding(f)?;
        out.record(self.empty(entity))
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A cell as the mapping reads it.
fn text_of(v: &RawValue) -> String {
    match v {
        RawValue::Text(s) => s.clone(),
        other => other.display(),
    }
}

/// A cell no mapping may transform: its text is not the value.
fn is_bad(v: &RawValue) -> bool {
    matches!(
        v,
        RawValue::TooLong { .. }
            | RawValue::CellError(_)
            | RawValue::FormulaNoValue
            | RawValue::BadDate(_)
    )
}

/// A header's position: the same name, else the same when case, accents, spaces and
/// punctuation are ignored (as [`Source::bind`] finds columns).
pub(crate) fn index_of(headers: &[String], name: &str) -> Option<usize> {
    headers.iter().position(|h| h == name).or_else(|| {
        let hit = cat::same_name(name, headers.iter().map(String::as_str))?;
        headers.iter().position(|h| h == hit)
    })
}

/// An XML element's attributes lined up with the columns its source reads.
fn align(columns: &[String], headers: &[String], cells: &[RawValue]) -> Vec<RawValue> {
    columns
        .iter()
        .map(|c| index_of(headers, c).map_or(RawValue::Text(String::new()), |i| cells[i].clone()))
        .collect()
}

/// The header most like a column the mapping names: the catalogue's nearest name, else one
/// that starts the same way (4 characters or more once normalized: `postal`, `postcode`).
fn like<'h>(name: &str, headers: &'h [String]) -> Option<&'h str> {
    let names = || headers.iter().map(String::as_str);
    cat::nearest(name, names()).or_else(|| {
        let n = cat::normalized(name);
        names().find(|h| {
            let h = cat::normalized(h);
            let common = h.chars().zip(n.chars()).take_while(|(a, b)| a == b).count();
            common >= 4
        })
    })
}

/// How a part is named in messages.
fn what(p: &RawPart) -> String {
    match (&p.sheet, &p.element) {
        (Some(s), _) => format!("sheet \"{s}\" of {}", p.file),
        (None, Some(e)) => format!("the <{e}> elements of {}", p.file),
        _ => p.file.to_string(),
    }
}
