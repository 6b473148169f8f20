//! Column-by-column changes to a mapping's text, for the console's editor: a column moved to
//! another field or left out, constants, value maps, value formats, the account column and
//! sources added from a suggestion. The changes are made on the TOML document itself
//! (toml_edit), so comments and whatever a change does not touch stay as written; the result
//! is checked by `Mapping::load` like any other text.

use ferry_catalogue as cat;
use std::collections::BTreeSet;
use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, TableLike, Value};

/// Why a text cannot be changed column by column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the mapping is not valid TOML: {0}")]
    Syntax(String),
    /// Valid TOML in a form the editor does not change (sources or records written inline).
    #[error("{0}")]
    Shape(String),
}

/// How a column's values read, as the editor shows them (the other keys of a
/// `[source.columns.X]` table are left as they are).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueFormat {
    /// A date pattern (`%d/%m/%Y`) or `iso`.
    pub format: Option<String>,
    /// With `%y`: two-digit years below it are 20yy, the others 19yy.
    pub two_digit_year_pivot: Option<u32>,
    pub decimal_char: Option<String>,
    pub group_char: Option<String>,
    /// Currency symbols and codes around a number are stripped (`bareNumber = false`).
    pub strip_symbols: bool,
}

impl ValueFormat {
    /// What a column format of the model says, in the editor's terms.
    pub fn of(f: &crate::ColumnFormat) -> ValueFormat {
        ValueFormat {
            format: f.format.clone(),
            two_digit_year_pivot: f.two_digit_year_pivot,
            decimal_char: f.decimal_char.clone(),
            group_char: f.group_char.clone(),
            strip_symbols: f.bare_number == Some(false),
        }
    }
}

/// A mapping's text being changed.
pub struct Editor {
    doc: DocumentMut,
    /// Records that lost a field: dropped at the end when nothing of their own is left.
    touched: BTreeSet<(usize, usize)>,
    /// What a change did that the person should know, or why it was not made.
    pub notes: Vec<String>,
}

fn shape(m: &str) -> EditError {
    EditError::Shape(format!(
        "{m}: change this mapping in the text view (the column view changes [[source]] and [[source.record]] tables)"
    ))
}

