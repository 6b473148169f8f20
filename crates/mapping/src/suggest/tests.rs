//! Tests of the suggester: the fixture exports of issue 14 (their suggestions load and read
//! every sampled row) and samples made to show one rule each.

use super::*;
use crate::{Mapping, Produced};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/exports")
        .join(name)
}

fn sampled(name: &str, encoding: Option<&'static encoding_rs::Encoding>) -> Vec<Sample> {
    crate::sample_inputs(&[fixture(name).as_path()], encoding, 2000).unwrap()
}

fn sample(file: &str, headers: &[&str], rows: &[&[&str]]) -> Sample {
    Sample {
        file: file.into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect(),
        ..Sample::default()
    }
}

/// Every guess of one column, as `Entity.Field` (empty for an unplaced column).
fn placed(s: &Suggestion, column: &str) -> Vec<String> {
    s.guesses
        .iter()
        .filter(|g| g.column == column)
        .map(|g| match (g.entity, g.field) {
            (Some(e), Some(f)) => format!("{e}.{f}"),
            _ => String::new(),
        })
        .collect()
}

fn confidence(s: &Suggestion, column: &str, target: &str) -> f64 {
    s.guesses
        .iter()
        .find(|g| {
            g.column == column
                && g.entity
                    .zip(g.field)
                    .map(|(e, f)| format!("{e}.{f}"))
                    .as_deref()
                    == Some(target)
        })
        .map(|g| g.confidence)
        .unwrap_or_else(|| panic!("no guess {column} → {target}"))
}

fn load(s: &Suggestion) -> Mapping {
    Mapping::load(&s.mapping).unwrap_or_else(|e| panic!("{e}\n{}", s.mapping))
}

/// Applies the suggestion to every sampled row: the problems, and the records made.
fn apply_all(samples: &[Sample], m: &Mapping) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut records = 0;
    for s in samples {
        let source = m
            .source_for(&s.file, s.sheet.as_deref(), s.element.as_deref())
            .expect("a source per sample");
        for row in &s.rows {
            for p in source.apply(&s.headers, row) {
                match p {
                    Produced::Record(_) => records += 1,
                    Produced::Rejected(_) => {}
                    Produced::Problem(p) => {
                        problems.push(format!("{}: {} ({})", p.column, p.value, p.message))
                    }
                }
            }
        }
    }
    (problems, records)
}

#[test]
fn every_fixture_export_gets_a_mapping_that_loads_and_reads_every_sampled_row() {
    let w1252 = Some(encoding_rs::WINDOWS_1252);
    for (name, encoding) in [
        ("members.csv", None),
        ("paypal.csv", None),
        ("crm.xlsx", None),
        ("salesforce_accounts.csv", w1252),
        ("odoo_partners.csv", None),
        ("civicrm_contributions.csv", None),
    ] {
        let samples = sampled(name, encoding);
        let s = suggest(&samples);
        let m = load(&s);
        let (problems, records) = apply_all(&samples, &m);
        assert!(problems.is_empty(), "{name}: {problems:#?}\n{}", s.mapping);
        assert!(
            records >= samples.iter().map(|s| s.rows.len()).sum::<usize>() / 2,
            "{name}: {records} records"
        );
        let columns: usize = samples.iter().map(|s| s.headers.len()).sum();
        let distinct: std::collections::HashSet<(&str, Option<&str>, &str)> = s
            .guesses
            .iter()
            .map(|g| (g.file.as_str(), g.sheet.as_deref(), g.column.as_str()))
            .collect();
        assert_eq!(distinct.len(), columns, "{name}: a guess for every column");
    }
}

