//! `ferry template` (SPEC §10): the workbook's shape (sheets in dependency order, comments, the
//! notes row, drop-downs in a hidden `_Lists` sheet), and a template filled in "by hand" — rows
//! added to the sheet XML as a spreadsheet program would, everything else kept — imports with
//! no finding.

mod common;
use calamine::{Data, Reader};
use common::*;
use ferry_catalogue as cat;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

/// Every part of a zip, by name, in the archive's order.
fn parts(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let mut b = vec![];
            e.read_to_end(&mut b).unwrap();
            (e.name().unwrap().to_string(), b)
        })
        .collect()
}

fn part<'a>(parts: &'a [(String, Vec<u8>)], name: &str) -> &'a str {
    let b = &parts
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no part {name}"))
        .1;
    std::str::from_utf8(b).unwrap()
}

/// The value of attribute `name` in the XML element text `el`.
fn attr<'a>(el: &'a str, name: &str) -> Option<&'a str> {
    let pat = format!(" {name}=\"");
    let at = el.find(&pat)? + pat.len();
    Some(&el[at..at + el[at..].find('"')?])
}

/// The elements `<tag …>` of an XML text (their opening tag text).
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    let mut out = vec![];
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let end = rest[i..].find('>').unwrap() + i + 1;
        out.push(&rest[i..end]);
        rest = &rest[end..];
    }
    out
}

/// Sheets in workbook order: (name, part path, hidden).
fn sheets(parts: &[(String, Vec<u8>)]) -> Vec<(String, String, bool)> {
    let wb = part(parts, "xl/workbook.xml");
    let rels = part(parts, "xl/_rels/workbook.xml.rels");
    let targets: BTreeMap<&str, &str> = elements(rels, "Relationship")
        .into_iter()
        .map(|r| (attr(r, "Id").unwrap(), attr(r, "Target").unwrap()))
        .collect();
    elements(wb, "sheet")
        .into_iter()
        .map(|s| {
            let id = attr(s, "r:id").unwrap();
            (
                attr(s, "name").unwrap().to_string(),
                format!("xl/{}", targets[id]),
                attr(s, "state") == Some("hidden"),
            )
        })
        .collect()
}

/// The comments part of a sheet part, through the sheet's relationships.
fn comments_of(parts: &[(String, Vec<u8>)], sheet_part: &str) -> String {
    let (dir, file) = sheet_part.rsplit_once('/').unwrap();
    let rels = part(parts, &format!("{dir}/_rels/{file}.rels"));
    let target = elements(rels, "Relationship")
        .into_iter()
        .find(|r| attr(r, "Type").unwrap().ends_with("/comments"))
        .and_then(|r| attr(r, "Target"))
        .expect("sheet has comments");
    let name = format!("xl/{}", target.trim_start_matches("../"));
    part(parts, &name).to_string()
}

fn col_letter(mut c: usize) -> String {
    let mut s = vec![];
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

/// The sheet columns of a template sheet (entity fields, or the Ledger union).
fn columns(sheet: &str) -> Vec<&'static str> {
    if sheet == cat::LEDGER_SHEET {
        cat::ledger_columns()
    } else {
        cat::entity(sheet)
            .unwrap()
            .fields
            .iter()
            .map(|f| f.name)
            .collect()
    }
}