impl Editor {
    /// Opens a mapping's text (an empty text is a mapping with no source yet).
    pub fn new(text: &str) -> Result<Editor, EditError> {
        let doc: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| EditError::Syntax(e.message().trim().to_string()))?;
        match doc.get("source") {
            None | Some(Item::ArrayOfTables(_)) => {}
            Some(_) => return Err(shape("the sources are written inline")),
        }
        if let Some(sources) = doc.get("source").and_then(Item::as_array_of_tables) {
            for s in sources.iter() {
                match s.get("record") {
                    None | Some(Item::ArrayOfTables(_)) => {}
                    Some(_) => return Err(shape("the records of a source are written inline")),
                }
                let fields_ok = s
                    .get("record")
                    .and_then(Item::as_array_of_tables)
                    .is_none_or(|rs| {
                        rs.iter()
                            .all(|r| r.get("fields").is_none_or(|f| f.is_table_like()))
                    });
                if !fields_ok {
                    return Err(shape("the fields of a record are not a table"));
                }
            }
        }
        Ok(Editor {
            doc,
            touched: BTreeSet::new(),
            notes: Vec::new(),
        })
    }

    fn source(&mut self, s: usize) -> Option<&mut Table> {
        self.doc
            .get_mut("source")?
            .as_array_of_tables_mut()?
            .get_mut(s)
    }

    fn record(&mut self, s: usize, r: usize) -> Option<&mut Table> {
        self.source(s)?
            .get_mut("record")?
            .as_array_of_tables_mut()?
            .get_mut(r)
    }

    /// Takes field `field` out of record `r` of source `s` (to leave its column out, or to
    /// move it); the record is dropped at the end when nothing of its own is left.
    pub fn take_field(&mut self, s: usize, r: usize, field: &str) -> Option<Item> {
        let item = fields_mut(self.record(s, r)?).remove(field)?;
        self.touched.insert((s, r));
        Some(item)
    }

    /// Puts a column (`column`: a bare column name or a spec taken by [`Editor::take_field`])
    /// on `entity.field` in source `s`: on the first record of that type that lacks the field,
    /// else over a constant or template of it, else on a new record of that type that shares
    /// the first one's references, constants and templates (a second phone of the contact).
    pub fn place_column(&mut self, s: usize, entity: &str, field: &str, spec: Item) {
        let column = column_of(&spec).unwrap_or_default();
        if self.fill(s, entity, field, &spec) || self.replace_derived(s, entity, field, &spec) {
            return;
        }
        let Some(records) = self.records_mut(s) else {
            return;
        };
        let first = (0..records.len()).find(|&i| entity_of(records.get(i)) == Some(entity));
        let mut fields = Table::new();
        fields.set_dotted(true);
        if let Some(first) = first.and_then(|i| records.get(i)) {
            for (k, v) in shared_fields(entity, first) {
                fields.insert(&k, v);
            }
        }
        fields.insert(field, spec);
        let mut t = Table::new();
        t.insert("entity", toml_edit::value(entity));
        t.insert("fields", Item::Table(fields));
        records.push(t);
        if first.is_some() {
            self.notes.push(format!(
                "{column}: another {entity} record is made of each row (the first one's {field} comes from another column)"
            ));
        }
    }

    /// Adds the constant `entity.field = value` in source `s`: on the first record of that
    /// type that lacks the field (or has it as a constant or template), else on a new record.
    pub fn add_constant(&mut self, s: usize, entity: &str, field: &str, value: &str) {
        let spec = constant(value);
        if self.fill(s, entity, field, &spec) || self.replace_derived(s, entity, field, &spec) {
            return;
        }
        let has_type = self
            .records_mut(s)
            .is_some_and(|rs| (0..rs.len()).any(|i| entity_of(rs.get(i)) == Some(entity)));
        if has_type {
            self.notes.push(format!(
                "{entity}.{field} already comes from a column; leave that column out first to give it a constant"
            ));
            return;
        }
        if let Some(records) = self.records_mut(s) {
            let mut fields = Table::new();
            fields.set_dotted(true);
            fields.insert(field, spec);
            let mut t = Table::new();
            t.insert("entity", toml_edit::value(entity));
            t.insert("fields", Item::Table(fields));
            records.push(t);
        }
    }

    /// The records of source `s`, made when it has none.
    fn records_mut(&mut self, s: usize) -> Option<&mut ArrayOfTables> {
        let source = self.source(s)?;
        if !source.contains_key("record") {
            source.insert("record", Item::ArrayOfTables(ArrayOfTables::new()));
        }
        source.get_mut("record")?.as_array_of_tables_mut()
    }

    /// Sets the field on the first record of the type that lacks it.
    fn fill(&mut self, s: usize, entity: &str, field: &str, spec: &Item) -> bool {
        let Some(records) = self.records_mut(s) else {
            return false;
        };
        for r in records.iter_mut() {
            if entity_of(Some(r)) == Some(entity) && !fields_mut(r).contains_key(field) {
                fields_mut(r).insert(field, spec.clone());
                return true;
            }
        }
        false
    }

    /// Sets the field over a constant or template of it on a record of the type.
    fn replace_derived(&mut self, s: usize, entity: &str, field: &str, spec: &Item) -> bool {
        let Some(records) = self.records_mut(s) else {
            return false;
        };
        let mut replaced = None;
        for r in records.iter_mut() {
            if entity_of(Some(r)) != Some(entity) {
                continue;
            }
            let f = fields_mut(r);
            let Some(old) = f.get(field).filter(|i| is_derived(i)).map(describe) else {
                continue;
            };
            f.insert(field, spec.clone());
            replaced = Some(old);
            break;
        }
        let Some(old) = replaced else {
            return false;
        };
        let by = describe(spec);
        self.notes
            .push(format!("{entity}.{field} was {old}; it is {by} now"));
        true
    }

    /// Sets (or, with an empty list, removes) the value map of field `field` of record `r`.
    pub fn set_map(&mut self, s: usize, r: usize, field: &str, map: &[(String, String)]) {
        let Some(f) = self.record(s, r).map(fields_mut) else {
            return;
        };
        let Some(item) = f.get_mut(field) else {
            return;
        };
        let mut t = as_inline(item);
        if map.is_empty() {
            t.remove("map");
        } else {
            let mut m = InlineTable::new();
            for (k, v) in map {
                m.insert(k.as_str(), Value::from(v.as_str()));
            }
            t.insert("map", Value::InlineTable(m));
        }
        *item = simplified(t);
    }

    /// Sets the constant of field `field` of record `r` (`None` removes the field).
    pub fn set_constant(&mut self, s: usize, r: usize, field: &str, value: Option<&str>) {
        match value {
            None => {
                self.take_field(s, r, field);
            }
            Some(v) => {
                if let Some(item) = self.record(s, r).and_then(|t| fields_mut(t).get_mut(field)) {
                    let mut t = as_inline(item);
                    t.insert("value", Value::from(v));
                    *item = Item::Value(Value::InlineTable(t));
                }
            }
        }
    }

    /// Sets how column `column` of source `s` reads (`headers` finds an entry written under
    /// another spelling of the name); an empty format removes its entry.
    pub fn set_format(&mut self, s: usize, column: &str, f: &ValueFormat) {
        let Some(source) = self.source(s) else {
            return;
        };
        let position = source.position();
        if !source.contains_key("columns") {
            let mut t = Table::new();
            t.set_implicit(true);
            source.insert("columns", Item::Table(t));
        }
        let Some(columns) = source.get_mut("columns").and_then(Item::as_table_like_mut) else {
            return;
        };
        let keys: Vec<String> = columns.iter().map(|(k, _)| k.to_string()).collect();
        let key = keys
            .iter()
            .find(|k| *k == column)
            .or_else(|| {
                cat::same_name(column, keys.iter().map(String::as_str))
                    .and_then(|hit| keys.iter().find(|k| *k == hit))
            })
            .cloned()
            .unwrap_or_else(|| column.to_string());
        if !columns.contains_key(&key) {
            let mut t = Table::new();
            t.set_position(position);
            columns.insert(&key, Item::Table(t));
        }
        let Some(entry) = columns.get_mut(&key).and_then(Item::as_table_like_mut) else {
            return;
        };
        let wanted = [
            ("format", f.format.as_deref().map(Value::from)),
            (
                "twoDigitYearPivot",
                f.two_digit_year_pivot.map(|p| Value::from(i64::from(p))),
            ),
            ("decimalChar", f.decimal_char.as_deref().map(Value::from)),
            ("groupChar", f.group_char.as_deref().map(Value::from)),
            ("bareNumber", f.strip_symbols.then(|| Value::from(false))),
        ];
        for (k, v) in wanted {
            match v {
                Some(v) => {
                    entry.insert(k, Item::Value(v));
                }
                None => {
                    entry.remove(k);
                }
            }
        }
        if entry.is_empty() {
            columns.remove(&key);
        }
        if columns.is_empty() {
            source.remove("columns");
        }
    }

    /// Sets (or removes) the column that names every record's account.
    pub fn set_account(&mut self, s: usize, column: Option<&str>) {
        if let Some(source) = self.source(s) {
            match column {
                Some(c) => source.insert("account", toml_edit::value(c)),
                None => source.remove("account"),
            };
        }
    }

    /// Appends the sources of another mapping's text (a suggestion for a file not mapped yet).
    pub fn append_sources(&mut self, text: &str) -> Result<(), EditError> {
        let other = Editor::new(text)?;
        let Some(Item::ArrayOfTables(new)) = other.doc.get("source").cloned() else {
            return Ok(());
        };
        if !self.doc.contains_key("version") {
            self.doc.insert("version", toml_edit::value(1));
        }
        if !self.doc.contains_key("source") {
            self.doc
                .insert("source", Item::ArrayOfTables(ArrayOfTables::new()));
        }
        if let Some(sources) = self
            .doc
            .get_mut("source")
            .and_then(Item::as_array_of_tables_mut)
        {
            for mut t in new.into_iter() {
                // Their places in the other text mean nothing here: after what is there.
                forget_positions(&mut t);
                sources.push(t);
            }
        }
        Ok(())
    }

    /// The text, without the records that lost their last own field.
    pub fn finish(mut self) -> String {
        let touched = std::mem::take(&mut self.touched);
        for (s, r) in touched.into_iter().rev() {
            let empty = self.record(s, r).is_some_and(|t| !has_own_field(t));
            if empty {
                if let Some(records) = self
                    .source(s)
                    .and_then(|t| t.get_mut("record"))
                    .and_then(Item::as_array_of_tables_mut)
                {
                    records.remove(r);
                }
            }
        }
        self.doc.to_string()
    }
}

