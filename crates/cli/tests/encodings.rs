//! Byte-order marks and UTF-16 (issue 13, 17): a BOM anywhere but the start of a file is never
//! kept silently in a value or a key (`value.byte_order_mark` on that value, in every
//! container); a UTF-16 file is refused with the `--encoding` that reads it, and that encoding
//! does read it.

mod common;
use common::*;
use std::path::Path;

fn codes_of(log: &Path) -> Vec<(String, String, i64)> {
    findings(log)
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or("").to_string(),
                f["field"].as_str().unwrap_or("").to_string(),
                f["row"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_byte_order_mark_inside_a_file_is_an_error_on_its_value() {
    let s = scratch();
    let d = s.path();
    assert_eq!(ferry(d, &["init", "--db", "t.db"]).code, 0);
    // Two CSV files joined: the second one's BOM now starts line 3.
    std::fs::create_dir(d.join("joined")).unwrap();
    std::fs::write(
        d.join("joined/User.csv"),
        "\u{feff}Name,Owner,Role\nM1,admin,Customer\n\u{feff}M2,admin,Customer\nM3,admin,Customer\n",
    )
    .unwrap();
    let r = ferry(
        d,
        &["import", "joined", "--db", "t.db", "--log", "csv.jsonl"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        codes_of(&d.join("csv.jsonl")),
        vec![("value.byte_order_mark".to_string(), "Name".to_string(), 3)]
    );
    // The file's own BOM was ignored; no key holds U+FEFF.
    assert_eq!(
        rows(d, "t.db", "SELECT name FROM \"user\" ORDER BY name"),
        vec![vec!["M1".to_string()], vec!["M3".to_string()]]
    );

    // The same rule for XML attributes and workbook cells.
    std::fs::write(
        d.join("bom.xml"),
        "<Import>\n<User Name=\"X1\" Owner=\"admin\" Role=\"Customer\"/>\n<User Name=\"\u{feff}X2\" Owner=\"admin\" Role=\"Customer\"/>\n</Import>\n",
    )
    .unwrap();
    let r = ferry(
        d,
        &["import", "bom.xml", "--db", "t.db", "--log", "xml.jsonl"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        codes_of(&d.join("xml.jsonl")),
        vec![("value.byte_order_mark".to_string(), "Name".to_string(), 3)]
    );
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("User").unwrap();
    for (c, v) in ["Name", "Owner", "Role"].iter().enumerate() {
        ws.write_string(0, c as u16, *v).unwrap();
    }
    for (r, name) in ["W1", "W\u{feff}2"].iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_string(r, 0, *name).unwrap();
        ws.write_string(r, 1, "admin").unwrap();
        ws.write_string(r, 2, "Customer").unwrap();
    }
    wb.save(d.join("bom.xlsx")).unwrap();
    let r = ferry(
        d,
        &["import", "bom.xlsx", "--db", "t.db", "--log", "xlsx.jsonl"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        codes_of(&d.join("xlsx.jsonl")),
        vec![("value.byte_order_mark".to_string(), "Name".to_string(), 3)]
    );
    let names = rows(d, "t.db", "SELECT name FROM \"user\"");
    assert!(
        names.iter().all(|r| !r[0].contains('\u{feff}')),
        "{names:?}"
    );
    assert_eq!(names.len(), 4, "M1, M3, X1, W1: {names:?}");
}

/// A `User.csv` in `dir` in UTF-16 (`le`: little-endian) with a BOM.
fn utf16_folder(dir: &Path, le: bool) {
    std::fs::create_dir(dir).unwrap();
    let text = "\u{feff}Name,Owner,Role\nÉmile,admin,Customer\nZoë,admin,Customer\n";
    let bytes: Vec<u8> = text
        .encode_utf16()
        .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
        .collect();
    std::fs::write(dir.join("User.csv"), bytes).unwrap();
}

#[test]
fn a_utf16_file_is_named_and_read_with_its_encoding() {
    let s = scratch();
    let d = s.path();
    assert_eq!(ferry(d, &["init", "--db", "t.db"]).code, 0);
    for (name, le, encoding) in [("le", true, "utf-16le"), ("be", false, "utf-16be")] {
        utf16_folder(&d.join(name), le);
        let r = ferry(d, &["import", name, "--db", "t.db", "--test-only"]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("--encoding {encoding}")),
            "{name}: {}",
            r.stderr
        );
        let r = ferry(d, &["import", name, "--db", "t.db", "--encoding", encoding]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
    }
    assert_eq!(
        rows(d, "t.db", "SELECT name FROM \"user\" ORDER BY name"),
        vec![vec!["Zoë".to_string()], vec!["Émile".to_string()]],
        "each file imported its two accounts once (the second run found them identical)"
    );
}

/// Every bad option value is told at once (one per line), exit 2, before anything is written.
#[test]
fn two_bad_option_values_are_both_told() {
    let s = scratch();
    let d = s.path();
    // (Never read: the options are refused first.)
    std::fs::write(d.join("a.xml"), "<Import/>").unwrap();
    let r = ferry(
        d,
        &[
            "import",
            "a.xml",
            "--db",
            "t.db",
            "--encoding",
            "nonsense",
            "--phone-region",
            "XX",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "unknown encoding \"nonsense\" (try utf-8, windows-1252, latin1, utf-16le)\n"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("unknown phone region \"XX\" (an ISO 3166 alpha-2 code such as US, CA, GB)"),
        "{}",
        r.stderr
    );
    assert!(!d.join("t.db").exists(), "nothing is written");
    // One bad value alone: the message as before.
    let r = ferry(
        d,
        &["import", "a.xml", "--db", "t.db", "--phone-region", "XX"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("ferry: error: unknown phone region \"XX\" (an ISO 3166 alpha-2 code such as US, CA, GB)"),
        "{}",
        r.stderr
    );
}
