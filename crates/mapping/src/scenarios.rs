//! Tests of the whole model: parsing, checking with several problems at once, and applying
//! the shapes of issue 14's exports (a flat member list, a D/M/Y payments export).

use crate::{Mapping, MappingError, Produced};

const MEMBERS: &str = r#"
version = 1

[[source]]
name = "UK member list"
match = { file = "members*.csv" }
account = "email"
missingValues = ["", "NULL", "N/A", "-"]

[[source.record]]
entity = "User"
fields.Role = { value = "Member" }
fields.Owner = { value = "admin" }
fields.StatusType = { column = "status", map = { A = "Active", L = "Lapsed" } }

[[source.record]]
entity = "Contact"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.ContactFirstName = "first_name"
fields.ContactLastName = "last_name"
fields.ContactCompany = "company_name"
fields.ContactType = { value = "Billing Contact" }

[[source.record]]
entity = "ContactEmail"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Email = "email"

[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Phone = "phone1"

[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Phone = "phone2"
fields.ContactPointType = { value = "Mobile Phone" }

[[source.record]]
entity = "ContactAddress"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Address1 = "address"
fields.City = "city"
fields.Region = "county"
fields.PostalCode = "postal"
fields.Country = { value = "GB" }
"#;

const HEADERS: &[&str] = &[
    "first_name",
    "last_name",
    "company_name",
    "address",
    "city",
    "county",
    "postal",
    "phone1",
    "phone2",
    "email",
    "status",
];

fn records(out: &[Produced]) -> Vec<&crate::ProducedRecord> {
    out.iter()
        .filter_map(|p| match p {
            Produced::Record(r) => Some(r),
            Produced::Problem(_) | Produced::Rejected(_) => None,
        })
        .collect()
}

fn problems(out: &[Produced]) -> Vec<&crate::RowProblem> {
    out.iter()
        .filter_map(|p| match p {
            Produced::Problem(p) => Some(p),
            Produced::Record(_) | Produced::Rejected(_) => None,
        })
        .collect()
}

#[test]
fn a_flat_member_row_gives_a_user_its_contact_and_contact_points() {
    let m = Mapping::load(MEMBERS).unwrap();
    let s = m
        .source_for("exports/Members-2019.csv", None, None)
        .unwrap();
    let row = [
        "James",
        "Butt",
        "Benton, John B Jr",
        "6649 N Blue Gum St",
        "New Orleans",
        "Orleans",
        "70116",
        "504-621-8927",
        "504-845-1427",
        "jbutt@gmail.com",
        "A",
    ];
    let out = s.apply(HEADERS, &row);
    assert!(problems(&out).is_empty(), "{out:?}");
    let r = records(&out);
    let entities: Vec<&str> = r.iter().map(|r| r.entity).collect();
    assert_eq!(
        entities,
        [
            "User",
            "Contact",
            "ContactEmail",
            "ContactPhone",
            "ContactPhone",
            "ContactAddress"
        ]
    );
    assert_eq!(r[0].get("Name"), Some("jbutt@gmail.com"));
    assert_eq!(r[0].get("Role"), Some("Member"));
    assert_eq!(r[0].get("StatusType"), Some("Active"));
    assert_eq!(r[1].get("User"), Some("jbutt@gmail.com"));
    assert_eq!(r[1].get("ContactName"), Some("James Butt"));
    assert_eq!(r[3].get("Phone"), Some("504-621-8927"));
    assert_eq!(r[4].get("Phone"), Some("504-845-1427"));
    assert_eq!(r[4].get("ContactPointType"), Some("Mobile Phone"));
    assert_eq!(r[5].get("Country"), Some("GB"));
    assert_eq!(r[5].get("Region"), Some("Orleans"));
}

#[test]
fn an_empty_phone2_gives_no_second_phone_and_missing_markers_are_empty() {
    let m = Mapping::load(MEMBERS).unwrap();
    let s = &m.sources[0];
    let row = [
        "Josephine",
        "Darakjy",
        "N/A",
        "4 B Blue Ridge Blvd",
        "Brighton",
        "Livingston",
        "48116",
        "810-292-9388",
        "NULL",
        "josephine_darakjy@darakjy.org",
        "L",
    ];
    let out = s.apply(HEADERS, &row);
    let r = records(&out);
    let phones = r.iter().filter(|r| r.entity == "ContactPhone").count();
    assert_eq!(phones, 1, "{out:?}");
    assert_eq!(r[1].get("ContactCompany"), None);
}

#[test]
fn an_unknown_value_of_a_value_map_is_a_problem_never_passed_through() {
    let m = Mapping::load(MEMBERS).unwrap();
    let row = [
        "Art",
        "Venere",
        "",
        "8 W Cerritos Ave",
        "Bridgeport",
        "Gloucester",
        "08014",
        "856-636-8749",
        "",
        "art@venere.org",
        "X",
    ];
    let out = m.sources[0].apply(HEADERS, &row);
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(p[0].column, "status");
    assert_eq!(p[0].value, "X");
    assert_eq!(p[0].target.as_deref(), Some("User.StatusType"));
    assert!(
        p[0].message.contains("not in the value map"),
        "{}",
        p[0].message
    );
    // The User is not produced with the value dropped; the other records are.
    assert!(records(&out).iter().all(|r| r.entity != "User"));
    assert_eq!(records(&out).len(), 4);
    // Keys match trimmed and without regard to case.
    let row = [
        "Art",
        "Venere",
        "",
        "x",
        "",
        "",
        "",
        "",
        "",
        "art@venere.org",
        " a ",
    ];
    let out = m.sources[0].apply(HEADERS, &row);
    assert_eq!(records(&out)[0].get("StatusType"), Some("Active"));
}

const PAYMENTS: &str = r#"
version = 1

[[source]]
match = { file = "paypal*.csv" }
account = "Customer ID"
keep = [{ column = "Status", equals = "Completed" }]
skip = [{ column = "Type", in = ["Withdrawal", "Fee"] }]

[source.columns."Date"]
format = "%d/%m/%Y"

[source.columns."Gross"]
decimalChar = ","
groupChar = "."
bareNumber = false

[[source.record]]
entity = "Payment"
fields.Date = "Date"
fields.Credit = "Gross"
fields.Reference = "Transaction ID"
fields.PaymentType = { value = "PayPal" }
"#;

#[test]
fn a_dmy_payments_row_with_thousands_separators_and_filters() {
    let m = Mapping::load(PAYMENTS).unwrap();
    let s = m.source_for("PayPal-2016.CSV", None, None).unwrap();
    let h = [
        "Date",
        "Customer ID",
        "Type",
        "Status",
        "Gross",
        "Transaction ID",
    ];
    let out = s.apply(
        &h,
        &[
            "09/06/2016",
            "C-17",
            "Payment",
            "Completed",
            "€1.234,50",
            "7TX",
        ],
    );
    let r = records(&out);
    assert_eq!(r.len(), 1, "{out:?}");
    assert_eq!(r[0].entity, "Payment");
    assert_eq!(r[0].get("User"), Some("C-17"));
    assert_eq!(r[0].get("Date"), Some("2016-06-09"));
    assert_eq!(r[0].get("Credit"), Some("1234.50"));
    assert_eq!(r[0].get("PaymentType"), Some("PayPal"));
    // Filtered rows give nothing, and say why.
    let pending = ["10/06/2016", "C-17", "Payment", "Pending", "5,00", "8TX"];
    assert!(s.apply(&h, &pending).is_empty());
    assert_eq!(
        s.dropped_by(&h, &pending).unwrap(),
        "kept only where Status = \"Completed\""
    );
    let fee = ["10/06/2016", "C-17", "Fee", "Completed", "(0,35)", "9TX"];
    assert!(s.apply(&h, &fee).is_empty());
    // An impossible date is a problem, never rolled over or swapped.
    let out = s.apply(
        &h,
        &["31/02/2016", "C-17", "Payment", "Completed", "5,00", "10TX"],
    );
    let p = problems(&out);
    assert_eq!(
        (p[0].column.as_str(), p[0].value.as_str()),
        ("Date", "31/02/2016")
    );
    assert!(records(&out).is_empty());
    // A column the export lacks is named.
    assert_eq!(
        s.missing_columns(&["Date", "Gross"]),
        ["Customer ID", "Status", "Transaction ID", "Type"]
    );
}

#[test]
fn a_full_name_is_split_in_two() {
    let text = r#"
version = 1
[[source]]
match = { sheet = "Customers" }
account = "Id"
[[source.record]]
entity = "Contact"
fields.ContactFirstName = { split = { column = "Full Name", part = 1, max = 2 } }
fields.ContactLastName = { split = { column = "Full Name", part = 2, max = 2 } }
fields.ContactType = { value = "Billing Contact" }
"#;
    let m = Mapping::load(text).unwrap();
    assert!(m.source_for("book.xlsx", Some("Sheet1"), None).is_none());
    let s = m.source_for("book.xlsx", Some("customers"), None).unwrap();
    let out = s.apply(&["Id", "full name"], &["17", "Mary Ann Smith"]);
    let r = records(&out);
    assert_eq!(r[0].get("User"), Some("17"));
    assert_eq!(r[0].get("ContactFirstName"), Some("Mary"));
    assert_eq!(r[0].get("ContactLastName"), Some("Ann Smith"));
    // One word: a first name and no last name; an empty name: no contact at all.
    let out = s.apply(&["Id", "Full Name"], &["18", "Cher"]);
    assert_eq!(records(&out)[0].get("ContactLastName"), None);
    assert!(s.apply(&["Id", "Full Name"], &["19", ""]).is_empty());
}

#[test]
fn a_record_of_references_only_is_there_when_they_are() {
    // Odoo's partners: a person row names its company in parent_id; a company row leaves it
    // empty and must give no ChildAccount (it would fail "Parent is required").
    let text = r#"
version = 1
[[source]]
match = { file = "partners.csv" }
account = "id"
[[source.record]]
entity = "ChildAccount"
fields.Parent = "parent_id"
"#;
    let m = Mapping::load(text).unwrap();
    let s = m.source_for("partners.csv", None, None).unwrap();
    let h = ["id", "parent_id"];
    let out = s.apply(&h, &["p7", "c1"]);
    assert_eq!(records(&out)[0].get("Parent"), Some("c1"));
    assert!(s.apply(&h, &["c1", ""]).is_empty());
}

#[test]
fn every_problem_of_a_mapping_is_listed_with_its_place() {
    let text = r#"version = 2

[[source]]
match = { file = "x.csv" }

[source.columns.when]
format = "%d.%m.%Q"

[source.columns.short]
format = "%d/%m/%y"

[[source.record]]
entity = "Contcat"

[[source.record]]
entity = "ContactPhone"
fields.User = "id"
fields.ContactNme = "name"
fields.ContactType = { column = "kind", map = { Y = "Home", " y" = "Work" } }

[[source.record]]
entity = "Payment"
fields.User = { column = "id", value = "x" }
fields.Date = { template = "{day" }
"#;
    let Err(MappingError::Invalid(issues)) = Mapping::load(text) else {
        panic!("expected problems");
    };
    let all: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
    let want = [
        "line 1, column 11: version 2 is not known",
        "line 6, column 1: column when: the date pattern \"%d.%m.%Q\" does not parse",
        "column short: the date pattern \"%d/%m/%y\" has a 2-digit year",
        "line 13, column 10: Contcat is not an entity type (did you mean Contact?)",
        "ContactNme is not a field of ContactPhone (did you mean ContactName?)",
        "ContactPhone.ContactName is required and the record leaves it unset",
        "ContactPhone.Phone is required and the record leaves it unset",
        "the value map has \" y\" and \"Y\", the same key",
        "Payment.User needs exactly one of column, value, template, split",
        "Payment.Date: the template \"{day\" has an empty or unclosed {…}",
        "Payment.Credit is required and the record leaves it unset",
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
fn a_syntax_error_has_its_place() {
    let Err(MappingError::Syntax(i)) =
        Mapping::load("version = 1\n[[source]]\nmatch = { fil = \"x\" }\n")
    else {
        panic!("expected a syntax error");
    };
    assert_eq!(i.location.map(|l| l.line), Some(3), "{i}");
    assert!(i.message.contains("fil"), "{i}");
    assert!(Mapping::load("version = 1\n[[source]]\nmatch = {file = \"a\"}\n[[source.record]]\nentity = \"User\"\nfields.Name = 3\n").is_err());
}

#[test]
fn the_readme_example_loads() {
    let readme = include_str!("../README.md");
    let text = readme
        .split("```toml")
        .nth(1)
        .and_then(|t| t.split("```").next())
        .unwrap();
    Mapping::load(text).unwrap();
}

#[test]
fn iso_timestamps_keep_their_written_date_and_defaults_are_ferry_values() {
    let text = r#"
version = 1
[[source]]
match = { file = "Account.csv" }
account = "Id"
[source.columns.CreatedDate]
format = "iso"
[source.columns.LastActivity]
missingValues = ["0000-00-00"]
[[source.record]]
entity = "User"
fields.Role = { value = "Member" }
fields.CreatedDate = "CreatedDate"
fields.StatusType = { column = "Status", map = { "1" = "Active" }, default = "Unknown" }
[[source.record]]
entity = "UserNote"
fields.Date = "LastActivity"
fields.Note = { value = "last activity" }
fields.Type = { value = "General" }
"#;
    let m = Mapping::load(text).unwrap();
    let s = &m.sources[0];
    let h = ["Id", "CreatedDate", "Status", "LastActivity"];
    let out = s.apply(
        &h,
        &["001A", "2019-01-03T23:30:00.000-0800", "", "03/01/2019"],
    );
    let r = records(&out);
    assert_eq!(
        r[0].get("CreatedDate"),
        Some("2019-01-03 23:30:00"),
        "{out:?}"
    );
    assert_eq!(r[0].get("StatusType"), Some("Unknown"));
    // No date pattern: the value goes on as written, for the validator's own date rules.
    assert_eq!(r[1].get("Date"), Some("03/01/2019"));
    let out = s.apply(&h, &["001B", "2019-01-03T23:30:00Z", "1", "0000-00-00"]);
    let r = records(&out);
    assert_eq!(r[0].get("StatusType"), Some("Active"));
    assert_eq!(r.len(), 1, "an empty LastActivity gives no note: {out:?}");
}
