//! The entity types and fields of SPEC §4 as data: the one table that drives parsing,
//! validation, ordering, storage, templates, docs and exports.
//!
//! Nothing else in Ferry lists entity types or fields by hand; it asks this crate.

mod known;
mod names;
mod notes;
mod order;
mod schema_doc;
mod table;

pub use known::Known;
pub use names::{nearest, normalized, same_name};
pub use notes::{field_note, ledger_column_note, ledger_columns, OptionDef, OPTION_DEFS};
pub use order::{dependency_order, Phase};
pub use schema_doc::kind_text;
pub use schema_doc::markdown;
pub use table::{ENTITIES, ENTITY_ALIASES, FIELD_ALIASES, IGNORED_FIELDS};

/// Index of an entity type in [`ENTITIES`].
pub type EntityId = u16;
/// Index of a field within its entity's `fields`.
pub type FieldId = u16;

/// The value kind of a field (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text, trimmed; control characters other than tab and LF are an error.
    Text,
    /// A name or key: text of 1–255 characters, matched exactly.
    Name,
    /// Decimal digits with an optional sign, within the bounds.
    Integer { min: Option<i64>, max: Option<i64> },
    /// Exact money with at most 4 fractional digits.
    Money(Sign),
    /// An exact decimal (percentages, quantities) with at most 4 fractional digits.
    Decimal(Sign),
    /// A date with an optional time.
    Date,
    /// true/false, yes/no, 1/0.
    Bool,
    /// One of the listed values, case-insensitive; stored as listed.
    Enum(&'static [&'static str]),
    /// A syntactically valid e-mail address.
    Email,
    /// A phone number: kept as given, plus its E.164 form when it parses.
    Phone,
    /// A three-letter currency code (`USA` is an alias of `USD`).
    CurrencyCode,
    /// ISO 3166 alpha-2 code or English country name.
    Country,
    /// A password: never stored in plain text, never shown.
    Password,
    /// A card or bank number: never stored in full, shown masked.
    SecretNumber,
    /// Base64-encoded bytes.
    Base64,
}

/// The sign constraint of a money or decimal field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    Any,
    NonNegative,
    Positive,
}

/// Whether a field must be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Req {
    Optional,
    Required,
    /// Required unless the named run option is set (`User.Owner` and `DefaultOwner`).
    RequiredUnlessOption(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub req: Req,
    /// Default value applied when the field is not given.
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

impl Field {
    pub fn is_required(&self) -> bool {
        !matches!(self.req, Req::Optional)
    }
    /// A secret is never written to findings, logs or exports in clear.
    pub fn is_secret(&self) -> bool {
        matches!(self.kind, Kind::Password | Kind::SecretNumber)
    }
    /// The column name in the target's table.
    pub fn column(&self) -> String {
        snake_case(self.name)
    }
}

/// A reference from some fields of a record to the key of another entity type.
#[derive(Debug, Clone, Copy)]
pub struct Ref {
    /// Local field names, in the order of the target's `to` fields.
    pub from: &'static [&'static str],
    pub target: &'static str,
    /// The target's fields that `from` must match (usually its key).
    pub to: &'static [&'static str],
}

/// How records of an entity type are identified in the target.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    /// These fields are unique per target.
    Fields(&'static [&'static str]),
    /// No key: a record counts as existing when an identical record is stored.
    Identity,
    /// These fields are unique per target, and the last one is an occurrence: an account may hold
    /// several records with the same values of the others (SPEC §4.4: a family with two identical
    /// phone lines). A record that does not give it is occurrence n when it is the n-th of the run,
    /// in source order, with those values. A re-run of the same file therefore finds each of them
    /// by key (identical: skipped); a run that holds one more lists them all (the ones already
    /// stored are skipped, the new one imported); a line that differs from the stored occurrence
    /// is that occurrence changed (`key.exists`, or updated under `--on-existing update`).
    Occurrence(&'static [&'static str]),
}

/// Another name of an entity type (a vendor's element name).
#[derive(Debug, Clone, Copy)]
pub struct Alias {
    pub alias: &'static str,
    /// The entity type it stands for.
    pub name: &'static str,
}

/// Another spelling of a field of one entity type.
#[derive(Debug, Clone, Copy)]
pub struct FieldAlias {
    pub entity: &'static str,
    pub alias: &'static str,
    /// The field it stands for.
    pub field: &'static str,
}

