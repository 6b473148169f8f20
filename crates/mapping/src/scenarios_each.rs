//! Tests of repeated column groups (`each`), of binding a source once to its headers, and of
//! the rule that decides when a record is there.

use crate::{Bound, Mapping, MappingError, Produced, ProducedRecord, RowProblem};

fn records(out: &[Produced]) -> Vec<&ProducedRecord> {
    out.iter()
        .filter_map(|p| match p {
            Produced::Record(r) => Some(r),
            Produced::Problem(_) | Produced::Rejected(_) => None,
        })
        .collect()
}

fn problems(out: &[Produced]) -> Vec<&RowProblem> {
    out.iter()
        .filter_map(|p| match p {
            Produced::Problem(p) => Some(p),
            Produced::Record(_) | Produced::Rejected(_) => None,
        })
        .collect()
}

fn issues(text: &str) -> Vec<String> {
    match Mapping::load(text) {
        Err(MappingError::Invalid(i)) => i.iter().map(|i| i.to_string()).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

const PHONES: &str = r#"
version = 1
[[source]]
match = { sheet = "Contacts" }
account = "Member ID"

[[source.record]]
entity = "ContactPhone"
each = [{ n = 1 }, { n = 2 }, { n = 3 }]
fields.ContactName = "Name"
fields.Phone = "Phone {n}"
fields.ContactPointType = { column = "Phone Type {n}", map = { Home = "Home Phone", Mobile = "Mobile Phone" }, default = "Work Phone" }
"#;

const PHONE_HEADERS: &[&str] = &[
    "Member ID",
    "Name",
    "phone 1",
    "Phone Type 1",
    "Phone 2",
    "Phone Type 2",
    "Phone 3",
    "Phone Type 3",
];

#[test]
fn numbered_column_groups_give_one_record_per_group_that_is_not_empty() {
    let m = Mapping::load(PHONES).unwrap();
    let s = &m.sources[0];
    let row = [
        "M-1",
        "Ann Lee",
        "0161 496 0000",
        "Home",
        "",
        "Mobile",
        "07700 900123",
        "",
    ];
    let out = s.apply(PHONE_HEADERS, &row);
    assert!(problems(&out).is_empty(), "{out:?}");
    let r = records(&out);
    // Group 2 has a type but no phone: a reference (lookup) column is not the record's own.
    assert_eq!(r.len(), 2, "{out:?}");
    assert_eq!(r[0].get("User"), Some("M-1"));
    assert_eq!(r[0].get("Phone"), Some("0161 496 0000"));
    assert_eq!(r[0].get("ContactPointType"), Some("Home Phone"));
    assert_eq!(r[0].fields[2].column.as_deref(), Some("Phone 1"));
    assert_eq!(r[1].get("Phone"), Some("07700 900123"));
    assert_eq!(r[1].get("ContactPointType"), Some("Work Phone"));
    // An unknown type is a problem of its group only; the other groups still give records.
    let row = ["M-2", "Bo", "1", "Fax", "2", "", "", ""];
    let out = s.apply(PHONE_HEADERS, &row);
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(
        (p[0].column.as_str(), p[0].value.as_str()),
        ("Phone Type 1", "Fax")
    );
    assert_eq!(
        p[0].target.as_deref(),
        Some("ContactPhone.ContactPointType")
    );
    assert_eq!(records(&out).len(), 1);
    assert_eq!(records(&out)[0].get("Phone"), Some("2"));
    // Every group's columns are read, and named when missing.
    assert_eq!(
        s.missing_columns(&["Member ID", "Name", "Phone 1", "Phone Type 1"]),
        ["Phone 2", "Phone 3", "Phone Type 2", "Phone Type 3"]
    );
    assert_eq!(s.read_columns().len(), 8);
}

#[test]
fn unnumbered_suffixes_and_a_second_variable_per_group() {
    let text = r#"
version = 1
[[source]]
match = { file = "members.csv" }
account = "email"
[[source.record]]
entity = "ContactPhone"
each = [{ n = 1, type = "Work Phone" }, { n = 2, type = "Mobile Phone" }]
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Phone = "phone{n}"
fields.ContactPointType = { value = "{type}" }
"#;
    let m = Mapping::load(text).unwrap();
    let h = ["first_name", "last_name", "phone1", "phone2", "email"];
    let out = m.sources[0].apply(&h, &["Jo", "Ng", "111", "222", "jo@x.org"]);
    let r = records(&out);
    assert_eq!(r.len(), 2, "{out:?}");
    assert_eq!(
        (r[0].get("Phone"), r[0].get("ContactPointType")),
        (Some("111"), Some("Work Phone"))
    );
    assert_eq!(
        (r[1].get("Phone"), r[1].get("ContactPointType")),
        (Some("222"), Some("Mobile Phone"))
    );
    assert_eq!(r[1].get("ContactName"), Some("Jo Ng"));
    let out = m.sources[0].apply(&h, &["Jo", "Ng", "", "222", "jo@x.org"]);
    assert_eq!(records(&out).len(), 1);
    assert_eq!(
        records(&out)[0].get("ContactPointType"),
        Some("Mobile Phone")
    );
}

#[test]
fn attribute_columns_give_one_attribute_each_named_by_header_or_constant() {
    let text = r#"
version = 1
[[source]]
match = { file = "members.csv" }
account = "Id"
missingValues = ["", "-"]
[[source.record]]
entity = "UserExtendedAttribute"
each = [{ column = "Newsletter" }, { column = "Volunteer" }, { column = "Dietary" }]
fields.Name = { value = "{column}" }
fields.Value = "{column}"
[[source.record]]
entity = "UserExtendedAttribute"
each = [{ column = "Gift Aid", name = "gift_aid" }, { column = "Source", name = "how_heard" }]
fields.Name = { value = "{name}" }
fields.Value = { column = "{column}", map = { Y = "yes", N = "no", Web = "web", Friend = "friend" } }
"#;
    let m = Mapping::load(text).unwrap();
    let h = [
        "Id",
        "Newsletter",
        "Volunteer",
        "Dietary",
        "Gift Aid",
        "Source",
    ];
    let bound = m.sources[0].bind(&h);
    let out = bound.apply(&["7", "Y", "-", "vegan", "y", ""]);
    assert!(problems(&out).is_empty(), "{out:?}");
    let got: Vec<(Option<&str>, Option<&str>, Option<&str>)> = records(&out)
        .iter()
        .map(|r| (r.get("User"), r.get("Name"), r.get("Value")))
        .collect();
    assert_eq!(
        got,
        [
            (Some("7"), Some("Newsletter"), Some("Y")),
            (Some("7"), Some("Dietary"), Some("vegan")),
            (Some("7"), Some("gift_aid"), Some("yes")),
        ]
    );
    assert!(records(&out)
        .iter()
        .all(|r| r.entity == "UserExtendedAttribute"));
}

#[test]
fn a_bound_source_gives_what_apply_gives() {
    let m = Mapping::load(PHONES).unwrap();
    let s = &m.sources[0];
    let bound: Bound = s.bind(PHONE_HEADERS);
    let rows = [
        ["M-1", "Ann", "1", "Home", "2", "", "", ""],
        ["M-2", "Bo", "", "", "", "", "", "Mobile"],
        ["M-3", "Cy", "3", "Fax", "", "", "4", "mobile"],
    ];
    for row in rows {
        assert_eq!(bound.apply(&row), s.apply(PHONE_HEADERS, &row));
    }
    assert_eq!(
        bound.missing_columns(),
        Vec::<String>::new(),
        "headers match across case"
    );
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Bound>();
}

#[test]
fn every_problem_of_each_is_listed_with_its_place() {
    let text = r#"version = 1
[[source]]
match = { file = "x.csv" }
account = "id"

[[source.record]]
entity = "ContactPhone"
each = []
fields.ContactName = "name"
fields.Phone = "phone"

[[source.record]]
entity = "ContactPhone"
each = [{ n = 1 }, { m = 2 }, { n = 1 }, {}]
fields.ContactName = "name"
fields.Phone = "Phone {n}"
fields.ContactPointType = { column = "Type {k}" }

[[source.record]]
entity = "UserExtendedAttribute"
each = [{ column = "A" }, { column = "B" }]
fields.Name = { value = "colour" }
fields.Value = "colour"

[[source.record]]
entity = "ContactPhone"
each = [{ n = 1 }]
fields.ContactName = "name"
fields.Phone = { template = "{Phone {n}" }
"#;
    let all = issues(text);
    let want = [
        "line 8, column 8: each lists no group",
        "line 14, column 20: every group of each names the same variables (n); this one names m",
        "line 14, column 31: this group of each is listed twice",
        "line 14, column 42: a group of each names no variable",
        "line 17, column 27: ContactPhone.ContactPointType uses {k}, which each does not name (it names n)",
        "line 21, column 8: each repeats the UserExtendedAttribute record but none of its fields uses {column}",
        "line 29, column 16: ContactPhone.Phone: the template \"{Phone 1\" has an empty or unclosed {…}",
    ];
    for w in want {
        assert!(
            all.iter().any(|a| a.contains(w)),
            "missing {w:?} in\n{}",
            all.join("\n")
        );
    }
    assert_eq!(all.len(), want.len(), "{}", all.join("\n"));
}

#[test]
fn variables_inside_templates_and_integers_load() {
    let text = r#"
version = 1
[[source]]
match = { file = "x.csv" }
account = "id"
[source.columns."Joined 2"]
format = "%d/%m/%Y"
[[source.record]]
entity = "ContactPhone"
each = [{ n = 1 }, { n = "2" }]
fields.ContactName = { template = "{first} {last}" }
fields.Phone = { template = "{Phone {n}} ext. {Ext {n}}" }
[[source.record]]
entity = "UserNote"
each = [{ n = 1 }, { n = 2 }]
fields.Date = "Joined {n}"
fields.Note = { value = "joined ({n})" }
fields.Type = { value = "General" }
"#;
    let m = Mapping::load(text).unwrap();
    let h = [
        "id", "first", "last", "Phone 1", "Ext 1", "Phone 2", "Ext 2", "Joined 1", "Joined 2",
    ];
    let out = m.sources[0].apply(
        &h,
        &[
            "1",
            "A",
            "B",
            "555",
            "12",
            "",
            "",
            "2019-01-03",
            "03/01/2019",
        ],
    );
    let r = records(&out);
    assert_eq!(r.len(), 3, "{out:?}");
    assert_eq!(r[0].get("Phone"), Some("555 ext. 12"));
    assert_eq!(r[1].get("Note"), Some("joined (1)"));
    assert_eq!(r[1].get("Date"), Some("2019-01-03"));
    // Formats are per column, as named after the replacement.
    assert_eq!(r[2].get("Date"), Some("2019-01-03"));
    assert_eq!(r[2].get("Note"), Some("joined (2)"));
}

/// The rule "a record whose own columns are all empty is not there", field by field.
const PRESENCE: &str = r#"
version = 1
[[source]]
match = { file = "x.csv" }
account = "email"
[[source.record]]
entity = "User"
fields.Role = { value = "Member" }
fields.StatusType = "status"
fields.CreatedDate = "joined"
[[source.record]]
entity = "Contact"
fields.ContactName = { template = "{first} {last}" }
fields.ContactType = { value = "Billing Contact" }
[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first} {last}" }
fields.ContactType = "kind"
fields.ContactPointType = { value = "Mobile Phone" }
fields.Phone = "mobile"
[[source.record]]
entity = "ContactEmail"
fields.ContactName = { template = "{first} {last}" }
fields.Email = { column = "email2", default = "none@example.org" }
[[source.record]]
entity = "UserNote"
fields.Note = { value = "imported" }
fields.Type = { value = "General" }
fields.Date = { split = { column = "stamp", part = 1 } }
"#;

const PRESENCE_HEADERS: &[&str] = &[
    "email", "status", "joined", "first", "last", "kind", "mobile", "email2", "stamp",
];

fn entities(row: &[&str]) -> Vec<&'static str> {
    let m = Mapping::load(PRESENCE).unwrap();
    let out = m.sources[0].apply(PRESENCE_HEADERS, row);
    assert!(problems(&out).is_empty(), "{out:?}");
    records(&out).iter().map(|r| r.entity).collect()
}

#[test]
fn a_record_is_there_when_one_of_its_own_columns_has_a_value() {
    // Only references (status, the contact's name, kind), constants and defaults: the
    // contact point is not there, the user is (its account column fills its own key).
    let row = ["a@x.org", "Active", "", "Ann", "Lee", "Home", "", "", ""];
    assert_eq!(entities(&row), ["User", "Contact"]);
    // The Contact's name is a reference of a contact point but the Contact's own content.
    let row = ["", "", "", "Ann", "", "", "", "", ""];
    assert_eq!(entities(&row), ["Contact"]);
    // Nothing at all: a Contact has no column of its own left, a User neither.
    let row = ["", "Active", "", "", "", "Home", "", "", ""];
    assert!(entities(&row).is_empty());
    // A split counts with its column; a column with a value brings its record.
    let row = [
        "",
        "",
        "2019-01-03",
        "",
        "",
        "",
        "0770",
        "b@x.org",
        "2019-01-03 x",
    ];
    assert_eq!(
        entities(&row),
        ["User", "ContactPhone", "ContactEmail", "UserNote"]
    );
}

#[test]
fn a_record_of_constants_and_references_only_follows_its_references() {
    let text = r#"
version = 1
[[source]]
match = { file = "x.csv" }
account = "id"
[[source.record]]
entity = "ContactPhone"
fields.ContactName = "name"
fields.Phone = { value = "000" }
"#;
    let m = Mapping::load(text).unwrap();
    // Its only column is a reference: empty, no record; given, the record.
    let out = m.sources[0].apply(&["id", "name"], &["", ""]);
    assert_eq!(records(&out).len(), 0, "{out:?}");
    let out = m.sources[0].apply(&["id", "name"], &["", "Ann"]);
    assert_eq!(records(&out).len(), 1, "{out:?}");
    // A column the input lacks is not empty: the record's field is a problem.
    let text = text.replace("{ value = \"000\" }", "\"phone\"");
    let m = Mapping::load(&text).unwrap();
    let out = m.sources[0].apply(&["id", "name"], &["1", "A"]);
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(p[0].column, "phone");
    assert!(
        p[0].message.contains("has no column phone"),
        "{}",
        p[0].message
    );
}

#[test]
fn a_user_without_an_owner_loads_for_default_owner_to_fill() {
    let text = r#"
version = 1
[[source]]
match = { file = "x.csv" }
account = "id"
[[source.record]]
entity = "User"
fields.Role = { value = "Member" }
"#;
    let m = Mapping::load(text).unwrap();
    let out = m.sources[0].apply(&["id"], &["17"]);
    assert_eq!(records(&out)[0].get("Owner"), None);
    // Without Role it is a problem: Role is required and has no run-time option.
    let all = issues(&text.replace("fields.Role = { value = \"Member\" }\n", ""));
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].contains("User.Role is required"), "{all:?}");
}

