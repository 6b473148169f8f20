//! One record's own rules: field values, required fields, defaults, and the record's key and hash.

use crate::values::{self, Value, ValueContext};
use ferry_catalogue::{Entity, FieldId, Kind, Known, Req};
use ferry_findings::{mask_number, Code, Column, Finding, Location, PASSWORD_MASK};
use ferry_sources::RawRecord;

/// Run options that record rules depend on.
#[derive(Debug, Clone, Default)]
pub struct RecordOptions {
    pub values: ValueContext,
    /// `DefaultOwner` (SPEC §6.5): the owner of a `User` that names none.
    pub default_owner: Option<String>,
    /// The order of slash dates per column (`date_columns`); without it, `values.date_order`.
    pub dates: Option<std::sync::Arc<crate::DateColumns>>,
}

/// A record with parsed values, one slot per catalogue field.
#[derive(Debug, Clone)]
pub struct Record {
    pub entity: &'static Entity,
    pub location: Location,
    pub values: Vec<Option<Value>>,
    pub columns: Vec<Option<Column>>,
    /// A field had a value that failed its rules (the finding is out already).
    pub invalid: Vec<bool>,
}

/// Key components are joined with this separator in key indexes.
pub const KEY_SEP: char = '\u{1f}';

impl Record {
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.entity
            .field(field)
            .and_then(|i| self.values[i as usize].as_ref())
    }
    pub fn text(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(|v| v.as_text())
    }
    pub fn set(&mut self, field: &str, v: Option<Value>) {
        if let Some(i) = self.entity.field(field) {
            self.values[i as usize] = v;
        }
    }
    pub fn column_of(&self, field: &str) -> Option<Column> {
        self.entity
            .field(field)
            .and_then(|i| self.columns[i as usize])
    }
    pub fn field_invalid(&self, field: &str) -> bool {
        self.entity
            .field(field)
            .is_some_and(|i| self.invalid[i as usize])
    }

    /// The joined values of `fields`, if all are given (a key or a reference).
    pub fn joined(&self, fields: &[&str]) -> Option<String> {
        let mut out = String::new();
        for (i, f) in fields.iter().enumerate() {
            let v = self.get(f)?;
            if i > 0 {
                out.push(KEY_SEP);
            }
            v.write_canonical(&mut out);
        }
        Some(out)
    }

    /// The record's key as stored in the index.
    pub fn key(&self) -> Option<String> {
        let k = self.entity.key_fields();
        if k.is_empty() {
            None
        } else {
            self.joined(k)
        }
    }

    /// The key as people read it (`CUST1 / Jane Doe`).
    pub fn key_display(&self) -> Option<String> {
        self.key().map(|k| display_key(&k))
    }

    /// A finding about this record, located at the field's cell when there is one.
    pub fn finding(&self, code: Code, field: Option<&str>, message: impl Into<String>) -> Finding {
        let column = field.and_then(|f| self.column_of(f));
        let loc = if column.is_some() {
            self.location.with_column(column)
        } else {
            self.location.clone()
        };
        let mut f = Finding::new(code, loc, message)
            .entity(self.entity.name)
            .key(self.key_display());
        if let Some(name) = field {
            f = f.field(name);
            if let Some(v) = self.get(name) {
                f = f.value(&shown_value(self.entity, name, v));
            }
        }
        f
    }

    /// The record's content hash: equal records (all non-secret fields) hash equal.
    pub fn content_hash(&self) -> i64 {
        let mut h = blake3::Hasher::new();
        h.update(self.entity.name.as_bytes());
        let occurrence = self.entity.occurrence_field();
        let mut buf = String::new();
        for (f, v) in self.entity.fields.iter().zip(&self.values) {
            if f.is_secret() || occurrence == Some(f.name) {
                continue;
            }
            h.update(&[0x1e]);
            if let Some(v) = v {
                h.update(&[1]);
                h.update(v.canonical_in(&mut buf).as_bytes());
            }
        }
        let bytes = h.finalize();
        i64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
    }
}

pub fn display_key(k: &str) -> String {
    k.replace(KEY_SEP, " / ")
}

/// What a finding may show of a value: secrets masked, long values cut.
pub fn shown_value(entity: &Entity, field: &str, v: &Value) -> String {
    match entity.field_def(field).map(|f| f.kind) {
        Some(Kind::Password) => PASSWORD_MASK.to_string(),
        Some(Kind::SecretNumber) => match v {
            Value::Secret(s) => mask_number(s),
            other => mask_number(&other.canonical()),
        },
        _ => v.canonical(),
    }
}

