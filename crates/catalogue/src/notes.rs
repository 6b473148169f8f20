//! The one-line notes a template writes under each header cell (row 2 of a sheet), generated from
//! the catalogue. The workbook reader compares row 2 with these exact texts to skip a template's
//! notes row, so they must stay deterministic: kind, required, default, reference — nothing else.

use crate::schema_doc::kind_text;
use crate::{entity, Entity, Field, Kind, Req, LEDGER_TYPES};

/// The note of field `f` of entity `e`: `name (1–255 chars); required; → Role`.
pub fn field_note(e: &Entity, f: &Field) -> String {
    let mut parts = vec![kind_text(f.kind)];
    parts.push(match f.req {
        Req::Required => "required".to_string(),
        Req::Optional => "optional".to_string(),
        Req::RequiredUnlessOption(o) => format!("required unless option {o} is set"),
    });
    if let Some(d) = f.default {
        parts.push(format!("default {d}"));
    }
    for r in e.refs.iter().filter(|r| r.from.contains(&f.name)) {
        if r.from.len() == 1 {
            parts.push(format!("→ {}", r.target));
        } else {
            parts.push(format!("→ {} ({})", r.target, r.from.join(", ")));
        }
    }
    parts.join("; ")
}

/// The columns of a `Ledger` sheet: `Type`, then the union of the ledger types' fields in the
/// order of [`LEDGER_TYPES`].
pub fn ledger_columns() -> Vec<&'static str> {
    let mut cols = vec!["Type"];
    for t in LEDGER_TYPES {
        for f in entity(t).expect("ledger type").fields {
            if !cols.contains(&f.name) {
                cols.push(f.name);
            }
        }
    }
    cols
}

/// The note of a `Ledger` sheet column: the types that use it with their field notes, grouped
/// where they agree (`Debit, Credit, Payment: name (1–255 chars); required; → User | …`).
pub fn ledger_column_note(column: &str) -> Option<String> {
    if column == "Type" {
        return Some(format!("one of {}; required", LEDGER_TYPES.join(", ")));
    }
    let mut groups: Vec<(String, Vec<&str>)> = vec![];
    for t in LEDGER_TYPES {
        let e = entity(t).expect("ledger type");
        if let Some(f) = e.field_def(column) {
            let note = field_note(e, f);
            match groups.iter_mut().find(|(n, _)| *n == note) {
                Some((_, types)) => types.push(t),
                None => groups.push((note, vec![t])),
            }
        }
    }
    match groups.len() {
        0 => None,
        1 if groups[0].1.len() == LEDGER_TYPES.len() => Some(groups.remove(0).0),
        _ => Some(
            groups
                .iter()
                .map(|(n, types)| format!("{}: {n}", types.join(", ")))
                .collect::<Vec<_>>()
                .join(" | "),
        ),
    }
}

/// An option of the Options sheet (SPEC §6.5): its value kind, default and meaning.
#[derive(Debug, Clone, Copy)]
pub struct OptionDef {
    pub name: &'static str,
    pub kind: Kind,
    /// The value in force when neither the flag nor an Options sheet gives one.
    pub default: Option<&'static str>,
    /// The entity type whose key the value names (`DefaultOwner` → Owner).
    pub reference: Option<&'static str>,
    pub doc: &'static str,
}

/// The options of SPEC §6.5, in the order of [`crate::OPTION_NAMES`].
pub const OPTION_DEFS: [OptionDef; 4] = [
    OptionDef {
        name: "CreateAccounts",
        kind: Kind::Bool,
        default: Some("FALSE"),
        reference: None,
        doc: "TRUE: create web logins for the imported accounts (as --create-accounts)",
    },
    OptionDef {
        name: "DateOrder",
        kind: Kind::Enum(&["MDY", "DMY"]),
        default: Some("MDY"),
        reference: None,
        doc: "how text dates with slashes are read: MDY (3/4/2024 is March 4) or DMY (as --date-order)",
    },
    OptionDef {
        name: "MaxRecords",
        kind: Kind::Integer {
            min: Some(0),
            max: None,
        },
        default: Some("0"),
        reference: None,
        doc: "import only the first N accounts and what belongs to them; 0 = all (as --max-records)",
    },
    OptionDef {
        name: "DefaultOwner",
        kind: Kind::Name,
        default: None,
        reference: Some("Owner"),
        doc: "the owner of a User row that names none (User.Owner is then optional)",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_name_kind_requirement_and_reference() {
        let user = entity("User").unwrap();
        let role = user.field_def("Role").unwrap();
        assert_eq!(
            field_note(user, role),
            "name (1–255 chars); required; → Role"
        );
        let owner = user.field_def("Owner").unwrap();
        assert_eq!(
            field_note(user, owner),
            "name (1–255 chars); required unless option DefaultOwner is set; → Owner"
        );
        let phone = entity("ContactPhone").unwrap();
        let cpt = phone.field_def("ContactPointType").unwrap();
        assert_eq!(
            field_note(phone, cpt),
            "name (1–255 chars); optional; default Work Phone; → ContactPointType"
        );
    }

    #[test]
    fn ledger_notes_cover_every_column() {
        for c in ledger_columns() {
            assert!(ledger_column_note(c).is_some(), "{c}");
        }
        assert_eq!(
            ledger_column_note("Credit").unwrap(),
            "Credit: money ≥ 0; required | Payment: money > 0; required"
        );
        assert_eq!(ledger_column_note("Nope"), None);
    }

    #[test]
    fn option_defs_follow_option_names() {
        let names: Vec<&str> = OPTION_DEFS.iter().map(|o| o.name).collect();
        assert_eq!(names, crate::OPTION_NAMES);
        for o in OPTION_DEFS {
            if let Some(r) = o.reference {
                assert!(entity(r).is_some(), "{}", o.name);
            }
        }
    }
}