/// The fields table of a record, made (as dotted keys) when it has none.
fn fields_mut(record: &mut Table) -> &mut dyn TableLike {
    if !record.contains_key("fields") {
        let mut t = Table::new();
        t.set_dotted(true);
        record.insert("fields", Item::Table(t));
    }
    record
        .get_mut("fields")
        .and_then(Item::as_table_like_mut)
        .expect("a record's fields are a table (checked when the editor opened)")
}

fn fields_of(record: &Table) -> Option<&dyn TableLike> {
    record.get("fields").and_then(Item::as_table_like)
}

/// The entity type of a record the column view places fields on (not a record repeated for
/// column groups: a field put there would be read once per group).
fn entity_of(record: Option<&Table>) -> Option<&str> {
    let r = record?;
    if r.contains_key("each") {
        return None;
    }
    r.get("entity")?.as_str()
}

/// A field's spec as an inline table (`"col"` becomes `{ column = "col" }`).
fn as_inline(item: &Item) -> InlineTable {
    match item {
        Item::Value(Value::String(s)) => {
            let mut t = InlineTable::new();
            t.insert("column", Value::from(s.value().as_str()));
            t
        }
        Item::Value(Value::InlineTable(t)) => t.clone(),
        Item::Table(t) => t.clone().into_inline_table(),
        _ => InlineTable::new(),
    }
}

