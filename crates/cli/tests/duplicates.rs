//! Duplicates (SPEC §9) through the real binary: exact key duplicates name the first
//! occurrence; likely duplicates (normalized e-mail; normalized phone with a similar name;
//! normalized name with postal code) are warnings on the later record naming the other account,
//! where it came from and the score — within a run, against the target, and the same after a
//! resume. Hand-made pairs that must match, and near pairs that must not.

mod common;
use common::*;
use std::path::Path;

fn xml(body: &str) -> String {
    format!("<?xml version=\"1.0\"?>\n<Import>\n{body}\n</Import>\n")
}

/// An account with one contact; `extra` holds its e-mails, phones and addresses (attributes
/// after User and ContactName).
fn account(name: &str, first: &str, last: &str, extra: &[(&str, &str)]) -> String {
    let mut s = format!(
        "<User Name=\"{name}\" Owner=\"admin\" Role=\"Customer\"/>\n<Contact User=\"{name}\" ContactFirstName=\"{first}\" ContactLastName=\"{last}\" ContactType=\"Billing Contact\"/>\n"
    );
    let contact = format!("{first} {last}");
    for (entity, attrs) in extra {
        s.push_str(&format!(
            "<{entity} User=\"{name}\" ContactName=\"{contact}\" {attrs}/>\n"
        ));
    }
    s
}

fn likely(f: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    f.iter()
        .filter(|f| f["code"] == "duplicate.likely")
        .collect()
}

/// The line of the first element that contains all of `parts`.
fn line_of(text: &str, parts: &[&str]) -> u64 {
    text.lines()
        .position(|l| parts.iter().all(|p| l.contains(p)))
        .expect("present") as u64
        + 1
}

