//! What the three readers share: naming sheets and columns, unknown-name warnings,
//! trimming and bounding values, and the CloseInvoice account inheritance of SPEC §2.

use crate::{HeaderColumns, Limits, RawField, RawRecord, RawValue, Sink, SourceError};
use ferry_catalogue::{self as cat, did_you_mean, EntityId, FieldId};
use ferry_findings::{Code, Column, Finding, Location};
use std::collections::HashSet;
use std::sync::Arc;

/// What a sheet, CSV file or XML element type holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SheetKind {
    Entity(EntityId),
    Ledger,
    Options,
    /// Ferry's own sheets (`Findings`, `_…`): skipped silently.
    Ignored,
    Unknown,
    /// Handed over as raw rows (`ReadOptions::raw`: a mapping reads it).
    Raw,
}

/// The kind of a CSV file (`sheet` None) or a sheet, raw when `opts.raw` claims it.
pub(crate) fn part_kind(
    opts: &crate::ReadOptions,
    file: &str,
    sheet: Option<&str>,
    name: &str,
) -> SheetKind {
    match &opts.raw {
        Some(raw) if raw.wants(file, sheet, None) => SheetKind::Raw,
        _ => sheet_kind(name),
    }
}

pub(crate) fn sheet_kind(name: &str) -> SheetKind {
    if name == cat::LEDGER_SHEET {
        SheetKind::Ledger
    } else if name == cat::OPTIONS_SHEET {
        SheetKind::Options
    } else if cat::is_ignored_sheet(name) {
        SheetKind::Ignored
    } else if let Some(id) = cat::entity_id(name) {
        SheetKind::Entity(id)
    } else if let Some(e) = cat::entity_alias(name) {
        SheetKind::Entity(e.id())
    } else {
        SheetKind::Unknown
    }
}

/// The note for a sheet / file / element type named by a vendor's alias of an entity type
/// (`UserServiceAttributeContact`), if `name` is one: its records are read as that type.
pub(crate) fn entity_alias_note(name: &str, location: Location) -> Option<Finding> {
    let e = cat::entity_alias(name)?;
    Some(
        Finding::new(
            Code::Alias,
            location,
            format!(
                "\"{name}\" is the vendor's name (seed 003) of {}; its records are read as {}.",
                e.name, e.name
            ),
        )
        .entity(e.name)
        .value(name),
    )
}

/// The note for a column or attribute named by a vendor's spelling of a field (`Loggedby`).
pub(crate) fn field_alias_note(
    entity: &'static str,
    alias: &str,
    field: &'static str,
    location: Location,
) -> Finding {
    Finding::new(
        Code::Alias,
        location,
        format!("\"{alias}\" is the vendor's spelling (seed 003) of field {field} of {entity}; its values are read as {field}."),
    )
    .entity(entity)
    .field(field)
    .value(alias)
}

fn entity_names() -> impl Iterator<Item = &'static str> {
    cat::ENTITIES
        .iter()
        .map(|e| e.name)
        .chain([cat::LEDGER_SHEET, cat::OPTIONS_SHEET])
}

/// The warning for a sheet / file / element type that names no entity type.
pub(crate) fn unknown_entity(name: &str, location: Location) -> Finding {
    Finding::new(
        Code::UnknownEntity,
        location,
        format!("\"{name}\" is not an entity type; its records are ignored."),
    )
    .value(name)
    .hint(cat::suggest(name, entity_names()).map(did_you_mean))
}

/// The role of one column of a header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ColumnRole {
    Field(&'static str),
    /// The `Type` column of a Ledger sheet.
    Type,
    /// Options sheet columns.
    OptName,
    OptValue,
    /// Unknown or empty header: values here are ignored (unknown) or an error (empty header).
    Unknown,
    NoHeader,
}

/// A sheet or CSV file being read: its location context, kind and column roles.
pub(crate) struct Sheet {
    pub file: Arc<str>,
    pub sheet: Option<Arc<str>>,
    pub kind: SheetKind,
    pub columns: Vec<ColumnRole>,
    letters: bool,
    /// The account of the nearest preceding ledger record (CloseInvoice without User).
    last_ledger_user: Option<RawValue>,
    /// A raw part's header, by column.
    raw_headers: Vec<String>,
    /// Per entity type read here, each field's column (made once, shared by its records).
    field_columns: Vec<(EntityId, HeaderColumns)>,
}

