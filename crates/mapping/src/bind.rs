//! Binds a source to one header row, once: entity types, fields and columns are looked up by
//! name here, so applying the source to each row ([`Bound::apply`]) only reads cells.

use crate::check::map_key;
use crate::each;
use crate::model::{ColumnFormat, FieldDef, Filter, Record as RecordDef, Source};
use crate::template::{self, Piece};
use ferry_catalogue::{Entity, Kind};

/// A source bound to the headers of one input: what [`Bound::apply`] reads in each row.
#[derive(Debug, Clone)]
pub struct Bound {
    /// The source's label, for messages.
    pub(crate) label: String,
    pub(crate) columns: Vec<Column>,
    pub(crate) keep: Vec<BoundFilter>,
    pub(crate) skip: Vec<BoundFilter>,
    pub(crate) records: Vec<BoundRecord>,
}

/// An index into [`Bound::columns`].
pub(crate) type ColId = usize;

/// A column the source reads, as the mapping names it, and where it is in the row.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub name: String,
    /// Its position among the headers; `None` when the input lacks it.
    pub index: Option<usize>,
    /// Trimmed values read as empty (besides the empty value).
    pub missing: Vec<String>,
    pub format: Option<ColumnFormat>,
}

#[derive(Debug, Clone)]
pub(crate) struct BoundFilter {
    pub column: ColId,
    pub test: Test,
    /// `Status = "Completed"`, for [`Bound::dropped_by`].
    pub text: String,
}

/// What a filter asks of its column's trimmed, case-folded value.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Equals(String),
    OneOf(Vec<String>),
    Empty(bool),
    /// A filter that says nothing (an unchecked mapping) never holds.
    Never,
}

#[derive(Debug, Clone)]
pub(crate) enum BoundRecord {
    Ready(Ready),
    /// A record an unchecked mapping gets wrong (unknown entity type or field): these
    /// problems, every row.
    Broken(Vec<String>),
}

#[derive(Debug, Clone)]
pub(crate) struct Ready {
    pub entity: &'static Entity,
    /// In catalogue order.
    pub fields: Vec<BoundField>,
    /// The columns of the record's own content: when all are empty, there is no record.
    pub content: Vec<ColId>,
}

#[derive(Debug, Clone)]
pub(crate) struct BoundField {
    pub field: &'static str,
    pub kind: Kind,
    pub from: Origin,
    pub map: Option<ValueMap>,
    pub default: Option<String>,
}

/// Where a field's value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    Column(ColId),
    Value(String),
    Split(SplitAt),
    Template(Vec<Part>),
    /// The source's `account` column, for a record that leaves its account field unset.
    Account(ColId),
    /// A template that does not parse (an unchecked mapping): the template and why.
    BadTemplate(String, String),
    Nothing,
}

/// The 1-based `part` of a column cut at each separator, into at most `max` parts.
#[derive(Debug, Clone)]
pub(crate) struct SplitAt {
    pub column: ColId,
    pub separator: String,
    pub part: usize,
    pub max: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) enum Part {
    Text(String),
    Column(ColId),
}

/// A value map with its keys as they match (trimmed, case-folded).
#[derive(Debug, Clone)]
pub(crate) struct ValueMap {
    pub entries: Vec<(String, String)>,
    /// The keys as written, for messages.
    pub keys: String,
}

impl Source {
    /// This source bound to an input's header row: apply the result to each data row.
    pub fn bind<S: AsRef<str>>(&self, headers: &[S]) -> Bound {
        let mut b = Binder {
            source: self,
            headers,
            columns: Vec::new(),
        };
        let account = self.account.as_ref().map(|a| b.column(a.get_ref()));
        let keep = self.keep.iter().map(|f| b.filter(f.get_ref())).collect();
        let skip = self.skip.iter().map(|f| b.filter(f.get_ref())).collect();
        let records = self
            .records
            .iter()
            .flat_map(|r| b.records(r, account))
            .collect();
        Bound {
            label: self.label(),
            columns: b.columns,
            keep,
            skip,
            records,
        }
    }
}

struct Binder<'a, S> {
    source: &'a Source,
    headers: &'a [S],
    columns: Vec<Column>,
}

