//! Secrets never leak (SPEC §8, §4.6): a password, a card number and a bank account number
//! imported — valid and invalid, in all three containers — appear in no output: logs in every
//! format, exports, reports, the run journal, stderr/stdout, or the target file's bytes.
//! Also: the logins that CreateAccounts makes.

mod common;
use common::*;
use std::path::Path;

const PASSWORD: &str = "Tr0ub4dor&3-horse";
const CARD: &str = "4111111111111111";
const BAD_CARD: &str = "4111111111111112";
const ACCOUNT: &str = "000123456789";

fn input() -> String {
    format!(
        r#"<Import>
  <User Name="alice" Owner="admin" Role="Customer" Password="{}" Email="Alice@Example.com"/>
  <User Name="bob" Owner="admin" Role="Nobody" Password="{}"/>
  <UserPaymentMethod User="alice" Ref="alice-card" Default="true"/>
  <UserPaymentMethodCreditCard Ref="alice-card" CardNumber="{CARD}" ExpiryMonth="12" ExpiryYear="2031" NameOnCard="Alice A"/>
  <UserPaymentMethod User="alice" Ref="alice-bad"/>
  <UserPaymentMethodCreditCard Ref="alice-bad" CardNumber="{BAD_CARD}" ExpiryMonth="13" ExpiryYear="2031"/>
  <UserPaymentMethod User="alice" Ref="alice-bank"/>
  <UserPaymentMethodACH Ref="alice-bank" RoutingNumber="011000015" AccountNumber="{ACCOUNT}" AccountType="Checking"/>
  <UserPaymentMethod User="bob" Ref="bob-bank"/>
  <UserPaymentMethodACH Ref="bob-bank" RoutingNumber="011000015" AccountNumber="{ACCOUNT}" AccountType="Savings"/>
</Import>"#,
        xml_password(),
        xml_password()
    )
}

/// The password as an XML attribute value (`&` escaped).
fn xml_password() -> String {
    PASSWORD.replace('&', "&amp;")
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for secret in [PASSWORD, CARD, BAD_CARD, ACCOUNT, "Tr0ub4dor"] {
        assert!(
            !text.contains(secret),
            "{what} contains the secret {secret}"
        );
    }
}

fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn secrets_appear_in_no_output() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("in.xml"), input()).unwrap();
    // The target first: a test-only run on a missing ./ferry.db rehearses in a temporary one.
    assert_eq!(ferry(d, &["init"]).code, 0);
    let mut outputs = vec![];
    for (args, name) in [
        (
            vec![
                "import",
                "in.xml",
                "--test-only",
                "--log",
                "t.jsonl",
                "--json",
                "--create-accounts",
            ],
            "test-only",
        ),
        (
            vec![
                "import",
                "in.xml",
                "--log",
                "l.csv",
                "--json",
                "--create-accounts",
            ],
            "live",
        ),
        (
            vec![
                "import",
                "in.xml",
                "--log",
                "l.html",
                "--on-existing",
                "update",
            ],
            "again",
        ),
    ] {
        let r = ferry(d, &args);
        assert!(r.code <= 1, "{name}: {}", r.stderr);
        outputs.push((format!("{name} stdout"), r.stdout.into_bytes()));
        outputs.push((format!("{name} stderr"), r.stderr.into_bytes()));
    }
    for args in [
        vec!["export", "--format", "xml", "x.xml"],
        vec!["export", "--format", "csv", "x_csv"],
        vec!["export", "--format", "xlsx", "x.xlsx"],
        vec!["runs"],
        vec!["runs", "show", "1"],
        vec!["runs", "show", "2"],
        vec!["reconcile", "2"],
        vec!["report", "balances"],
        vec!["report", "balances", "--format", "json"],
    ] {
        let r = ferry(d, &args);
        assert!(r.code <= 1, "{args:?}: {}", r.stderr);
        outputs.push((format!("{args:?} stdout"), r.stdout.into_bytes()));
        outputs.push((format!("{args:?} stderr"), r.stderr.into_bytes()));
    }
    for (what, bytes) in &outputs {
        assert_clean(what, bytes);
    }
    // Every file the runs left behind: logs, exports (the xlsx is a zip: check its parts too),
    // the target and its backups, its WAL.
    for f in all_files(d) {
        if f.file_name().unwrap() == "in.xml" {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        assert_clean(&f.display().to_string(), &bytes);
        if f.extension().is_some_and(|e| e == "xlsx") {
            let mut z = zip::ZipArchive::new(std::fs::File::open(&f).unwrap()).unwrap();
            for i in 0..z.len() {
                let mut part = vec![];
                std::io::Read::read_to_end(&mut z.by_index(i).unwrap(), &mut part).unwrap();
                assert_clean(&format!("{} part {i}", f.display()), &part);
            }
        }
    }
    // No stray spool or temporary files stay next to the target.
    assert!(all_files(d)
        .iter()
        .all(|p| !p.display().to_string().contains(".ferry-spool-")));
}