/// `{ column = "col" }` written back as `"col"`.
fn simplified(t: InlineTable) -> Item {
    if t.len() == 1 {
        if let Some(c) = t.get("column").and_then(Value::as_str) {
            return toml_edit::value(c);
        }
    }
    Item::Value(Value::InlineTable(t))
}

fn constant(v: &str) -> Item {
    let mut t = InlineTable::new();
    t.insert("value", Value::from(v));
    Item::Value(Value::InlineTable(t))
}

/// A spec's key (`column`, `value`, `template`, `split`) and its value, as written.
fn spec_get<'a>(item: &'a Item, key: &str) -> Option<&'a Item> {
    item.as_table_like()?.get(key)
}

fn column_of(item: &Item) -> Option<String> {
    item.as_str()
        .or_else(|| spec_get(item, "column")?.as_str())
        .map(str::to_string)
}

/// A constant or a template: what a column put on the same field replaces.
fn is_derived(item: &Item) -> bool {
    spec_get(item, "value").is_some() || spec_get(item, "template").is_some()
}

fn describe(item: &Item) -> String {
    if let Some(c) = column_of(item) {
        format!("column {c}")
    } else if let Some(v) = spec_get(item, "value").and_then(Item::as_str) {
        format!("the constant \"{v}\"")
    } else if let Some(t) = spec_get(item, "template").and_then(Item::as_str) {
        format!("the template \"{t}\"")
    } else {
        "set otherwise".into()
    }
}