impl<S: AsRef<str>> Binder<'_, S> {
    /// The id of a column by the mapping's name for it, found among the headers once.
    fn column(&mut self, name: &str) -> ColId {
        if let Some(i) = self.columns.iter().position(|c| c.name == name) {
            return i;
        }
        let names = || self.headers.iter().map(|h| h.as_ref());
        let index = names().position(|h| h == name).or_else(|| {
            ferry_catalogue::same_name(name, names()).and_then(|h| names().position(|n| n == h))
        });
        let format = self.source.columns.get(name).map(|f| f.get_ref().clone());
        let missing = format
            .as_ref()
            .and_then(|f| f.missing_values.as_ref())
            .or(self.source.missing_values.as_ref())
            .map(|list| list.iter().map(|m| m.trim().to_string()).collect())
            .unwrap_or_default();
        self.columns.push(Column {
            name: name.to_string(),
            index,
            missing,
            format,
        });
        self.columns.len() - 1
    }

    fn filter(&mut self, f: &Filter) -> BoundFilter {
        let test = if let Some(e) = &f.equals {
            Test::Equals(map_key(e))
        } else if let Some(set) = &f.one_of {
            Test::OneOf(set.iter().map(|s| map_key(s)).collect())
        } else {
            f.empty.map_or(Test::Never, Test::Empty)
        };
        BoundFilter {
            column: self.column(&f.column),
            test,
            text: describe(f),
        }
    }

    /// A record definition bound once per group of its `each` (once without one).
    fn records(&mut self, r: &RecordDef, account: Option<ColId>) -> Vec<BoundRecord> {
        let name = r.entity.get_ref();
        let Some(entity) = ferry_catalogue::entity(name) else {
            return vec![BoundRecord::Broken(vec![format!(
                "{name} is not an entity type"
            )])];
        };
        each::expand(r)
            .into_iter()
            .map(|defs| self.record(entity, &defs, account))
            .collect()
    }

    fn record(
        &mut self,
        entity: &'static Entity,
        defs: &std::collections::BTreeMap<&str, FieldDef>,
        account: Option<ColId>,
    ) -> BoundRecord {
        let unknown: Vec<String> = defs
            .keys()
            .filter(|k| entity.field_def(k).is_none())
            .map(|k| format!("{k} is not a field of {}", entity.name))
            .collect();
        if !unknown.is_empty() {
            return BoundRecord::Broken(unknown);
        }
        let mut fields = Vec::new();
        let mut content = Vec::new();
        let mut linking = Vec::new();
        for f in entity.fields {
            let bound = match (defs.get(f.name), account) {
                (Some(d), _) => self.field(f.name, f.kind, d),
                (None, Some(a)) if entity.account_field == Some(f.name) => BoundField {
                    field: f.name,
                    kind: f.kind,
                    from: Origin::Account(a),
                    map: None,
                    default: None,
                },
                (None, _) => continue,
            };
            // The account column counts like the field it fills (User.Name, not Contact.User).
            if !is_reference(entity, f.name) {
                content.extend(columns_of(&bound.from));
            } else if entity.account_field != Some(f.name) {
                linking.extend(columns_of(&bound.from));
            }
            fields.push(bound);
        }
        // A record made only of references (a ChildAccount: its account and its Parent) is
        // there when its other references are: an empty parent column means no child record.
        if content.is_empty() {
            content = linking;
        }
        BoundRecord::Ready(Ready {
            entity,
            fields,
            content,
        })
    }

    fn field(&mut self, field: &'static str, kind: Kind, d: &FieldDef) -> BoundField {
        let from = if let Some(c) = &d.column {
            Origin::Column(self.column(c))
        } else if let Some(v) = &d.value {
            Origin::Value(v.clone())
        } else if let Some(s) = &d.split {
            Origin::Split(SplitAt {
                column: self.column(&s.column),
                separator: s.separator.clone(),
                part: s.part,
                max: s.max,
            })
        } else if let Some(t) = &d.template {
            self.template(t)
        } else {
            Origin::Nothing
        };
        let map = d.map.as_ref().map(|m| ValueMap {
            entries: m.iter().map(|(k, v)| (map_key(k), v.clone())).collect(),
            keys: m.keys().cloned().collect::<Vec<_>>().join(", "),
        });
        BoundField {
            field,
            kind,
            from,
            map,
            default: d.default.clone(),
        }
    }

    fn template(&mut self, t: &str) -> Origin {
        match template::parse(t) {
            Ok(pieces) => Origin::Template(
                pieces
                    .into_iter()
                    .map(|p| match p {
                        Piece::Text(s) => Part::Text(s),
                        Piece::Column(c) => Part::Column(self.column(&c)),
                    })
                    .collect(),
            ),
            Err(m) => Origin::BadTemplate(t.to_string(), m.to_string()),
        }
    }
}

/// Whether a field names a record of another entity type (a contact point's `User` and
/// `ContactName`, a lookup such as `ContactType`): its columns are not the record's own.
fn is_reference(entity: &Entity, field: &str) -> bool {
    entity
        .refs
        .iter()
        .any(|r| r.target != entity.name && r.from.contains(&field))
}

fn columns_of(from: &Origin) -> Vec<ColId> {
    match from {
        Origin::Column(c) | Origin::Account(c) | Origin::Split(SplitAt { column: c, .. }) => {
            vec![*c]
        }
        Origin::Template(parts) => parts
            .iter()
            .filter_map(|p| match p {
                Part::Column(c) => Some(*c),
                Part::Text(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn describe(f: &Filter) -> String {
    if let Some(e) = &f.equals {
        format!("{} = \"{e}\"", f.column)
    } else if let Some(set) = &f.one_of {
        format!("{} in [{}]", f.column, set.join(", "))
    } else {
        format!(
            "{} is {}empty",
            f.column,
            if f.empty == Some(false) { "not " } else { "" }
        )
    }
}

impl Bound {
    /// The columns the source reads that the headers lack, sorted (report once per input).
    pub fn missing_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .columns
            .iter()
            .filter(|c| c.index.is_none())
            .map(|c| c.name.clone())
            .collect();
        out.sort();
        out
    }

    /// Every column the source reads (fields of every group, the account, filters), sorted.
    pub fn read_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = self.columns.iter().map(|c| c.name.clone()).collect();
        out.sort();
        out
    }
}