impl FieldAlias {
    pub const fn new(entity: &'static str, alias: &'static str, field: &'static str) -> Self {
        FieldAlias {
            entity,
            alias,
            field,
        }
    }
}

/// The groups of SPEC §4, in section order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Setup,
    Accounts,
    Ledger,
    Subscriptions,
    Tickets,
    PaymentMethods,
    /// Saved mappings and queries (SPEC §12): configuration, not customer data.
    Configuration,
    /// The legacy certification data of SPEC §11: read only by `ferry certification migrate`.
    Certification,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Setup => "Setup (reference data)",
            Group::Accounts => "Accounts and contacts",
            Group::Ledger => "Ledger",
            Group::Subscriptions => "Subscriptions, attributes, notes",
            Group::Tickets => "Tickets",
            Group::PaymentMethods => "Payment methods",
            Group::Configuration => "Configuration",
            Group::Certification => "Legacy certification (`ferry certification migrate`)",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Entity {
    pub name: &'static str,
    pub group: Group,
    pub fields: &'static [Field],
    pub key: Key,
    pub refs: &'static [Ref],
    /// Entity types that must be processed before this one although no reference says so.
    pub after: &'static [&'static str],
    /// The field naming the account a record belongs to (`--max-records`, cascades).
    pub account_field: Option<&'static str>,
    pub doc: &'static str,
}

impl Entity {
    /// Its index in [`ENTITIES`]. Every `&Entity` handed out points into that table, so this is
    /// the offset of the reference (no hashing: the engine asks it several times per record);
    /// a copy made elsewhere falls back to a lookup by name.
    pub fn id(&self) -> EntityId {
        let base = ENTITIES.as_ptr() as usize;
        let at = self as *const Entity as usize;
        let size = std::mem::size_of::<Entity>();
        if at >= base
            && at < base + std::mem::size_of_val(ENTITIES)
            && (at - base).is_multiple_of(size)
        {
            return ((at - base) / size) as EntityId;
        }
        entity_id(self.name).expect("entity in catalogue")
    }
    pub fn field(&self, name: &str) -> Option<FieldId> {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .map(|i| i as FieldId)
    }
    pub fn field_def(&self, name: &str) -> Option<&'static Field> {
        let fields: &'static [Field] = self.fields;
        fields.iter().find(|f| f.name == name)
    }
    /// The target table name.
    pub fn table(&self) -> String {
        snake_case(self.name)
    }
    /// Whether `ferry template` has a sheet for this type: customer data and setup, not
    /// configuration.
    pub fn in_template(&self) -> bool {
        !matches!(self.group, Group::Configuration | Group::Certification)
    }
    /// Legacy certification data (SPEC §11): `ferry certification migrate` reads these types
    /// and nothing else; `ferry import` leaves them out.
    pub fn is_certification(&self) -> bool {
        self.group == Group::Certification
    }
    /// Whether `ferry config export|import` moves records of this type: setup and
    /// configuration.
    pub fn is_configuration(&self) -> bool {
        matches!(self.group, Group::Setup | Group::Configuration)
    }
    pub fn is_ledger(&self) -> bool {
        self.group == Group::Ledger
    }
    /// The key fields, if the entity has a key.
    pub fn key_fields(&self) -> &'static [&'static str] {
        match self.key {
            Key::Fields(f) | Key::Occurrence(f) => f,
            Key::Identity => &[],
        }
    }
    /// The fields whose equal values make records occurrences 1, 2, … of one holding
    /// ([`Key::Occurrence`]), if the entity counts occurrences.
    pub fn occurrence_fields(&self) -> &'static [&'static str] {
        match self.key {
            Key::Occurrence(f) => &f[..f.len() - 1],
            Key::Fields(_) | Key::Identity => &[],
        }
    }
    /// The key field that holds the occurrence ([`Key::Occurrence`]), if the entity counts them.
    /// It is not part of the record's content hash: the key compares it, and records stored
    /// before it existed keep their hash.
    pub fn occurrence_field(&self) -> Option<&'static str> {
        match self.key {
            Key::Occurrence(f) => f.last().copied(),
            Key::Fields(_) | Key::Identity => None,
        }
    }
    /// The field an alias spelling stands for (seed 003's `Loggedby` → `LoggedBy`).
    pub fn field_alias(&self, alias: &str) -> Option<&'static str> {
        FIELD_ALIASES
            .iter()
            .find(|a| a.entity == self.name && a.alias == alias)
            .map(|a| a.field)
    }
    /// Whether a field of this name is ignored silently (not a field, not an unknown one).
    pub fn ignores_field(&self, name: &str) -> bool {
        IGNORED_FIELDS
            .iter()
            .any(|(e, f)| *e == self.name && *f == name)
    }
    /// The reference of a single field, if any (`→ T` in the spec's tables).
    pub fn field_ref(&self, field: &str) -> Option<&'static Ref> {
        let refs: &'static [Ref] = self.refs;
        refs.iter()
            .find(|r| r.from.len() == 1 && r.from[0] == field)
    }
}