/// The order a date field's slash date is read in, when its column decides it (`None`: the
/// run's order), or why it is not read.
fn date_order_of(
    raw: &RawRecord,
    field: &ferry_catalogue::Field,
    value: &ferry_sources::RawValue,
    opts: &RecordOptions,
) -> Result<Option<values::DateOrder>, values::Problem> {
    match (field.kind, value, &opts.dates) {
        (Kind::Date, ferry_sources::RawValue::Text(t), Some(d)) => d
            .order_for(raw, field.name, t, opts.values.date_order)
            .map(Some),
        _ => Ok(None),
    }
}

/// Parses every field of a raw record, applying defaults and required-field rules.
/// Returns the record and every problem found (all of them, not just the first).
pub fn parse_record(raw: &RawRecord, opts: &RecordOptions) -> (Record, Vec<Finding>) {
    let entity = ferry_catalogue::by_id(raw.entity);
    let n = entity.fields.len();
    let mut rec = Record {
        entity,
        location: raw.location.clone(),
        values: vec![None; n],
        // A field the row leaves empty is located at its empty cell, when the header has it.
        columns: (0..n).map(|i| raw.header_column(i as FieldId)).collect(),
        invalid: vec![false; n],
    };
    let mut findings = Vec::new();
    let mut problems: Vec<(usize, values::Problem, String)> = Vec::new();
    for rf in &raw.fields {
        let i = rf.field as usize;
        let field = &entity.fields[i];
        if rf.column.is_some() {
            rec.columns[i] = rf.column;
        }
        let parsed = match date_order_of(raw, field, &rf.value, opts) {
            Ok(None) => values::parse(field.kind, &rf.value, &opts.values),
            Ok(Some(order)) => {
                let ctx = ValueContext {
                    date_order: order,
                    ..opts.values.clone()
                };
                values::parse(field.kind, &rf.value, &ctx)
            }
            Err(p) => Err(p),
        };
        match parsed {
            Ok(v) => rec.values[i] = Some(v),
            Err(p) => {
                rec.invalid[i] = true;
                let shown = if field.is_secret() {
                    match field.kind {
                        Kind::Password => PASSWORD_MASK.to_string(),
                        _ => mask_number(&rf.value.display()),
                    }
                } else if let (Kind::Money(_), Some(d)) =
                    (field.kind, values::decimal_of(&rf.value))
                {
                    // An amount reads the same from a text cell ("-25.00") and a number cell (-25).
                    values::money_text(d)
                } else {
                    rf.value.display()
                };
                problems.push((i, p, shown));
            }
        }
    }
    // Defaults, then entity-specific derivations.
    for (i, f) in entity.fields.iter().enumerate() {
        if rec.values[i].is_none() && !rec.invalid[i] {
            if let Some(d) = f.default {
                rec.values[i] = values::parse(
                    f.kind,
                    &ferry_sources::RawValue::Text(d.to_string()),
                    &opts.values,
                )
                .ok();
            }
        }
    }
    if entity.is(Known::Contact)
        && rec.get("ContactName").is_none()
        && !rec.field_invalid("ContactName")
    {
        let first = rec.text("ContactFirstName").unwrap_or("").to_string();
        let last = rec.text("ContactLastName").unwrap_or("").to_string();
        let name = format!("{first} {last}").trim().to_string();
        if !name.is_empty() {
            match values::parse(
                Kind::Name,
                &ferry_sources::RawValue::Text(name),
                &opts.values,
            ) {
                Ok(v) => rec.set("ContactName", Some(v)),
                Err(p) => problems.push((
                    entity.field("ContactName").expect("field") as usize,
                    p,
                    String::new(),
                )),
            }
        }
    }
    if entity.is(Known::User) && rec.get("Owner").is_none() && !rec.field_invalid("Owner") {
        if let Some(o) = &opts.default_owner {
            rec.set("Owner", Some(Value::Text(o.clone())));
        }
    }
    for (i, f) in entity.fields.iter().enumerate() {
        if let Some(Value::Phone { given, e164: None }) = &rec.values[i] {
            let region = format!("{:?}", opts.values.phone_region);
            findings.push(
                rec.finding(Code::PhoneNotNormalized, Some(f.name), format!("{}: \"{}\" is kept as given; it is not a valid number in region {region}, so it has no E.164 form.", f.name, ferry_findings::clip(given))),
            );
        }
    }
    for (i, p, shown) in problems {
        let field = &entity.fields[i];
        let mut f = rec
            .finding(
                p.code,
                Some(field.name),
                format!("{}: {}", field.name, p.message),
            )
            .hint(p.hint);
        f = f.value(&shown);
        findings.push(f);
    }
    for (i, f) in entity.fields.iter().enumerate() {
        let required = match f.req {
            Req::Required => true,
            Req::Optional => false,
            Req::RequiredUnlessOption(_) => opts.default_owner.is_none(),
        };
        if required && rec.values[i].is_none() && !rec.invalid[i] {
            let msg = match (entity.known(), f.name) {
                (Some(Known::Contact), "ContactName") => {
                    "ContactName is missing and there is no first or last name to make it from."
                        .to_string()
                }
                (Some(Known::User), "Owner") => {
                    "Owner is required (or set the DefaultOwner option).".to_string()
                }
                _ => format!("{} is required.", f.name),
            };
            let loc = raw.location.with_column(rec.columns[i]);
            findings.push(
                Finding::new(Code::Required, loc, msg)
                    .entity(entity.name)
                    .key(rec.key_display())
                    .field(f.name),
            );
        }
    }
    // Contact.ContactName derived by default is itself required when nothing is given.
    if entity.is(Known::Contact)
        && rec.get("ContactName").is_none()
        && !rec.field_invalid("ContactName")
    {
        findings.push(
            Finding::new(
                Code::Required,
                raw.location.with_column(rec.column_of("ContactName")),
                "ContactName is missing and there is no first or last name to make it from.",
            )
            .entity(entity.name)
            .field("ContactName"),
        );
    }
    (rec, findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_sources::{RawField, RawValue};

    fn raw(entity: &str, fields: &[(&str, &str)]) -> RawRecord {
        let e = ferry_catalogue::entity(entity).unwrap();
        RawRecord {
            entity: e.id(),
            location: Location {
                file: "t.xml".into(),
                sheet: None,
                row: 3,
                column: Some(Column::Number(3)),
            },
            fields: fields
                .iter()
                .map(|(f, v)| RawField {
                    field: e.field(f).unwrap(),
                    value: RawValue::Text(v.to_string()),
                    column: Some(Column::Number(3)),
                })
                .collect(),
            broken: false,
            header: None,
        }
    }

    #[test]
    fn contact_name_defaults_to_first_and_last() {
        let (r, f) = parse_record(
            &raw(
                "Contact",
                &[
                    ("User", "u1"),
                    ("ContactFirstName", "Zoë"),
                    ("ContactLastName", "Ng"),
                    ("ContactType", "Billing Contact"),
                ],
            ),
            &RecordOptions::default(),
        );
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(r.text("ContactName"), Some("Zoë Ng"));
        assert_eq!(r.key_display().as_deref(), Some("u1 / Zoë Ng"));
    }

    #[test]
    fn all_problems_are_collected() {
        let (_, f) = parse_record(
            &raw(
                "User",
                &[
                    ("Name", "u1"),
                    ("BillDay", "30"),
                    ("CreatedDate", "2/30/2007"),
                ],
            ),
            &RecordOptions::default(),
        );
        let codes: Vec<_> = f.iter().map(|f| f.code).collect();
        assert!(codes.contains(&Code::OutOfRange));
        assert!(codes.contains(&Code::DateInvalid));
        assert_eq!(
            codes.iter().filter(|c| **c == Code::Required).count(),
            2,
            "{codes:?}"
        ); // Owner, Role
    }

    #[test]
    fn default_owner_applies() {
        let opts = RecordOptions {
            default_owner: Some("admin".into()),
            ..Default::default()
        };
        let (r, f) = parse_record(&raw("User", &[("Name", "u1"), ("Role", "Customer")]), &opts);
        assert!(f.is_empty());
        assert_eq!(r.text("Owner"), Some("admin"));
    }

    #[test]
    fn secrets_are_masked_in_findings() {
        let e = ferry_catalogue::entity("UserPaymentMethodCreditCard").unwrap();
        let mut r = raw(
            "UserPaymentMethodCreditCard",
            &[("Ref", "r1"), ("ExpiryMonth", "13"), ("ExpiryYear", "2030")],
        );
        r.fields.push(RawField {
            field: e.field("CardNumber").unwrap(),
            value: RawValue::Text("4111x1111 1111 1111".into()),
            column: None,
        });
        let (_, f) = parse_record(&r, &RecordOptions::default());
        let text = format!("{f:?}");
        assert!(!text.contains("4111x1111"), "{text}");
        assert!(text.contains("************1111"));
    }

    #[test]
    fn identical_records_hash_equal() {
        let a = parse_record(
            &raw("Role", &[("Name", "Member")]),
            &RecordOptions::default(),
        )
        .0;
        let b = parse_record(
            &raw("Role", &[("Name", " Member ")]),
            &RecordOptions::default(),
        )
        .0;
        let c = parse_record(
            &raw("Role", &[("Name", "member")]),
            &RecordOptions::default(),
        )
        .0;
        assert_eq!(a.content_hash(), b.content_hash());
        assert_ne!(a.content_hash(), c.content_hash());
    }
}