#[test]
fn a_workbook_date_cell_reads_as_iso_in_a_dmy_column() {
    let text = r#"
version = 1
[[source]]
match = { sheet = "Payments" }
account = "Customer"
[source.columns.Date]
format = "%d/%m/%Y"
[[source.record]]
entity = "Payment"
fields.Date = "Date"
fields.Credit = "Amount"
"#;
    let m = Mapping::load(text).unwrap();
    let s = m.source_for("book.xlsx", Some("payments"), None).unwrap();
    let h = ["Customer", "Date", "Amount"];
    let date = |cell: &str| {
        let out = s.apply(&h, &["C1", cell, "5.00"]);
        match out.as_slice() {
            [Produced::Record(r)] => Ok(r.get("Date").unwrap().to_string()),
            [Produced::Problem(p), Produced::Rejected(_)] => Err(p.message.clone()),
            _ => panic!("{out:?}"),
        }
    };
    assert_eq!(date("09/06/2016").unwrap(), "2016-06-09");
    assert_eq!(date("2016-06-09").unwrap(), "2016-06-09");
    assert_eq!(date("2016-06-09 10:00:00").unwrap(), "2016-06-09 10:00:00");
    assert!(date("2016-13-09").unwrap_err().contains("or YYYY-MM-DD"));
}