/// Rows to type into one sheet: (column, value) per cell.
type Rows = Vec<Vec<(&'static str, V)>>;

/// A value typed into a cell.
enum V {
    S(&'static str),
    /// A number, taking its column's style (as a spreadsheet does for a typed date or amount).
    N(f64),
}

/// Adds rows (from row 3) to a sheet's XML, as typing them into the template would.
fn add_rows(xml: &str, sheet: &str, rows: &[&[(&str, V)]]) -> String {
    let cols = columns(sheet);
    let col_style = |i: usize| -> Option<String> {
        elements(xml, "col")
            .into_iter()
            .find(|c| {
                let (a, b): (usize, usize) = (
                    attr(c, "min").unwrap().parse().unwrap(),
                    attr(c, "max").unwrap().parse().unwrap(),
                );
                (a..=b).contains(&(i + 1))
            })
            .and_then(|c| attr(c, "style").map(str::to_string))
    };
    let mut out = String::new();
    for (k, row) in rows.iter().enumerate() {
        let r = k + 3;
        let mut cells: Vec<(usize, &V)> = row
            .iter()
            .map(|(name, v)| {
                (
                    cols.iter()
                        .position(|c| c == name)
                        .unwrap_or_else(|| panic!("{sheet} has no column {name}")),
                    v,
                )
            })
            .collect();
        cells.sort_by_key(|(i, _)| *i);
        out.push_str(&format!("<row r=\"{r}\">"));
        for (i, v) in cells {
            let at = format!("{}{r}", col_letter(i));
            match v {
                V::S(s) => out.push_str(&format!(
                    "<c r=\"{at}\" t=\"inlineStr\"><is><t>{s}</t></is></c>"
                )),
                V::N(n) => {
                    let s = col_style(i)
                        .map(|s| format!(" s=\"{s}\""))
                        .unwrap_or_default();
                    out.push_str(&format!("<c r=\"{at}\"{s}><v>{n}</v></c>"));
                }
            }
        }
        out.push_str("</row>");
    }
    assert!(xml.contains("</sheetData>"), "{sheet}: {xml}");
    xml.replacen("</sheetData>", &format!("{out}</sheetData>"), 1)
}

fn write_parts(path: &Path, parts: &[(String, Vec<u8>)]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (n, b) in parts {
        z.start_file(n.as_str(), o).unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap();
}

/// The sheet names the dependency order gives, then `Options` and the hidden `_Lists`.
fn expected_sheets() -> Vec<String> {
    cat::dependency_order()
        .iter()
        // configuration and legacy certification types have no sheet
        .filter(|p| match p {
            cat::Phase::Entity(id) => cat::by_id(*id).in_template(),
            cat::Phase::Ledger => true,
        })
        .map(|p| p.name().to_string())
        .chain([cat::OPTIONS_SHEET.to_string(), "_Lists".to_string()])
        .collect()
}

#[test]
fn template_shape() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(ferry(d, &["init"]).code, 0);
    let r = ferry(d, &["template", "t.xlsx"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p = parts(&d.join("t.xlsx"));
    let sh = sheets(&p);

    // Sheets: dependency order (the ledger types as one Ledger sheet), Options, hidden _Lists.
    let names: Vec<String> = sh.iter().map(|s| s.0.clone()).collect();
    assert_eq!(names, expected_sheets());
    for (name, _, hidden) in &sh {
        assert_eq!(*hidden, name == "_Lists", "{name}");
    }
    let sheet_part = |n: &str| sh.iter().find(|s| s.0 == n).unwrap().1.clone();

    // Header and notes rows, from the catalogue.
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(d.join("t.xlsx")).unwrap();
    for phase in cat::dependency_order() {
        if let cat::Phase::Entity(id) = phase {
            if !cat::by_id(id).in_template() {
                continue;
            }
        }
        let name = phase.name();
        let range = wb.worksheet_range(name).unwrap();
        let cols = columns(name);
        for (i, c) in cols.iter().enumerate() {
            assert_eq!(
                range.get_value((0, i as u32)),
                Some(&Data::String(c.to_string())),
                "{name} header"
            );
            let note = if name == cat::LEDGER_SHEET {
                cat::ledger_column_note(c).unwrap()
            } else {
                let e = cat::entity(name).unwrap();
                cat::field_note(e, e.field_def(c).unwrap())
            };
            assert_eq!(
                range.get_value((1, i as u32)),
                Some(&Data::String(note)),
                "{name}.{c} note"
            );
        }
        assert_eq!(range.height(), 2, "{name}: only header and notes");
    }
    let user = wb.worksheet_range("User").unwrap();
    assert_eq!(
        user.get_value((1, 3)),
        Some(&Data::String("name (1–255 chars); required; → Role".into()))
    );
    // Options: the defaults.
    let opts = wb.worksheet_range("Options").unwrap();
    assert_eq!(
        opts.get_value((1, 0)),
        Some(&Data::String("CreateAccounts".into()))
    );
    assert_eq!(opts.get_value((1, 1)), Some(&Data::Bool(false)));
    assert_eq!(opts.get_value((2, 1)), Some(&Data::String("MDY".into())));
    // _Lists holds the init data's roles and contact types.
    let lists = wb.worksheet_range("_Lists").unwrap();
    let all: Vec<String> = lists.cells().map(|(_, _, v)| v.to_string()).collect();
    for want in [
        "Customer",
        "Billing Contact",
        "Technical Contact",
        "admin",
        "USD",
        "Opening Balance",
    ] {
        assert!(
            all.iter().any(|v| v == want),
            "_Lists lacks {want}: {all:?}"
        );
    }

    // A comment per header cell: kind, required, reference.
    let comments = comments_of(&p, &sheet_part("User"));
    assert_eq!(
        comments.matches("<comment ").count(),
        cat::entity("User").unwrap().fields.len()
    );
    assert!(
        comments.contains("Reference: the Name of a Role"),
        "{comments}"
    );
    assert!(comments.contains("Kind: name (1–255 chars)"));
    assert!(comments.contains("Required unless the Options sheet sets DefaultOwner"));

    // Drop-downs: list validations over the data rows, warning style, referring to _Lists.
    let user_xml = part(&p, &sheet_part("User")).to_string();
    let dvs: Vec<(String, String)> = user_xml
        .split("<dataValidation ")
        .skip(1)
        .map(|s| {
            let head = &s[..s.find('>').unwrap()];
            let f1 = &s[s.find("<formula1>").unwrap() + 10..s.find("</formula1>").unwrap()];
            (format!(" {head}"), f1.to_string())
        })
        .collect();
    let role_col = col_letter(columns("User").iter().position(|c| *c == "Role").unwrap());
    let (head, f) = dvs
        .iter()
        .find(|(h, _)| attr(h, "sqref") == Some(&format!("{role_col}3:{role_col}1048576")))
        .unwrap_or_else(|| panic!("no drop-down on User.Role: {dvs:?}"));
    assert_eq!(attr(head, "type"), Some("list"));
    assert_eq!(attr(head, "errorStyle"), Some("warning"));
    assert!(f.contains("_Lists"), "{f}");
    // Every list validation of every sheet refers to _Lists, and covers only data rows.
    let mut total = 0;
    for (name, sp, _) in &sh {
        let xml = part(&p, sp);
        for chunk in xml.split("<dataValidation ").skip(1) {
            let head = &chunk[..chunk.find('>').unwrap()];
            if attr(&format!(" {head}"), "type") == Some("list") {
                total += 1;
                assert!(chunk.contains("_Lists'!$"), "{name}: {chunk}");
                if name != "Options" {
                    let h = format!(" {head}");
                    let (a, b) = attr(&h, "sqref").unwrap().split_once(':').unwrap();
                    let digits = |s: &str| {
                        s.trim_start_matches(|c: char| c.is_ascii_uppercase())
                            .to_string()
                    };
                    assert_eq!(
                        (digits(a), digits(b)),
                        ("3".into(), "1048576".into()),
                        "{name}: {head}"
                    );
                }
            }
        }
    }
    assert!(total >= 20, "only {total} drop-downs");
    // Ledger: Type gets the ledger types; the header and notes rows stay frozen.
    let ledger_xml = part(&p, &sheet_part("Ledger"));
    assert!(ledger_xml.contains("ySplit=\"2\""), "panes not frozen");

    // The untouched template imports with no finding: no unknown sheet (`Options`, `_Lists`),
    // no notes row taken for a record (its Options rows count as content, so no `input.empty`).
    let r = ferry(
        d,
        &["import", "t.xlsx", "--test-only", "--log", "empty.jsonl"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("empty.jsonl"));
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn a_template_filled_by_hand_imports_without_findings() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(ferry(d, &["init"]).code, 0);
    assert_eq!(ferry(d, &["template", "t.xlsx"]).code, 0);
    let mut p = parts(&d.join("t.xlsx"));
    let sh = sheets(&p);
    // 2024-03-15 as an Excel serial, typed into date-formatted columns.
    let day = 45366.0;
    let fill: Vec<(&str, Rows)> = vec![
        ("Role", vec![vec![("Name", V::S("Member"))]]),
        ("PaymentType", vec![vec![("Name", V::S("Cheque"))]]),
        (
            "User",
            vec![vec![
                ("Name", V::S("jsmith")),
                ("Owner", V::S("admin")),
                ("Role", V::S("Member")),
                ("Currency", V::S("USD")),
                ("CreatedDate", V::N(day)),
                ("BillDay", V::N(1.0)),
                ("Email", V::S("jsmith@example.com")),
            ]],
        ),
        (
            "Contact",
            vec![vec![
                ("User", V::S("jsmith")),
                ("ContactFirstName", V::S("John")),
                ("ContactLastName", V::S("Smith")),
                ("ContactType", V::S("Billing Contact")),
            ]],
        ),
        (
            "ContactEmail",
            vec![vec![
                ("User", V::S("jsmith")),
                ("ContactName", V::S("John Smith")),
                ("Email", V::S("john@example.com")),
                ("ContactType", V::S("Billing Contact")),
            ]],
        ),
        (
            "Ledger",
            vec![
                vec![
                    ("Type", V::S("Debit")),
                    ("User", V::S("jsmith")),
                    ("Date", V::N(day)),
                    ("Debit", V::N(25.5)),
                    ("Package", V::S("Opening Balance")),
                    ("Description", V::S("Opening balance")),
                ],
                vec![("Type", V::S("CloseInvoice"))],
                vec![
                    ("Type", V::S("Payment")),
                    ("User", V::S("jsmith")),
                    ("Date", V::N(day + 1.0)),
                    ("Credit", V::N(25.5)),
                    ("PaymentType", V::S("Cheque")),
                ],
            ],
        ),
    ];
    for (sheet, rows) in &fill {
        let sp = &sh.iter().find(|s| s.0 == *sheet).unwrap().1;
        let at = p.iter().position(|(n, _)| n == sp).unwrap();
        let xml = std::str::from_utf8(&p[at].1).unwrap();
        let rows: Vec<&[(&str, V)]> = rows.iter().map(|r| r.as_slice()).collect();
        p[at].1 = add_rows(xml, sheet, &rows).into_bytes();
    }
    write_parts(&d.join("filled.xlsx"), &p);

    let r = ferry(d, &["import", "filled.xlsx", "--log", "log.jsonl"]);
    let f = findings(&d.join("log.jsonl"));
    assert!(f.is_empty(), "findings: {f:#?}\n{}", r.stderr);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let one = |sql: &str| int(d, "ferry.db", sql);
    assert_eq!(one("SELECT count(*) FROM role"), 2);
    assert_eq!(one("SELECT count(*) FROM payment_type"), 1);
    assert_eq!(one("SELECT count(*) FROM \"user\""), 1);
    assert_eq!(one("SELECT count(*) FROM contact"), 1);
    assert_eq!(one("SELECT count(*) FROM contact_email"), 1);
    assert_eq!(one("SELECT count(*) FROM debit"), 1);
    assert_eq!(one("SELECT count(*) FROM close_invoice"), 1);
    assert_eq!(one("SELECT count(*) FROM payment"), 1);
    let user = rows(
        d,
        "ferry.db",
        "SELECT role, created_date, bill_day FROM \"user\"",
    );
    assert_eq!(user[0][0], "Member");
    assert!(user[0][1].starts_with("2024-03-15"), "{:?}", user[0]);
    assert_eq!(user[0][2], "1");
    let bal = ferry(d, &["report", "balances"]);
    assert!(bal.stdout.contains("jsmith,0.00"), "{}", bal.stdout);
}