/// Looks an entity type up by its exact (case-sensitive) name.
pub fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().find(|e| e.name == name)
}

/// The entity type a vendor's name stands for (seed 003's element names), if `name` is one.
pub fn entity_alias(name: &str) -> Option<&'static Entity> {
    ENTITY_ALIASES
        .iter()
        .find(|a| a.alias == name)
        .and_then(|a| entity(a.name))
}

pub fn entity_id(name: &str) -> Option<EntityId> {
    static IDS: std::sync::OnceLock<std::collections::HashMap<&'static str, EntityId>> =
        std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        ENTITIES
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name, i as EntityId))
            .collect()
    })
    .get(name)
    .copied()
}

/// The field sets by which records of entity `id` are looked up: its key, then every set of
/// target fields that references to it use (a held package by User and Name).
pub fn lookup_keys(id: EntityId) -> &'static [&'static [&'static str]] {
    static KEYS: std::sync::OnceLock<Vec<Vec<&'static [&'static str]>>> =
        std::sync::OnceLock::new();
    let all = KEYS.get_or_init(|| {
        ENTITIES
            .iter()
            .map(|e| {
                let mut v: Vec<&'static [&'static str]> = vec![];
                if !e.key_fields().is_empty() {
                    v.push(e.key_fields());
                }
                for other in ENTITIES {
                    for r in other.refs {
                        if r.target == e.name && !v.contains(&r.to) {
                            v.push(r.to);
                        }
                    }
                }
                v
            })
            .collect()
    });
    &all[id as usize]
}

pub fn by_id(id: EntityId) -> &'static Entity {
    &ENTITIES[id as usize]
}

/// Sheet / file names that are Ferry's own or carry options, not entity types.
pub fn is_ignored_sheet(name: &str) -> bool {
    name == "Findings" || name.starts_with('_')
}

/// The last column of a "Rejected rows" download: why Ferry rejected the row. Every entity,
/// Ledger and Options sheet (and CSV file) ignores a column of this name silently, so that the
/// corrected rows can be imported again as they are.
pub const FINDINGS_COLUMN: &str = "Ferry findings";

/// The name of the options sheet (SPEC §6.5).
pub const OPTIONS_SHEET: &str = "Options";
/// The name of the combined ledger sheet (SPEC §2).
pub const LEDGER_SHEET: &str = "Ledger";
/// Entity types allowed in the `Ledger` sheet, in the order of separate sheets.
pub const LEDGER_TYPES: [&str; 4] = ["Debit", "Credit", "CloseInvoice", "Payment"];

/// The option names of SPEC §6.5.
pub const OPTION_NAMES: [&str; 4] = ["CreateAccounts", "DateOrder", "MaxRecords", "DefaultOwner"];

/// `ContactFirstName` → `contact_first_name`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The default setup data that `ferry init` creates (SPEC §4.1), as (entity, fields).
pub const INIT_DATA: &[(&str, &[(&str, &str)])] = &[
    ("Currency", &[("Code", "USD"), ("Name", "US Dollar")]),
    ("Owner", &[("Name", "admin"), ("Currency", "USD")]),
    ("Culture", &[("Name", "English")]),
    ("Language", &[("Name", "English")]),
    ("Role", &[("Name", "Customer")]),
    ("StatusType", &[("Name", "Active")]),
    ("BillGroup", &[("Name", "Default")]),
    ("CreditRating", &[("Name", "Default")]),
    ("ContactType", &[("Name", "Billing Contact")]),
    ("ContactType", &[("Name", "Technical Contact")]),
    ("ContactType", &[("Name", "Administrative Contact")]),
    ("ContactPointType", &[("Name", "Email Address")]),
    ("ContactPointType", &[("Name", "Work Phone")]),
    ("ContactPointType", &[("Name", "Home Phone")]),
    ("ContactPointType", &[("Name", "Mobile Phone")]),
    ("ContactPointType", &[("Name", "Fax")]),
    ("NoteType", &[("Name", "Default")]),
    ("Service", &[("Name", "Opening Balance"), ("Amount", "0")]),
];