impl Sheet {
    pub fn new(file: Arc<str>, sheet: Option<Arc<str>>, kind: SheetKind, letters: bool) -> Sheet {
        Sheet {
            file,
            sheet,
            kind,
            columns: Vec::new(),
            letters,
            last_ledger_user: None,
            raw_headers: Vec::new(),
            field_columns: Vec::new(),
        }
    }

    /// Each field of `entity` with its column in this header (`None` without a header: XML).
    fn header_of(&mut self, entity: EntityId) -> Option<HeaderColumns> {
        if self.columns.is_empty() {
            return None;
        }
        if let Some((_, h)) = self.field_columns.iter().find(|(e, _)| *e == entity) {
            return Some(h.clone());
        }
        let e = cat::by_id(entity);
        let mut by_field = vec![None; e.fields.len()];
        for (c, role) in self.columns.iter().enumerate() {
            if let ColumnRole::Field(name) = role {
                if let Some(fid) = e.field(name) {
                    by_field[fid as usize] = Some(self.column(c as u32));
                }
            }
        }
        let h: HeaderColumns = by_field.into();
        self.field_columns.push((entity, h.clone()));
        Some(h)
    }

    pub fn column(&self, idx: u32) -> Column {
        if self.letters {
            Column::Letter(idx)
        } else {
            Column::Number(idx + 1)
        }
    }

    pub fn location(&self, row: u64, col: Option<u32>) -> Location {
        Location {
            file: self.file.clone(),
            sheet: self.sheet.clone(),
            row,
            column: col.map(|c| self.column(c)),
        }
    }

