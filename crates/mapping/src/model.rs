//! The mapping file as serde structs: sources, their records and fields, column formats and
//! row filters (version 1).

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A whole mapping file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The format version; only `1` exists.
    pub version: Spanned<i64>,
    /// The sources this mapping reads, tried in order; the first that matches is used.
    #[serde(rename = "source", default)]
    pub sources: Vec<Source>,
}

/// The rows of one file, sheet or XML element type and the records they become.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A name for messages (defaults to the match pattern).
    #[serde(default)]
    pub name: Option<String>,
    /// Which input this source reads.
    #[serde(rename = "match")]
    pub matches: Spanned<Match>,
    /// The column that names the account of every record (a legacy id or the e-mail): fills
    /// each record's account field (`User.Name`, `Contact.User`, …) unless the record sets it.
    #[serde(default)]
    pub account: Option<Spanned<String>>,
    /// Values read as empty in every column (Frictionless `missingValues`); default `[""]`.
    #[serde(rename = "missingValues", default)]
    pub missing_values: Option<Vec<String>>,
    /// Per-column value formats, by column name.
    #[serde(default)]
    pub columns: BTreeMap<String, Spanned<ColumnFormat>>,
    /// A row is read only when every `keep` rule holds.
    #[serde(default)]
    pub keep: Vec<Spanned<Filter>>,
    /// A row is skipped when any `skip` rule holds.
    #[serde(default)]
    pub skip: Vec<Spanned<Filter>>,
    /// The records one row gives.
    #[serde(rename = "record", default)]
    pub records: Vec<Record>,
}

/// Which input a source reads: a file name, a sheet name or an XML element name. Each is a
/// glob (`*`, `?`) matched without regard to case; a name without wildcards is exact.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub sheet: Option<String>,
    #[serde(default)]
    pub element: Option<String>,
}

/// A row filter: the column equals a value, is one of a set, or is empty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub column: String,
    #[serde(default)]
    pub equals: Option<String>,
    #[serde(rename = "in", default)]
    pub one_of: Option<Vec<String>>,
    #[serde(default)]
    pub empty: Option<bool>,
}

/// One record a row gives: an entity type and its fields; with `each`, one per group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub entity: Spanned<String>,
    /// Repeated column groups: the record is read once per group, with each `{name}` of the
    /// group replaced in its fields' columns, constants, templates and defaults.
    #[serde(default)]
    pub each: Option<Spanned<Vec<Spanned<Group>>>>,
    #[serde(default)]
    pub fields: BTreeMap<Spanned<String>, Spanned<FieldSpec>>,
}

/// One group of `each`: variable name → its text in this group (`{ n = 2 }`,
/// `{ column = "Newsletter", name = "newsletter_optin" }`).
pub type Group = BTreeMap<String, Word>;

/// A group's value: a string, or an integer written as its digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word(pub String);

impl<'de> Deserialize<'de> for Word {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Word;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Word, E> {
                Ok(Word(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Word, E> {
                Ok(Word(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Where a field's value comes from. Written as a bare string it is a column name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// The column the value is read from.
    #[serde(default)]
    pub column: Option<String>,
    /// A constant.
    #[serde(default)]
    pub value: Option<String>,
    /// Columns joined by a template: `"{first_name} {last_name}"` (`{{` and `}}` are braces).
    #[serde(default)]
    pub template: Option<String>,
    /// Part of a column split by a separator.
    #[serde(default)]
    pub split: Option<Split>,
    /// Source value → Ferry value (matched trimmed and without regard to case). A value the
    /// map does not know is a problem, never passed through.
    #[serde(default)]
    pub map: Option<BTreeMap<String, String>>,
    /// The value used when the source gives none.
    #[serde(default)]
    pub default: Option<String>,
}

/// `split = { column = "name", separator = " ", part = 2, max = 2 }`: the 1-based `part` of
/// the column cut at each separator, into at most `max` parts (the last keeps the rest).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    pub column: String,
    #[serde(default = "space")]
    pub separator: String,
    pub part: usize,
    #[serde(default)]
    pub max: Option<usize>,
}

fn space() -> String {
    " ".into()
}

/// How the values of one column read, with Frictionless Table Schema names where they fit.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ColumnFormat {
    /// A date pattern (chrono strftime: `%d.%m.%Y`, `%Y-%b-%d`), or `iso` for ISO 8601 with a
    /// `T`, fractional seconds and `Z` or an offset.
    #[serde(default)]
    pub format: Option<String>,
    /// For `%y`: two-digit years below the pivot are 20yy, the others 19yy. Required with `%y`.
    #[serde(default)]
    pub two_digit_year_pivot: Option<u32>,
    #[serde(default)]
    pub decimal_char: Option<String>,
    #[serde(default)]
    pub group_char: Option<String>,
    /// `false`: leading and trailing non-numeric characters (currency symbols, codes) are
    /// stripped. Default `true`.
    #[serde(default)]
    pub bare_number: Option<bool>,
    #[serde(default)]
    pub true_values: Option<Vec<String>>,
    #[serde(default)]
    pub false_values: Option<Vec<String>>,
    #[serde(default)]
    pub missing_values: Option<Vec<String>>,
}

/// A field as written: a bare string is a column name, a table is a [`FieldDef`].
#[derive(Debug, Clone, Default)]
pub struct FieldSpec(pub FieldDef);

impl std::ops::Deref for FieldSpec {
    type Target = FieldDef;
    fn deref(&self) -> &FieldDef {
        &self.0
    }
}

impl<'de> Deserialize<'de> for FieldSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a column name or a table such as { value = \"Member\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldSpec, E> {
                Ok(FieldSpec(FieldDef {
                    column: Some(v.to_string()),
                    ..FieldDef::default()
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldSpec, A::Error> {
                FieldDef::deserialize(de::value::MapAccessDeserializer::new(map)).map(FieldSpec)
            }
        }
        d.deserialize_any(V)
    }
}