/// Whether field `field` of `entity` names another record the row gives (a contact point's
/// `User` and `ContactName`; not a setup code such as `Role`): a record of the same type made
/// of the same row shares it, and it is nothing of the record's own.
fn names_another_record(entity: &str, field: &str) -> bool {
    cat::entity(entity).is_some_and(|e| {
        e.refs.iter().any(|x| {
            x.target != e.name
                && x.from.contains(&field)
                && cat::entity(x.target).is_some_and(|t| t.group != cat::Group::Setup)
        })
    })
}

/// The fields a second record of a type copies from the first: references to other records,
/// constants and templates, without their comments.
fn shared_fields(entity: &str, record: &Table) -> Vec<(String, Item)> {
    let Some(fields) = fields_of(record) else {
        return Vec::new();
    };
    fields
        .iter()
        .filter(|(k, v)| names_another_record(entity, k) || is_derived(v))
        .map(|(k, v)| {
            let mut v = v.clone();
            if let Some(v) = v.as_value_mut() {
                v.decor_mut().clear();
            }
            (k.to_string(), v)
        })
        .collect()
}

/// Whether a record still reads something of its own from the row (a column, split or
/// template on a field that does not name another record).
fn has_own_field(record: &Table) -> bool {
    let entity = entity_of(Some(record)).unwrap_or_default().to_string();
    fields_of(record).is_some_and(|f| {
        f.iter().any(|(k, v)| {
            !names_another_record(&entity, k)
                && (column_of(v).is_some()
                    || spec_get(v, "split").is_some()
                    || spec_get(v, "template").is_some())
        })
    })
}