#[test]
fn exact_duplicates_name_the_first_occurrence() {
    let dir = scratch();
    let d = dir.path();
    let body = xml(
        "<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\"/>\n<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"3\"/>",
    );
    std::fs::write(d.join("a.xml"), &body).unwrap();
    let r = ferry(d, &["import", "a.xml", "--log", "f.jsonl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let dup = f.iter().find(|f| f["code"] == "key.duplicate").unwrap();
    assert_eq!(dup["row"], 5);
    assert_eq!(dup["severity"], "error");
    let msg = dup["message"].as_str().unwrap();
    assert!(msg.contains("\"u1\"") && msg.contains("a.xml:3"), "{msg}");
}

#[test]
fn likely_duplicates_within_a_run() {
    let dir = scratch();
    let d = dir.path();
    let mut body = String::new();
    body += &account(
        "u1",
        "Jane",
        "Doe",
        &[
            ("ContactEmail", "Email=\"Jane.Doe@Example.com\""),
            ("ContactPhone", "Phone=\"(519) 555-0100\""),
            (
                "ContactAddress",
                "Address1=\"1 King St\" PostalCode=\"N2L 3G1\"",
            ),
        ],
    );
    // a case- and space-different e-mail
    body += &account(
        "u2",
        "Joan",
        "Rivers",
        &[("ContactEmail", "Email=\" jane.doe@EXAMPLE.COM\"")],
    );
    // a reformatted phone with a near name
    body += &account(
        "u3",
        "Jayne",
        "Doe",
        &[("ContactPhone", "Phone=\"+1 519-555-0100\"")],
    );
    // the same name (accents, case) and postal code (spacing)
    body += &account(
        "u4",
        "JANE",
        "Doé",
        &[(
            "ContactAddress",
            "Address1=\"9 Elm Rd\" PostalCode=\"n2l3g1\"",
        )],
    );
    // not duplicates: a relative on the same phone, the same name elsewhere, another domain,
    // one account's own e-mail twice
    body += &account(
        "u5",
        "Mark",
        "Doe",
        &[("ContactPhone", "Phone=\"519.555.0100\"")],
    );
    body += &account(
        "u6",
        "Jane",
        "Doe",
        &[(
            "ContactAddress",
            "Address1=\"2 Oak Ave\" PostalCode=\"M5V 2T6\"",
        )],
    );
    body += &account(
        "u7",
        "Jane",
        "Doe",
        &[("ContactEmail", "Email=\"jane.doe@example.org\"")],
    );
    body += "<User Name=\"u8\" Owner=\"admin\" Role=\"Customer\" Email=\"pat@example.net\"/>\n<Contact User=\"u8\" ContactName=\"Pat\" ContactType=\"Billing Contact\"/>\n<ContactEmail User=\"u8\" ContactName=\"Pat\" Email=\"PAT@example.net\"/>\n";
    let text = xml(body.trim_end());
    std::fs::write(d.join("a.xml"), &text).unwrap();
    let r = ferry(d, &["import", "a.xml", "--log", "f.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let got = likely(&f);
    let rows: Vec<(String, u64, String)> = got
        .iter()
        .map(|f| {
            (
                f["entity"].as_str().unwrap().to_string(),
                f["row"].as_u64().unwrap(),
                f["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "ContactEmail".into(),
                line_of(&text, &["<ContactEmail User=\"u2\""]),
                "Email".into()
            ),
            (
                "ContactPhone".into(),
                line_of(&text, &["<ContactPhone User=\"u3\""]),
                "Phone".into()
            ),
            (
                "ContactAddress".into(),
                line_of(&text, &["<ContactAddress User=\"u4\""]),
                "PostalCode".into()
            ),
        ],
        "{got:#?}"
    );
    for g in &got {
        assert_eq!(g["severity"], "warning");
    }
    let msg = |i: usize| got[i]["message"].as_str().unwrap().to_string();
    let first_email = line_of(&text, &["<ContactEmail User=\"u1\""]);
    assert!(
        msg(0).contains("account \"u1\"")
            && msg(0).contains(&format!("a.xml:{first_email}"))
            && msg(0).contains("score 1.00"),
        "{}",
        msg(0)
    );
    let first_phone = line_of(&text, &["<ContactPhone User=\"u1\""]);
    assert!(
        msg(1).contains("account \"u1\"")
            && msg(1).contains(&format!("a.xml:{first_phone}"))
            && msg(1).contains("+15195550100")
            && msg(1).contains("\"jayne doe\" and \"jane doe\"")
            && msg(1).contains("Jaro-Winkler score 0.9"),
        "{}",
        msg(1)
    );
    let first_address = line_of(&text, &["<ContactAddress User=\"u1\""]);
    assert!(
        msg(2).contains("account \"u1\"")
            && msg(2).contains(&format!("a.xml:{first_address}"))
            && msg(2).contains("\"jane doe\", N2L3G1"),
        "{}",
        msg(2)
    );
}

#[test]
fn likely_duplicates_against_the_target() {
    let dir = scratch();
    let d = dir.path();
    let a = xml(&account(
        "t1",
        "Ana",
        "Lima",
        &[
            ("ContactEmail", "Email=\"ana@example.com\""),
            ("ContactPhone", "Phone=\"(416) 555-0199\""),
        ],
    ));
    std::fs::write(d.join("a.xml"), &a).unwrap();
    assert_eq!(ferry(d, &["import", "a.xml"]).code, 0);
    // The same file again: skipped as identical, no duplicate of itself.
    let r = ferry(d, &["import", "a.xml", "--log", "again.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(likely(&findings(&d.join("again.jsonl"))).is_empty());
    // A new account with the e-mail on its User row, and a near name on the same phone.
    let b = xml(&format!(
        "<User Name=\"n1\" Owner=\"admin\" Role=\"Customer\" Email=\"ANA@example.com\"/>\n{}",
        account(
            "n2",
            "Anna",
            "Lima",
            &[("ContactPhone", "Phone=\"416-555-0199\"")]
        )
    ));
    std::fs::write(d.join("b.xml"), &b).unwrap();
    for extra in [&["--test-only"][..], &[][..]] {
        let mut args = vec!["import", "b.xml", "--log", "b.jsonl"];
        args.extend(extra);
        let r = ferry(d, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let f = findings(&d.join("b.jsonl"));
        let got = likely(&f);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert_eq!(got[0]["entity"], "User");
        assert_eq!(got[0]["field"], "Email");
        assert_eq!(got[1]["entity"], "ContactPhone");
        for g in got {
            let m = g["message"].as_str().unwrap();
            assert!(m.contains("account \"t1\" (already in the target)"), "{m}");
        }
    }
}

/// A run with many likely duplicates spread over chunks; how many it holds.
fn many(dir: &Path) -> usize {
    const FIRST: [&str; 20] = [
        "Anna", "Ben", "Carla", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jun", "Kofi",
        "Lena", "Mo", "Nina", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tariq",
    ];
    const LAST: [&str; 12] = [
        "Berg", "Chen", "Diaz", "Evans", "Fox", "Gray", "Hill", "Ito", "Jones", "Khan", "Lopez",
        "Moreau",
    ];
    let name = |i: usize| (FIRST[i % 20].to_string(), LAST[i / 20 % 12].to_string());
    let mut body = String::new();
    let mut expected = 0;
    let mut names: Vec<(String, String)> = vec![];
    for i in 0..240 {
        let (mut first, mut last) = name(i);
        let mut email = i;
        let mut phone = i;
        let mut postal = i;
        expected += 1;
        if i % 7 == 6 {
            email = i - 3;
        } else if i % 11 == 10 {
            phone = i - 5;
            (first, last) = names[i - 5].clone();
            last.push('s');
        } else if i % 13 == 12 {
            postal = i - 1;
            (first, last) = names[i - 1].clone();
        } else {
            expected -= 1;
        }
        let extra = [
            (
                "ContactEmail",
                format!("Email=\"person{email}@example.com\""),
            ),
            (
                "ContactPhone",
                format!("Phone=\"(519) 555-{:04}\"", 1000 + phone),
            ),
            (
                "ContactAddress",
                format!("Address1=\"{i} Main St\" PostalCode=\"N{postal:03}\""),
            ),
        ];
        let extra: Vec<(&str, &str)> = extra.iter().map(|(e, a)| (*e, a.as_str())).collect();
        body += &account(&format!("a{i:03}"), &first, &last, &extra);
        names.push((first, last));
    }
    std::fs::write(dir.join("many.xml"), xml(body.trim_end())).unwrap();
    expected
}

fn likely_of(dir: &Path, db: &str) -> Vec<String> {
    rows(dir, db, "SELECT coalesce(row,0) || '|' || message FROM run_finding WHERE code = 'duplicate.likely' ORDER BY seq")
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

#[test]
fn a_resumed_run_finds_the_same_likely_duplicates() {
    let dir = scratch();
    let d = dir.path();
    let expected = many(d);
    let chunk = ["--chunk-size", "37"];
    let mut args = vec!["import", "many.xml", "--db", "clean.db", "--no-backup"];
    args.extend(chunk);
    let r = ferry(d, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = likely_of(d, "clean.db");
    assert_eq!(want.len(), expected, "{want:#?}");
    for (i, point) in [
        "after-commit:3",
        "before-commit:9",
        "mid-chunk:300",
        "mid-chunk:555",
    ]
    .iter()
    .enumerate()
    {
        let db = format!("k{i}.db");
        let mut args = vec!["import", "many.xml", "--db", db.as_str(), "--no-backup"];
        args.extend(chunk);
        let mut c = command(d, &args);
        c.env("FERRY_FAIL_AT", point);
        let code = c.output().unwrap().status.code().unwrap_or(-1);
        assert!(code == -1 || code == 137, "{point}: not killed ({code})");
        args.push("--resume");
        let r = ferry(d, &args);
        assert_eq!(r.code, 0, "{point}: {}", r.stderr);
        assert_eq!(likely_of(d, &db), want, "{point}");
    }
}