/// The folded form used for `did you mean` hints and `--fold-case` (SPEC §3.1):
/// lower-cased, inner white space collapsed to one space.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The one candidate that matches `name` after folding, if exactly one does and it differs.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let f = fold(name);
    let mut found = None;
    for c in candidates {
        if c != name && fold(c) == f {
            if found.is_some() {
                return None;
            }
            found = Some(c);
        }
    }
    found
}

/// The hint text of SPEC §3.1.
pub fn did_you_mean(candidate: &str) -> String {
    format!("did you mean \"{candidate}\"?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_names() {
        assert_eq!(snake_case("ContactFirstName"), "contact_first_name");
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("Tax1"), "tax1");
        assert_eq!(snake_case("TicketID"), "ticket_id");
        assert_eq!(snake_case("UF_1"), "uf_1");
        assert_eq!(snake_case("StudentId"), "student_id");
        assert_eq!(
            snake_case("UserPaymentMethodACH"),
            "user_payment_method_ach"
        );
    }

    #[test]
    fn every_reference_names_a_real_entity_and_fields() {
        for e in ENTITIES {
            for r in e.refs {
                let t = entity(r.target)
                    .unwrap_or_else(|| panic!("{}: unknown target {}", e.name, r.target));
                assert_eq!(r.from.len(), r.to.len(), "{} → {}", e.name, r.target);
                for f in r.from {
                    assert!(
                        e.field(f).is_some(),
                        "{}: ref from unknown field {f}",
                        e.name
                    );
                }
                for f in r.to {
                    assert!(
                        t.field(f).is_some(),
                        "{}: ref to unknown field {}.{f}",
                        e.name,
                        t.name
                    );
                }
            }
            for k in e.key_fields() {
                assert!(e.field(k).is_some(), "{}: key field {k}", e.name);
            }
            if let Some(a) = e.account_field {
                assert!(e.field(a).is_some(), "{}: account field {a}", e.name);
            }
            for a in e.after {
                assert!(entity(a).is_some(), "{}: after unknown {a}", e.name);
            }
        }
    }

    #[test]
    fn aliases_name_real_types_and_fields_and_shadow_nothing() {
        for a in ENTITY_ALIASES {
            assert!(
                entity(a.name).is_some(),
                "alias {} of unknown {}",
                a.alias,
                a.name
            );
            assert!(
                entity(a.alias).is_none(),
                "alias {} is an entity type",
                a.alias
            );
            assert!(
                ![LEDGER_SHEET, OPTIONS_SHEET].contains(&a.alias) && !is_ignored_sheet(a.alias),
                "{}",
                a.alias
            );
        }
        for a in FIELD_ALIASES {
            let e = entity(a.entity).unwrap_or_else(|| panic!("{}", a.entity));
            assert!(e.field(a.field).is_some(), "{}.{}", a.entity, a.field);
            assert!(
                e.field(a.alias).is_none(),
                "{}.{} is a field",
                a.entity,
                a.alias
            );
            assert_eq!(e.field_alias(a.alias), Some(a.field));
        }
        for (ent, f) in IGNORED_FIELDS {
            let e = entity(ent).unwrap();
            assert!(
                e.field(f).is_none() && e.field_alias(f).is_none(),
                "{ent}.{f}"
            );
        }
        assert_eq!(
            entity_alias("UserAttributeChangeUserPackageStatusType").map(|e| e.name),
            Some("UserPackageStatusChange")
        );
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = ENTITIES.iter().map(|e| e.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ENTITIES.len());
        for e in ENTITIES {
            let mut f: Vec<_> = e.fields.iter().map(|f| f.name).collect();
            f.sort();
            f.dedup();
            assert_eq!(f.len(), e.fields.len(), "{}", e.name);
        }
    }

    #[test]
    fn init_data_fits_the_catalogue() {
        for (ent, fields) in INIT_DATA {
            let e = entity(ent).unwrap();
            for (f, _) in *fields {
                assert!(e.field(f).is_some(), "{ent}.{f}");
            }
        }
    }
}

#[cfg(test)]
mod id_tests {
    use super::*;

    #[test]
    fn an_entity_knows_its_index_in_the_table() {
        for (i, e) in ENTITIES.iter().enumerate() {
            assert_eq!(e.id() as usize, i, "{}", e.name);
            assert_eq!(entity_id(e.name), Some(i as EntityId));
        }
    }
}