#[test]
fn a_flat_member_list_gives_a_user_its_contact_and_contact_points() {
    let samples = sampled("members.csv", None);
    let s = suggest(&samples);
    assert_eq!(placed(&s, "email"), ["User.Name", "ContactEmail.Email"]);
    assert_eq!(placed(&s, "phone1"), ["ContactPhone.Phone"]);
    assert_eq!(placed(&s, "phone2"), ["ContactPhone.Phone"]);
    assert_eq!(placed(&s, "web"), ["UserExtendedAttribute.Value"]);
    assert!(s.mapping.contains("account = \"email\""), "{}", s.mapping);
    assert!(s
        .mapping
        .contains("fields.ContactName = { template = \"{first_name} {last_name}\" }"));
    assert!(s
        .mapping
        .contains("fields.Role = { value = \"Customer\" }  # check"));
    let m = load(&s);
    let src = &m.sources[0];
    let out = src.apply(&samples[0].headers, &samples[0].rows[1]);
    let entities: Vec<&str> = out
        .iter()
        .filter_map(|p| match p {
            Produced::Record(r) => Some(r.entity),
            Produced::Problem(_) | Produced::Rejected(_) => None,
        })
        .collect();
    assert_eq!(
        entities,
        [
            "User",
            "Contact",
            "ContactPhone",
            "ContactPhone",
            "ContactEmail",
            "ContactAddress",
            "UserExtendedAttribute"
        ]
    );
}