#[test]
fn every_readme_example_loads_and_the_first_applies() {
    let readme = include_str!("../README.md");
    let blocks: Vec<&str> = readme
        .split("```toml")
        .skip(1)
        .filter_map(|t| t.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 3);
    for b in &blocks {
        Mapping::load(b).unwrap_or_else(|e| panic!("{e}\n{b}"));
    }
    let m = Mapping::load(blocks[0]).unwrap();
    let h = [
        "email",
        "deleted",
        "joined",
        "status",
        "first_name",
        "last_name",
        "phone1",
        "phone2",
        "Newsletter",
        "Volunteer",
        "Dietary",
        "full_name",
    ];
    let row = [
        "a@x.org",
        "",
        "03.01.2019",
        "A",
        "Ann",
        "Lee",
        "",
        "0770",
        "Y",
        "",
        "none",
        "Ann Lee",
    ];
    let out = m.sources[0].apply(&h, &row);
    assert!(problems(&out).is_empty(), "{out:?}");
    let got: Vec<&str> = records(&out).iter().map(|r| r.entity).collect();
    assert_eq!(
        got,
        [
            "User",
            "Contact",
            "ContactPhone",
            "UserExtendedAttribute",
            "UserExtendedAttribute",
            "Contact"
        ]
    );
    assert_eq!(
        records(&out)[2].get("ContactPointType"),
        Some("Mobile Phone")
    );
    assert_eq!(records(&out)[0].get("CreatedDate"), Some("2019-01-03"));
}