    fn what(&self) -> &'static str {
        if self.sheet.is_some() {
            "sheet"
        } else {
            "file"
        }
    }

    /// Reads the header row: maps each column to its role, warning about unknown names at
    /// their header cell. Returns an error finding when the header is unusable.
    pub fn set_header(
        &mut self,
        header: &[(u32, String)],
        visitor: &mut dyn Sink,
    ) -> Result<bool, SourceError> {
        if self.kind == SheetKind::Raw {
            return Ok(self.set_raw_header(header));
        }
        let width = header
            .iter()
            .map(|(c, _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut columns = vec![ColumnRole::NoHeader; width];
        let mut seen: HashSet<&str> = HashSet::new();
        let mut unknown = 0usize;
        const MAX_UNKNOWN_WARNINGS: usize = 20;
        let valid_names: Vec<&'static str> = match self.kind {
            SheetKind::Entity(id) => cat::by_id(id).fields.iter().map(|f| f.name).collect(),
            SheetKind::Ledger => {
                let mut v = vec!["Type"];
                for t in cat::LEDGER_TYPES {
                    for f in cat::entity(t).expect("ledger type").fields {
                        if !v.contains(&f.name) {
                            v.push(f.name);
                        }
                    }
                }
                v
            }
            SheetKind::Options => vec!["Name", "Value"],
            _ => vec![],
        };
        // Names given exactly (or as a vendor's spelling): a header matched only after
        // normalizing never takes their field.
        let exact: HashSet<&str> = header
            .iter()
            .filter_map(|(_, n)| {
                let n = n.trim();
                valid_names
                    .iter()
                    .find(|v| **v == n)
                    .copied()
                    .or_else(|| self.field_alias(n).map(|(_, f)| f))
            })
            .collect();
        let mut unlisted: Vec<String> = Vec::new();
        for (col, name) in header {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            if self.ignores(name) {
                // A vendor's field that means nothing (seed 003's `CloseInvoice` attribute).
                columns[*col as usize] = ColumnRole::Unknown;
                continue;
            }
            let mut known = valid_names.iter().find(|n| **n == name).copied();
            if known.is_none() {
                if let Some((entity, field)) = self.field_alias(name) {
                    visitor.finding(field_alias_note(
                        entity,
                        name,
                        field,
                        self.location(1, Some(*col)),
                    ))?;
                    known = Some(field);
                }
            }
            if known.is_none() {
                let same = cat::same_name(name, valid_names.iter().copied())
                    .filter(|f| !exact.contains(f) && !seen.contains(f));
                if let Some(field) = same {
                    visitor.finding(self.header_matched_note(name, field, *col))?;
                    known = Some(field);
                }
            }
            let role = match (known, self.kind) {
                (Some("Type"), SheetKind::Ledger) => ColumnRole::Type,
                (Some("Name"), SheetKind::Options) => ColumnRole::OptName,
                (Some("Value"), SheetKind::Options) => ColumnRole::OptValue,
                (Some(n), _) => ColumnRole::Field(n),
                (None, _) => ColumnRole::Unknown,
            };
            if let Some(k) = known {
                if !seen.insert(k) {
                    visitor.finding(
                        Finding::new(
                            Code::DuplicateColumn,
                            self.location(1, Some(*col)),
                            format!("Column \"{k}\" appears twice in the header of {} \"{}\"; the {} is not read.", self.what(), self.display_name(), self.what()),
                        )
                        .field(k),
                    )?;
                    return Ok(false);
                }
            } else {
                unknown += 1;
                if unknown <= MAX_UNKNOWN_WARNINGS {
                    visitor.finding(
                        Finding::new(
                            Code::UnknownField,
                            self.location(1, Some(*col)),
                            format!(
                                "\"{}\" is not a field of {}; its values are ignored.",
                                ferry_findings::clip(name),
                                self.entity_name().unwrap_or("this sheet")
                            ),
                        )
                        .entity_opt(self.entity_name())
                        .field(&ferry_findings::clip(name))
                        .hint(cat::nearest(name, valid_names.iter().copied()).map(did_you_mean)),
                    )?;
                } else if unlisted.len() < MAX_LISTED {
                    unlisted.push(ferry_findings::clip(name));
                }
            }
            columns[*col as usize] = role;
        }
        if unknown > MAX_UNKNOWN_WARNINGS {
            visitor.finding(Finding::new(
                Code::UnknownField,
                self.location(1, None),
                format!(
                    "{} more unknown columns in {} \"{}\" are ignored: {}.",
                    unknown - MAX_UNKNOWN_WARNINGS,
                    self.what(),
                    self.display_name(),
                    listed(&unlisted, unknown - MAX_UNKNOWN_WARNINGS)
                ),
            ))?;
        }
        self.columns = columns;
        self.field_columns.clear();
        Ok(true)
    }

    /// Keeps a raw part's header by column; refused (with nothing read) when it is empty.
    fn set_raw_header(&mut self, header: &[(u32, String)]) -> bool {
        let width = header
            .iter()
            .map(|(c, _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        self.raw_headers = vec![String::new(); width];
        for (c, name) in header {
            self.raw_headers[*c as usize] = name.trim().to_string();
        }
        true
    }

    /// Hands one row of a raw part over, its cells aligned with the header.
    fn raw_row(
        &self,
        row: u64,
        cells: Vec<(u32, RawValue)>,
        visitor: &mut dyn Sink,
    ) -> Result<(), SourceError> {
        let width = cells
            .iter()
            .map(|(c, _)| *c as usize + 1)
            .max()
            .unwrap_or(0)
            .max(self.raw_headers.len());
        let mut values = vec![RawValue::Text(String::new()); width];
        for (c, v) in cells {
            values[c as usize] = v;
        }
        let part = crate::RawPart {
            file: self.file.clone(),
            sheet: self.sheet.clone(),
            element: None,
            columns: if self.letters {
                crate::RawColumns::Letters
            } else {
                crate::RawColumns::Numbers
            },
        };
        visitor.raw_row(crate::RawRow {
            part: &part,
            row,
            headers: &self.raw_headers,
            cells: &values,
        })
    }

    /// The note for a header read as a field it names with other case, accents, spaces or
    /// punctuation.
    fn header_matched_note(&self, name: &str, field: &'static str, col: u32) -> Finding {
        let of = self
            .entity_name()
            .map(|e| format!(" of {e}"))
            .unwrap_or_default();
        Finding::new(
            Code::HeaderMatched,
            self.location(1, Some(col)),
            format!(
                "Column \"{}\" is read as field {field}{of} (the same name when case, accents, spaces and punctuation are ignored).",
                ferry_findings::clip(name)
            ),
        )
        .entity_opt(self.entity_name())
        .field(field)
        .value(name)
    }

    /// The entity type and field a vendor's spelling stands for in this sheet (for a Ledger
    /// sheet, in any ledger type).
    fn field_alias(&self, name: &str) -> Option<(&'static str, &'static str)> {
        let types: Vec<&'static cat::Entity> = match self.kind {
            SheetKind::Entity(id) => vec![cat::by_id(id)],
            SheetKind::Ledger => cat::LEDGER_TYPES
                .iter()
                .filter_map(|t| cat::entity(t))
                .collect(),
            _ => vec![],
        };
        types
            .into_iter()
            .find_map(|e| e.field_alias(name).map(|f| (e.name, f)))
    }

    /// Whether a column of this name is ignored silently in this sheet: a "Rejected rows"
    /// download's findings column anywhere, and the vendors' fields that mean nothing.
    fn ignores(&self, name: &str) -> bool {
        if name == cat::FINDINGS_COLUMN {
            return true;
        }
        match self.kind {
            SheetKind::Entity(id) => cat::by_id(id).ignores_field(name),
            _ => false,
        }
    }

    fn display_name(&self) -> &str {
        match &self.sheet {
            Some(s) => s,
            None => &self.file,
        }
    }

    fn entity_name(&self) -> Option<&'static str> {
        match self.kind {
            SheetKind::Entity(id) => Some(cat::by_id(id).name),
            _ => None,
        }
    }

    /// Whether `row` is the notes row of a `ferry template` workbook: row 2 of an entity or
    /// Ledger sheet in which every non-empty cell is text equal to the note the catalogue
    /// generates for its column (`cat::field_note`, `cat::ledger_column_note`). Such a row is no
    /// record and is skipped without a finding; a row with any other value is data.
    pub fn is_notes_row(&self, row: u64, cells: &[(u32, RawValue)]) -> bool {
        if row != 2 || !matches!(self.kind, SheetKind::Entity(_) | SheetKind::Ledger) {
            return false;
        }
        let mut any = false;
        for (c, v) in cells {
            let text = match v {
                RawValue::Text(s) if s.trim().is_empty() => continue,
                RawValue::Text(s) => s.trim(),
                _ => return false,
            };
            let name = match self.columns.get(*c as usize) {
                Some(ColumnRole::Field(n)) => *n,
                Some(ColumnRole::Type) => "Type",
                _ => return false,
            };
            let note = match self.kind {
                SheetKind::Entity(id) => {
                    let e = cat::by_id(id);
                    e.field_def(name).map(|f| cat::field_note(e, f))
                }
                _ => cat::ledger_column_note(name),
            };
            if note.as_deref() != Some(text) {
                return false;
            }
            any = true;
        }
        any
    }

    /// Turns one data row (non-empty cells, in column order) into a record, an option or findings.
    pub fn row(
        &mut self,
        row: u64,
        cells: Vec<(u32, RawValue)>,
        limits: &Limits,
        visitor: &mut dyn Sink,
    ) -> Result<(), SourceError> {
        let cells: Vec<(u32, RawValue)> = cells
            .into_iter()
            .filter_map(|(c, v)| normalize(v).map(|v| (c, v)))
            .collect();
        if cells.is_empty() {
            return Ok(());
        }
        if self.kind == SheetKind::Raw {
            return self.raw_row(row, cells, visitor);
        }
        let role = |c: u32| {
            self.columns
                .get(c as usize)
                .cloned()
                .unwrap_or(ColumnRole::NoHeader)
        };
        if let SheetKind::Options = self.kind {
            let name = cells
                .iter()
                .find(|(c, _)| role(*c) == ColumnRole::OptName)
                .map(|(_, v)| v.display());
            let value = cells
                .iter()
                .find(|(c, _)| role(*c) == ColumnRole::OptValue)
                .map(|(c, v)| (*c, v.clone()));
            if let Some(name) = name {
                let (col, value) = value.unwrap_or((1, RawValue::Text(String::new())));
                visitor.option(name, value, self.location(row, Some(col)))?;
            }
            return Ok(());
        }
        let entity: &'static cat::Entity = match self.kind {
            SheetKind::Entity(id) => cat::by_id(id),
            SheetKind::Ledger => {
                let ty = cells.iter().find(|(c, _)| role(*c) == ColumnRole::Type);
                let name = ty.map(|(_, v)| v.display());
                match name.as_deref().filter(|n| cat::LEDGER_TYPES.contains(n)) {
                    Some(n) => cat::entity(n).expect("ledger type"),
                    None => {
                        let col = ty.map(|(c, _)| *c);
                        let shown = name.clone().unwrap_or_default();
                        let f = Finding::new(
                            Code::UnknownType,
                            self.location(row, col),
                            if name.is_some() {
                                format!("Type \"{}\" is not Debit, Credit, CloseInvoice or Payment; the row is not imported.", ferry_findings::clip(&shown))
                            } else {
                                "The row has no Type; it must be Debit, Credit, CloseInvoice or Payment.".to_string()
                            },
                        )
                        .field("Type")
                        .value(&shown)
                        .hint(cat::suggest(&shown, cat::LEDGER_TYPES).map(did_you_mean));
                        visitor.finding(f)?;
                        return Ok(());
                    }
                }
            }
            _ => return Ok(()),
        };
        let entity_id = entity.id();
        let mut fields = Vec::with_capacity(cells.len());
        let mut broken = false;
        let mut extra_reported = false;
        for (c, v) in cells {
            match role(c) {
                ColumnRole::Field(name) => match entity.field(name) {
                    Some(fid) => {
                        let v = bound(v, limits, entity_id, fid);
                        fields.push(RawField {
                            field: fid,
                            value: v,
                            column: Some(self.column(c)),
                        });
                    }
                    None => {
                        visitor.finding(
                            Finding::new(
                                Code::FieldNotForType,
                                self.location(row, Some(c)),
                                format!(
                                    "{} has no field \"{name}\"; the value is ignored.",
                                    entity.name
                                ),
                            )
                            .entity(entity.name)
                            .field(name),
                        )?;
                    }
                },
                ColumnRole::NoHeader if !extra_reported => {
                    extra_reported = true;
                    broken = true;
                    visitor.finding(
                        Finding::new(
                            Code::ExtraValues,
                            self.location(row, Some(c)),
                            format!("A value stands in column {} which has no header; the row may be shifted.", self.column(c).render()),
                        )
                        .entity(entity.name)
                        .value(&v.display()),
                    )?;
                }
                _ => {}
            }
        }
        let location = self.location(row, None);
        self.finish(entity_id, location, fields, broken, visitor)
    }

    /// Applies CloseInvoice inheritance and hands the record on.
    pub fn finish(
        &mut self,
        entity: EntityId,
        location: Location,
        mut fields: Vec<RawField>,
        broken: bool,
        visitor: &mut dyn Sink,
    ) -> Result<(), SourceError> {
        let e = cat::by_id(entity);
        if e.is_ledger() {
            let user = e.field("User").expect("ledger records have User");
            match fields.iter().find(|f| f.field == user) {
                Some(f) => self.last_ledger_user = Some(f.value.clone()),
                None if e.is(cat::Known::CloseInvoice) => {
                    if let Some(v) = &self.last_ledger_user {
                        fields.push(RawField {
                            field: user,
                            value: v.clone(),
                            column: None,
                        });
                    }
                }
                None => {}
            }
        }
        let header = self.header_of(entity);
        visitor.record(RawRecord {
            entity,
            location,
            fields,
            broken,
            header,
        })
    }
}