fn forget_positions(t: &mut Table) {
    t.set_position(None);
    for (_, item) in t.iter_mut() {
        match item {
            Item::Table(t) => forget_positions(t),
            Item::ArrayOfTables(a) => a.iter_mut().for_each(forget_positions),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mapping;

    const MEMBERS: &str = r#"# the member list
version = 1

[[source]]
name = "members"
match = { file = "members.csv" }
account = "email"

[source.columns.joined]
format = "%d/%m/%Y"

[[source.record]]
entity = "User"
fields.Role = { value = "Member" }  # everybody is a member
fields.CreatedDate = "joined"

[[source.record]]
entity = "Contact"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.ContactType = { value = "Billing Contact" }

[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Phone = "phone1"

[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Phone = "phone2"
fields.ContactPointType = { value = "Mobile Phone" }
"#;

    fn loaded(text: &str) -> Mapping {
        Mapping::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn a_column_left_out_drops_a_record_left_with_nothing_of_its_own() {
        let mut e = Editor::new(MEMBERS).unwrap();
        assert!(e.take_field(0, 3, "Phone").is_some());
        let text = e.finish();
        let m = loaded(&text);
        assert_eq!(m.sources[0].records.len(), 3, "{text}");
        assert!(text.contains("# the member list") && text.contains("# everybody is a member"));
        assert!(
            !text.contains("phone2") && !text.contains("Mobile Phone"),
            "{text}"
        );
    }

    #[test]
    fn a_second_column_on_the_same_field_makes_a_second_record_sharing_the_first_ones_references() {
        let mut e = Editor::new(MEMBERS).unwrap();
        e.place_column(0, "ContactPhone", "Phone", toml_edit::value("fax"));
        let text = e.finish();
        let m = loaded(&text);
        let last = m.sources[0].records.last().unwrap();
        assert_eq!(last.entity.get_ref(), "ContactPhone");
        let names: Vec<&str> = last.fields.keys().map(|k| k.get_ref().as_str()).collect();
        assert_eq!(names, ["ContactName", "Phone"], "{text}");
        assert!(text.contains("fields.Phone = \"fax\""), "{text}");
    }

    #[test]
    fn a_column_moves_with_its_value_map_and_replaces_a_constant() {
        let mut e = Editor::new(MEMBERS).unwrap();
        e.set_map(
            0,
            0,
            "CreatedDate",
            &[
                ("Y".into(), "Active".into()),
                ("N o".into(), "Lapsed".into()),
            ],
        );
        let spec = e.take_field(0, 0, "CreatedDate").unwrap();
        e.place_column(0, "User", "Role", spec);
        assert_eq!(e.notes.len(), 1, "{:?}", e.notes);
        let text = e.finish();
        let m = loaded(&text);
        let user = &m.sources[0].records[0];
        let role = user
            .fields
            .iter()
            .find(|(k, _)| k.get_ref() == "Role")
            .unwrap()
            .1;
        assert_eq!(role.get_ref().column.as_deref(), Some("joined"));
        assert_eq!(role.get_ref().map.as_ref().unwrap()["N o"], "Lapsed");
        // The map gone again: a bare column.
        let mut e = Editor::new(&text).unwrap();
        e.set_map(0, 0, "Role", &[]);
        assert!(e.finish().contains("fields.Role = \"joined\""));
    }

    #[test]
    fn constants_are_set_removed_and_added() {
        let mut e = Editor::new(MEMBERS).unwrap();
        e.set_constant(0, 1, "ContactType", Some("Shipping Contact"));
        e.set_constant(0, 3, "ContactPointType", None);
        e.add_constant(0, "User", "StatusType", "Active");
        e.add_constant(0, "User", "CreatedDate", "2020-01-01");
        assert_eq!(e.notes.len(), 1, "a field from a column is not overwritten");
        let text = e.finish();
        let m = loaded(&text);
        assert!(text.contains("Shipping Contact") && !text.contains("Mobile Phone"));
        assert!(m.sources[0].records[0]
            .fields
            .keys()
            .any(|k| k.get_ref() == "StatusType"));
        assert_eq!(m.sources[0].records.len(), 4);
    }

    #[test]
    fn formats_are_added_in_their_source_and_removed_when_empty() {
        let mut e = Editor::new(MEMBERS).unwrap();
        e.set_format(
            0,
            "fee",
            &ValueFormat {
                decimal_char: Some(",".into()),
                group_char: Some(".".into()),
                strip_symbols: true,
                ..Default::default()
            },
        );
        e.set_format(0, "Joined", &ValueFormat::default());
        let text = e.finish();
        let m = loaded(&text);
        let fee = m.sources[0].columns["fee"].get_ref();
        assert_eq!(fee.decimal_char.as_deref(), Some(","));
        assert_eq!(fee.bare_number, Some(false));
        assert!(!m.sources[0].columns.contains_key("joined"), "{text}");
        // Before the records, in its own source.
        assert!(
            text.find("[source.columns.fee]").unwrap() < text.find("[[source.record]]").unwrap(),
            "{text}"
        );
    }

    #[test]
    fn sources_of_a_suggestion_are_appended_after_what_is_there() {
        let mut e = Editor::new(MEMBERS).unwrap();
        e.append_sources(
            "version = 1\n[[source]]\nmatch = { file = \"pay.csv\" }\n[source.columns.Gross]\ndecimalChar = \",\"\n[[source.record]]\nentity = \"Payment\"\nfields.Credit = \"Gross\"\n",
        )
        .unwrap();
        e.set_account(1, Some("Customer"));
        let text = e.finish();
        let m = loaded(&text);
        assert_eq!(m.sources.len(), 2, "{text}");
        assert_eq!(m.sources[1].records[0].entity.get_ref(), "Payment");
        assert!(m.sources[1].columns.contains_key("Gross"));
        assert_eq!(m.sources[0].records.len(), 4);
        // From nothing: the version comes too.
        let mut e = Editor::new("").unwrap();
        e.append_sources(MEMBERS).unwrap();
        assert!(Mapping::load(&e.finish()).is_ok());
    }

    #[test]
    fn inline_sources_are_left_to_the_text_view() {
        assert!(matches!(
            Editor::new("version = 1\nsource = [{ match = { file = \"a.csv\" } }]"),
            Err(EditError::Shape(_))
        ));
        assert!(matches!(
            Editor::new("version = "),
            Err(EditError::Syntax(_))
        ));
    }
}