#[test]
fn a_paypal_download_gives_payments_with_its_date_order_marks_and_filters() {
    let samples = sampled("paypal.csv", None);
    let s = suggest(&samples);
    assert_eq!(placed(&s, "From Email Address"), ["Payment.User"]);
    assert_eq!(placed(&s, "Gross"), ["Payment.Credit"]);
    assert_eq!(placed(&s, "Net"), [""]);
    assert_eq!(placed(&s, "Fee"), [""]);
    for want in [
        "format = \"%d/%m/%Y\"",
        "groupChar = \",\"",
        "keep = [{ column = \"Status\", equals = \"Completed\" }]",
        "skip = [{ column = \"Type\", in = [\"General Withdrawal\", \"Payment Refund\"] }]",
    ] {
        assert!(s.mapping.contains(want), "{want} in\n{}", s.mapping);
    }
    let m = load(&s);
    let h = &samples[0].headers;
    let row = samples[0].rows.iter().find(|r| r[7] == "1,234.50").unwrap();
    let out = m.sources[0].apply(h, row);
    let Some(Produced::Record(r)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(r.get("Credit"), Some("1234.50"));
    assert_eq!(r.get("Date"), Some("2016-07-02"), "{row:?}");
    // Withdrawals and pending rows give nothing.
    let dropped = samples[0]
        .rows
        .iter()
        .filter(|r| m.sources[0].apply(h, r).is_empty())
        .count();
    assert_eq!(dropped, 6, "2 pending, 1 denied, 2 withdrawals, 1 refund");
}

#[test]
fn a_crm_workbook_reads_people_as_contacts_of_their_company() {
    let samples = sampled("crm.xlsx", None);
    assert_eq!(samples.len(), 2);
    let s = suggest(&samples);
    let people: Vec<&Guess> = s
        .guesses
        .iter()
        .filter(|g| g.sheet.as_deref() == Some("People"))
        .collect();
    let company = people.iter().find(|g| g.column == "Company ID").unwrap();
    assert_eq!(
        (company.entity, company.field),
        (Some("Contact"), Some("User"))
    );
    let person = people.iter().find(|g| g.column == "Person ID").unwrap();
    assert_eq!(person.entity, None);
    let m = load(&s);
    let src = m.source_for("crm.xlsx", Some("People"), None).unwrap();
    assert!(src.records.iter().all(|r| r.entity.get_ref() != "User"));
    assert_eq!(src.account.as_ref().unwrap().get_ref(), "Company ID");
    // A company without a person's name is named after itself.
    assert!(placed(&s, "Company Name").contains(&"Contact.ContactName".to_string()));
}

#[test]
fn salesforce_accounts_in_windows_1252_with_iso_timestamps() {
    let samples = sampled("salesforce_accounts.csv", Some(encoding_rs::WINDOWS_1252));
    assert!(samples[0].rows.iter().any(|r| r[1] == "Café Müller GmbH"));
    let s = suggest(&samples);
    assert_eq!(placed(&s, "Id"), ["User.Name"]);
    assert_eq!(placed(&s, "ShippingCity"), ["ContactAddress.City"]);
    assert!(
        s.mapping
            .contains("[source.columns.\"CreatedDate\"]\n# ISO 8601"),
        "{}",
        s.mapping
    );
    let m = load(&s);
    let out = m.sources[0].apply(&samples[0].headers, &samples[0].rows[0]);
    let Some(Produced::Record(user)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(user.get("CreatedDate"), Some("2019-01-03 10:15:30"));
    assert_eq!(user.get("Name"), Some("0015g00000XQ000AAA"));
}

#[test]
fn confidence_says_how_the_column_was_placed() {
    let s = suggest(&[sample(
        "x.csv",
        &["Email", "e-mail 2", "Mobile", "Contact Info"],
        &[
            &["a@x.org", "b@x.org", "07700 900123", "c@y.org"],
            &["d@x.org", "", "", "e@y.org"],
        ],
    )]);
    assert_eq!(confidence(&s, "Email", "ContactEmail.Email"), 1.0);
    assert_eq!(confidence(&s, "e-mail 2", "ContactEmail.Email"), 0.8);
    assert_eq!(confidence(&s, "Mobile", "ContactPhone.Phone"), 0.8);
    // No header names it; every value is an e-mail.
    assert_eq!(confidence(&s, "Contact Info", "ContactEmail.Email"), 0.6);
    let normalised = suggest(&[sample("x.csv", &["E-MAIL"], &[&["a@x.org"]])]);
    assert_eq!(confidence(&normalised, "E-MAIL", "ContactEmail.Email"), 0.9);
    // A header the values contradict is less certain.
    let wrong = suggest(&[sample(
        "x.csv",
        &["Email", "Id"],
        &[&["n/a yet", "1"], &["none", "2"]],
    )]);
    assert!(confidence(&wrong, "Email", "ContactEmail.Email") < 0.8);
    load(&s);
}

#[test]
fn a_column_that_feeds_two_fields_gives_two_guesses_an_unplaced_one_gives_one() {
    let s = suggest(&[sample(
        "list.csv",
        &["Customer No", "Organisation", "Colour"],
        &[&["1", "Acme Ltd", "blue"], &["2", "Widgets plc", "red"]],
    )]);
    assert_eq!(
        placed(&s, "Organisation"),
        ["Contact.ContactName", "Contact.ContactCompany"]
    );
    assert_eq!(placed(&s, "Colour"), [""]);
    let g = s.guesses.iter().find(|g| g.column == "Colour").unwrap();
    assert_eq!((g.entity, g.field, g.confidence), (None, None, 0.0));
    load(&s);
}

#[test]
fn ambiguous_dates_name_both_orders_and_choose_neither() {
    let s = suggest(&[sample(
        "pay.csv",
        &["Member ID", "Payment Date", "Amount"],
        &[
            &["7", "03/04/2019", "€1.234,50"],
            &["8", "05/06/2019", "€12,00"],
        ],
    )]);
    assert!(
        s.mapping
            .contains("# check: every sampled value reads as %d/%m/%Y and as %m/%d/%Y"),
        "{}",
        s.mapping
    );
    assert!(s.mapping.contains("# format = \"%d/%m/%Y\""));
    assert!(!s.mapping.contains("\nformat ="));
    for want in [
        "decimalChar = \",\"",
        "groupChar = \".\"",
        "bareNumber = false",
    ] {
        assert!(s.mapping.contains(want), "{want}\n{}", s.mapping);
    }
    let m = load(&s);
    assert_eq!(
        m.sources[0].account.as_ref().unwrap().get_ref(),
        "Member ID"
    );
    let out = m.sources[0].apply(
        &["Member ID", "Payment Date", "Amount"],
        &["7", "2019-04-03", "€1.234,50"],
    );
    let Some(Produced::Record(r)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(
        (r.get("User"), r.get("Credit")),
        (Some("7"), Some("1234.50"))
    );
}

#[test]
fn odd_headers_still_give_a_mapping_that_loads() {
    let s = suggest(&[sample(
        "we\"ird.csv",
        &["", "Name", "Name", "a{b}", "quote\"d", "Phone"],
        &[&["x", "Ann", "Ann B", "1", "2", "01632 960123"]],
    )]);
    load(&s);
    let columns: std::collections::HashSet<&str> =
        s.guesses.iter().map(|g| g.column.as_str()).collect();
    assert_eq!(columns.len(), 5, "one header is given twice");
    assert_eq!(placed(&s, "a{b}"), [""]);
}

#[test]
fn a_file_named_after_an_entity_type_is_read_as_that_type() {
    let s = suggest(&[sample(
        "exports/User.csv",
        &["Name", "owner", "Role", "Bill Day"],
        &[&["M1", "admin", "Member", "5"]],
    )]);
    assert_eq!(placed(&s, "Name"), ["User.Name"]);
    assert_eq!(placed(&s, "owner"), ["User.Owner"]);
    assert_eq!(confidence(&s, "Bill Day", "User.BillDay"), 0.9);
    load(&s);
    // A required field no column holds is left for a person to fill (and still loads).
    let s = suggest(&[sample(
        "Payment.csv",
        &["User", "Date"],
        &[&["M1", "2019-01-03"]],
    )]);
    assert!(
        s.mapping
            .contains("fields.Credit = { value = \"\" }  # check: required"),
        "{}",
        s.mapping
    );
    load(&s);
}

#[test]
fn no_samples_give_no_guesses() {
    let s = suggest(&[]);
    assert!(s.guesses.is_empty());
    assert!(
        Mapping::load(&s.mapping).is_err(),
        "a mapping of no source reads nothing"
    );
}

#[test]
fn the_corrected_mappings_of_the_fixtures_load_and_read_every_row() {
    let w1252 = Some(encoding_rs::WINDOWS_1252);
    for (name, encoding) in [
        ("members.csv", None),
        ("paypal.csv", None),
        ("crm.xlsx", None),
        ("salesforce_accounts.csv", w1252),
        ("odoo_partners.csv", None),
        ("civicrm_contributions.csv", None),
    ] {
        let stem = name.rsplit_once('.').unwrap().0;
        let text = std::fs::read_to_string(fixture(&format!("{stem}.mapping.toml"))).unwrap();
        let m = Mapping::load(&text).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let samples = sampled(name, encoding);
        let (problems, records) = apply_all(&samples, &m);
        assert!(problems.is_empty(), "{name}: {problems:#?}");
        assert!(records > 0, "{name}");
    }
}

#[test]
fn a_state_is_the_region_of_a_list_that_also_has_a_county() {
    let s = suggest(&[sample(
        "us-500.csv",
        &[
            "first_name",
            "last_name",
            "address",
            "city",
            "county",
            "state",
            "zip",
            "email",
        ],
        &[&[
            "James",
            "Butt",
            "6649 N Blue Gum St",
            "New Orleans",
            "Orleans",
            "LA",
            "70116",
            "jbutt@gmail.com",
        ]],
    )]);
    assert_eq!(placed(&s, "state"), ["ContactAddress.Region"]);
    assert_eq!(placed(&s, "county"), [""]);
    load(&s);
}

#[test]
fn a_payments_export_is_named_by_its_customer_not_by_its_own_id() {
    let s = suggest(&[sample(
        "stripe.csv",
        &[
            "id",
            "Created (UTC)",
            "Amount",
            "Status",
            "Customer ID",
            "Customer Email",
        ],
        &[
            &[
                "ch_1",
                "2023-01-05 10:00:00",
                "1,200.00",
                "Paid",
                "cus_A",
                "ann@example.com",
            ],
            &[
                "ch_2",
                "2023-01-17 11:30:00",
                "25.00",
                "Failed",
                "cus_B",
                "bo@example.com",
            ],
        ],
    )]);
    assert_eq!(placed(&s, "Customer ID"), ["Payment.User"]);
    assert_eq!(placed(&s, "id"), [""]);
    // No header names the date: the one column of dates is it, less surely.
    assert_eq!(confidence(&s, "Created (UTC)", "Payment.Date"), 0.5);
    assert!(
        s.mapping
            .contains("keep = [{ column = \"Status\", equals = \"Paid\" }]"),
        "{}",
        s.mapping
    );
    load(&s);
}

#[test]
fn a_member_list_with_an_amount_and_a_join_date_stays_a_member_list() {
    let s = suggest(&[sample(
        "members.csv",
        &[
            "Member ID",
            "First Name",
            "Last Name",
            "Email",
            "Joined",
            "Amount",
        ],
        &[&[
            "M1",
            "Ann",
            "Lee",
            "ann@example.com",
            "13/02/2020",
            "1,200.50",
        ]],
    )]);
    assert_eq!(placed(&s, "Member ID"), ["User.Name"]);
    assert_eq!(placed(&s, "Joined"), ["User.CreatedDate"]);
    assert_eq!(placed(&s, "Amount"), [""]);
    assert!(s.mapping.contains("format = \"%d/%m/%Y\""), "{}", s.mapping);
    load(&s);
}