impl FindingExt for Finding {
    fn entity_opt(self, e: Option<&'static str>) -> Finding {
        match e {
            Some(e) => self.entity(e),
            None => self,
        }
    }
}

pub(crate) trait FindingExt {
    fn entity_opt(self, e: Option<&'static str>) -> Finding;
}

/// Most unknown column names one summary finding lists.
const MAX_LISTED: usize = 100;

/// Names for a message: those given (at most [`MAX_LISTED`]), then how many more of `total`.
fn listed(names: &[String], total: usize) -> String {
    let mut out: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    if total > names.len() {
        out.push(format!("and {} more", total - names.len()));
    }
    out.join(", ")
}

/// Drops values that are empty after trimming (they mean "not given", SPEC §2).
/// Trimming itself happens in validation, where the field (Password) is known.
pub(crate) fn normalize(v: RawValue) -> Option<RawValue> {
    match &v {
        RawValue::Text(s) if s.trim().is_empty() => None,
        _ => Some(v),
    }
}

/// Replaces an oversized text value by its length and head; validation rejects it as too long.
/// Base64 fields (attachments) have their own, larger limit.
pub(crate) fn bound(v: RawValue, limits: &Limits, entity: EntityId, field: FieldId) -> RawValue {
    let max = match cat::by_id(entity).fields[field as usize].kind {
        cat::Kind::Base64 => limits.max_value_bytes.max(limits.max_base64_bytes),
        _ => limits.max_value_bytes,
    };
    match v {
        RawValue::Text(s) if s.len() > max => {
            let head: String = s.chars().take(ferry_findings::MAX_FINDING_VALUE).collect();
            RawValue::TooLong {
                bytes: s.len(),
                head,
            }
        }
        v => v,
    }
}

/// Looks up a field of an entity by exact name, or by a vendor's spelling of it (then the
/// field's own name comes with it, for the note).
pub(crate) fn field_of(entity: EntityId, name: &str) -> Option<(FieldId, Option<&'static str>)> {
    let e = cat::by_id(entity);
    match e.field(name) {
        Some(f) => Some((f, None)),
        None => e
            .field_alias(name)
            .and_then(|f| e.field(f).map(|id| (id, Some(f)))),
    }
}

#[cfg(test)]
mod notes_row_tests {
    //! The template's notes row (row 2) is skipped only when it is exactly the catalogue's notes.
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<Finding>);
    impl Sink for Collect {
        fn record(&mut self, _: RawRecord) -> Result<(), SourceError> {
            Ok(())
        }
        fn part(&mut self, _: &str, _: bool, _: &[String]) {}
        fn raw_row(&mut self, _: crate::RawRow<'_>) -> Result<(), SourceError> {
            Ok(())
        }
        fn finding(&mut self, f: Finding) -> Result<(), SourceError> {
            self.0.push(f);
            Ok(())
        }
        fn option(&mut self, _: String, _: RawValue, _: Location) -> Result<(), SourceError> {
            Ok(())
        }
    }