#[test]
fn logins_from_emails_and_passwords() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("in.xml"),
        format!(
            r#"<Import>
  <User Name="alice" Owner="admin" Role="Customer" Password="{}" Email="Alice@Example.com"/>
  <User Name="bob" Owner="admin" Role="Customer"/>
  <User Name="carol" Owner="admin" Role="Customer"/>
  <User Name="dave" Owner="admin" Role="Customer" Email="alice@example.COM"/>
  <User Name="erin" Owner="admin" Role="Customer" Password="$2b$04$zgFReH9nEo0fHQWf3FkHVezSEl/VlvJMMj9RQ8/ox7h4c0YV7YT8a"/>
  <Contact User="bob" ContactName="Bob B" ContactType="Billing Contact"/>
  <ContactEmail User="bob" ContactName="Bob B" Email="Bob@Example.org"/>
  <ContactEmail User="bob" ContactName="Bob B" Email="bob.second@example.org"/>
  <Contact User="erin" ContactName="Erin E" ContactType="Billing Contact"/>
  <ContactEmail User="erin" ContactName="Erin E" Email="erin@example.org"/>
</Import>"#,
            xml_password()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(d.join("opts")).unwrap();
    std::fs::write(
        d.join("opts/Options.csv"),
        "Name,Value\nCreateAccounts,TRUE\n",
    )
    .unwrap();
    let r = ferry(d, &["import", "in.xml", "opts", "--log", "f.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let codes: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["key"].as_str().unwrap()))
        .collect();
    assert!(codes.contains(&("login.no_email", "carol")), "{codes:?}");
    assert!(
        codes.contains(&("login.duplicate_email", "dave")),
        "{codes:?}"
    );
    let dup = f
        .iter()
        .find(|f| f["code"] == "login.duplicate_email")
        .unwrap();
    assert!(
        dup["message"].as_str().unwrap().contains("alice"),
        "names the holder"
    );
    assert_eq!(dup["field"], "Email");

    let logins: Vec<(String, String, String, i64)> = rows(
        d,
        "ferry.db",
        "SELECT \"user\", username, password_hash, must_reset FROM login ORDER BY \"user\"",
    )
    .into_iter()
    .map(|r| {
        (
            r[0].clone(),
            r[1].clone(),
            r[2].clone(),
            r[3].parse().unwrap(),
        )
    })
    .collect();
    assert_eq!(logins.len(), 3, "{logins:?}");
    assert_eq!(
        (logins[0].0.as_str(), logins[0].1.as_str(), logins[0].3),
        ("alice", "alice@example.com", 0)
    );
    assert!(logins[0].2.starts_with("$argon2id$"));
    // bob: no User Email, so his first ContactEmail in source order, lower-cased; must reset
    assert_eq!(
        (logins[1].1.as_str(), logins[1].2.as_str(), logins[1].3),
        ("bob@example.org", "!", 1)
    );
    // erin: an existing (well-formed) bcrypt hash is kept as it is
    assert_eq!(
        logins[2].2,
        "$2b$04$zgFReH9nEo0fHQWf3FkHVezSEl/VlvJMMj9RQ8/ox7h4c0YV7YT8a"
    );

    // --create-accounts=false overrides the Options sheet
    let r = ferry(
        d,
        &[
            "import",
            "in.xml",
            "opts",
            "--db",
            "b.db",
            "--create-accounts=false",
        ],
    );
    assert_eq!(r.code, 0);
    let n = int(d, "b.db", "SELECT count(*) FROM login");
    assert_eq!(n, 0);

    // reset tokens: one per must-reset login, stored only as hashes
    let r = ferry(d, &["logins", "reset-tokens", "--out", "tokens.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tokens = std::fs::read_to_string(d.join("tokens.csv")).unwrap();
    let lines: Vec<&str> = tokens.lines().collect();
    assert_eq!(lines.len(), 2, "{tokens}");
    let token = lines[1].split(',').nth(2).unwrap();
    assert_eq!(token.len(), 64);
    let stored = rows(d, "ferry.db", "SELECT token_hash FROM reset_token");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0][0], token);
    assert!(!String::from_utf8_lossy(&target_bytes(d, "ferry.db")).contains(token));
}