    fn sheet(name: &str, header: &[&str]) -> Sheet {
        let mut s = Sheet::new("t.xlsx".into(), Some(name.into()), sheet_kind(name), true);
        let header: Vec<(u32, String)> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (i as u32, h.to_string()))
            .collect();
        let mut v = Collect::default();
        assert!(s.set_header(&header, &mut v).unwrap());
        assert!(v.0.is_empty());
        s
    }

    fn text(cells: &[(u32, &str)]) -> Vec<(u32, RawValue)> {
        cells
            .iter()
            .map(|(c, t)| (*c, RawValue::Text(t.to_string())))
            .collect()
    }

    #[test]
    fn exact_catalogue_notes_are_skipped_and_nothing_else() {
        let user = cat::entity("User").unwrap();
        let note = |f: &str| cat::field_note(user, user.field_def(f).unwrap());
        let s = sheet("User", &["Name", "Role", "BillDay"]);
        let notes = [(0, note("Name")), (1, note("Role")), (2, note("BillDay"))];
        let full: Vec<(u32, &str)> = notes.iter().map(|(c, n)| (*c, n.as_str())).collect();
        assert!(s.is_notes_row(2, &text(&full)));
        // Blank cells (a column added by hand) do not make it data; a partial notes row is fine.
        assert!(s.is_notes_row(2, &text(&[(0, full[0].1), (1, "  ")])));
        // Only row 2.
        assert!(!s.is_notes_row(3, &text(&full)));
        // Any real value makes it a record.
        assert!(!s.is_notes_row(2, &text(&[(0, "jsmith"), (1, full[1].1)])));
        // A note under the wrong column is data.
        assert!(!s.is_notes_row(2, &text(&[(0, full[1].1)])));
        // Non-text cells and empty rows are never notes.
        assert!(!s.is_notes_row(2, &[(2, RawValue::Number(5.0))]));
        assert!(!s.is_notes_row(2, &[]));
        // Options sheets have no notes row.
        let o = sheet("Options", &["Name", "Value"]);
        assert!(!o.is_notes_row(2, &text(&[(0, "DateOrder"), (1, "MDY")])));
    }

    #[test]
    fn ledger_notes_row() {
        let cols = cat::ledger_columns();
        let s = sheet("Ledger", &cols);
        let notes: Vec<(u32, String)> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| (i as u32, cat::ledger_column_note(c).unwrap()))
            .collect();
        let cells: Vec<(u32, &str)> = notes.iter().map(|(c, n)| (*c, n.as_str())).collect();
        assert!(s.is_notes_row(2, &text(&cells)));
        assert!(!s.is_notes_row(2, &text(&[(0, "Debit")])));
    }
}
