//! The fingerprint key of card and account numbers (SPEC §4.6) lives in a key file outside the
//! target: no copy of the target (the file, its `.bak` backups, a `pg_dump`) holds it, so the
//! numbers cannot be brute-forced from their fingerprints with a copy alone; the same card in
//! two runs still has one fingerprint; a wrong or missing key is refused (exit 2) before
//! anything is written (a rehearsal without the key goes on with a throwaway key and says the
//! live run would stop); a test-only run and a re-import of masked numbers make no key; the
//! console fingerprints with the key it was given.

mod common;
use common::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};

const CARD: &str = "4111111111111111";
const ACCOUNT: &str = "000123456789";

/// An account with a card and a bank account (methods named `<prefix>-card`, `<prefix>-bank`).
fn input(prefix: &str) -> String {
    format!(
        r#"<Import>
  <User Name="alice" Owner="admin" Role="Customer"/>
  <UserPaymentMethod User="alice" Ref="{prefix}-card"/>
  <UserPaymentMethodCreditCard Ref="{prefix}-card" CardNumber="{CARD}" ExpiryMonth="12" ExpiryYear="2031" NameOnCard="Alice A"/>
  <UserPaymentMethod User="alice" Ref="{prefix}-bank"/>
  <UserPaymentMethodACH Ref="{prefix}-bank" RoutingNumber="011000015" AccountNumber="{ACCOUNT}" AccountType="Checking"/>
</Import>"#
    )
}

/// Writes `input(prefix)` to `dir/<prefix>.xml` and imports it (`extra` flags), logging to
/// `<prefix>.jsonl`.
fn import(dir: &Path, prefix: &str, extra: &[&str]) -> Run {
    let file = format!("{prefix}.xml");
    std::fs::write(dir.join(&file), input(prefix)).unwrap();
    let log = format!("{prefix}.jsonl");
    let mut args = vec!["import", file.as_str(), "--log", log.as_str()];
    args.extend(extra);
    ferry(dir, &args)
}

fn fingerprint_of(dir: &Path, method: &str) -> String {
    let r = rows(
        dir,
        "ferry.db",
        &format!(
            "SELECT card_fingerprint FROM user_payment_method_credit_card WHERE ref = '{method}' UNION ALL SELECT account_fingerprint FROM user_payment_method_ach WHERE ref = '{method}'"
        ),
    );
    assert_eq!(r.len(), 1, "{method}: {r:?}");
    r[0][0].clone()
}

fn hmac_hex(key: &[u8], number: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(number.as_bytes());
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (s.len().is_multiple_of(2) && s.is_ascii())
        .then(|| {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
                .collect()
        })
        .flatten()
}

/// Every copy of the target an attacker might get: on SQLite the file, its WAL and every
/// backup beside it; on PostgreSQL a `pg_dump` of the database.
fn copies(dir: &Path) -> Vec<(String, Vec<u8>)> {
    if pg() {
        let out = std::process::Command::new("pg_dump")
            .args(["--no-owner", "--no-privileges", "-d", &db(dir, "ferry.db")])
            .output()
            .expect("pg_dump (postgresql-client) is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return vec![("pg_dump".into(), out.stdout)];
    }
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("ferry.db") && p.is_file() {
            out.push((name, std::fs::read(&p).unwrap()));
        }
    }
    assert!(
        out.iter().any(|(n, _)| n.ends_with(".bak")),
        "a backup was taken"
    );
    out
}

/// The one key file the test's runs made, and the key in it.
fn the_key(dir: &Path) -> (PathBuf, Vec<u8>) {
    let files = key_files(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let key = unhex(text.trim()).expect("a key file is hex");
    assert_eq!(key.len(), 32);
    (files[0].clone(), key)
}

fn runs(dir: &Path) -> i64 {
    int(dir, "ferry.db", "SELECT count(*) FROM run")
}

#[test]
fn no_copy_of_the_target_holds_the_key_so_numbers_cannot_be_brute_forced() {
    let s = scratch();
    let d = s.path();
    let r = import(d, "one", &["--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (path, key) = the_key(d);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["fingerprint_key_created"], path.display().to_string());
    // Said where it is, on stderr and in the summary (a run's findings are about records).
    assert!(
        r.stderr.contains("A new fingerprint key")
            && r.stderr.contains(&path.display().to_string()),
        "{}",
        r.stderr
    );
    assert!(findings(&d.join("one.jsonl")).is_empty());
    // Private: the file 0600, its folder 0700.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    // A second run, so that a backup holds the fingerprints of the first (SQLite).
    let r = import(d, "two", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(key_files(d).len(), 1, "the same key");
    assert!(
        pg() || d.join("ferry.db.before-2.bak").exists(),
        "a backup was taken"
    );

    // With the key, the fingerprint is the HMAC of the number (the control).
    let fp = fingerprint_of(d, "one-card");
    assert_eq!(hmac_hex(&key, CARD), fp);
    assert_eq!(hmac_hex(&key, ACCOUNT), fingerprint_of(d, "one-bank"));

    use base64::Engine as _;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let needles: Vec<(String, Vec<u8>)> = vec![
        ("hex".into(), hex.clone().into_bytes()),
        ("HEX".into(), hex.to_uppercase().into_bytes()),
        (
            "base64".into(),
            base64::engine::general_purpose::STANDARD
                .encode(&key)
                .into_bytes(),
        ),
        (
            "base64url".into(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(&key)
                .into_bytes(),
        ),
        ("raw".into(), key.clone()),
    ];
    for (what, bytes) in copies(d) {
        let holds = bytes.windows(fp.len()).any(|w| w == fp.as_bytes());
        if ["ferry.db", "ferry.db.before-2.bak", "pg_dump"].contains(&what.as_str()) {
            assert!(holds, "{what} is a copy of the target after the first run");
        }
        for (form, n) in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_slice()),
                "{what} holds the fingerprint key ({form})"
            );
        }
        // The attack of issue 13: take every key-like value in the copy (64 hex digits, as
        // version 1 stored its key, or any ferry_meta value) and fingerprint the card's
        // candidates with it. No candidate key reproduces the stored fingerprint.
        let text = String::from_utf8_lossy(&bytes);
        let tokens: Vec<&str> = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .filter(|t| t.len() == 64 || t.len() == 32)
            .collect();
        assert!(
            !holds || !tokens.is_empty(),
            "{what}: the fingerprints are there to try"
        );
        for t in tokens {
            for candidate_key in [unhex(t).unwrap(), t.as_bytes().to_vec()] {
                assert_ne!(
                    hmac_hex(&candidate_key, CARD),
                    fp,
                    "{what}: {t} is the fingerprint key"
                );
            }
        }
    }
    for r in rows(d, "ferry.db", "SELECT value FROM ferry_meta") {
        assert_ne!(hmac_hex(r[0].as_bytes(), CARD), fp);
        if let Some(b) = unhex(&r[0]) {
            assert_ne!(hmac_hex(&b, CARD), fp);
        }
    }
}

#[test]
fn the_same_card_in_two_runs_and_on_another_machine_has_one_fingerprint() {
    let s = scratch();
    let d = s.path();
    assert_eq!(import(d, "one", &[]).code, 0);
    assert_eq!(import(d, "two", &[]).code, 0);
    let fp = fingerprint_of(d, "one-card");
    assert_eq!(fingerprint_of(d, "two-card"), fp, "a duplicate is found");
    assert_eq!(fingerprint_of(d, "two-bank"), fingerprint_of(d, "one-bank"));
    let (path, _) = the_key(d);

    // The consultant moves to another machine (another data folder): the target names a key
    // that is not there, so a run with numbers stops before writing, and says what to do.
    let elsewhere = d.join("other-home");
    let on_other = |args: &[&str]| {
        let out = command(d, args)
            .env("XDG_DATA_HOME", &elsewhere)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    std::fs::write(d.join("three.xml"), input("three")).unwrap();
    let before = (runs(d), row_counts(&d.join("ferry.db")));
    let (code, err) = on_other(&["import", "three.xml"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not here")
            && err.contains("--fingerprint-key FILE")
            && err.contains("FERRY_FINGERPRINT_KEY_FILE")
            && err.contains(&path.display().to_string()),
        "the message names the key's origin and how to give it: {err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(row_counts(&d.join("ferry.db")), before.1, "nothing written");
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT status FROM run ORDER BY id DESC LIMIT 1"
        ),
        [["failed"]]
    );
    // A rehearsal there goes on with a throwaway key (its data is rolled back anyway) and
    // warns that the live run would stop; the key stays where it is.
    let out = command(d, &["import", "three.xml", "--test-only", "--json"])
        .env("XDG_DATA_HOME", &elsewhere)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("the live run of these inputs would stop"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["fingerprint_key_missing"]
        .as_str()
        .unwrap()
        .contains("not here"));
    assert_eq!(row_counts(&d.join("ferry.db")), before.1, "nothing written");
    // A run without numbers needs no key.
    std::fs::write(
        d.join("plain.xml"),
        "<Import><User Name=\"bob\" Owner=\"admin\" Role=\"Customer\"/></Import>",
    )
    .unwrap();
    let (code, err) = on_other(&["import", "plain.xml"]);
    assert_eq!(code, 0, "{err}");
    // With the key file copied over, by flag or by environment: the same fingerprints.
    let copied = d.join("copied.key");
    std::fs::copy(&path, &copied).unwrap();
    let (code, err) = on_other(&["import", "three.xml", "--fingerprint-key", "copied.key"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fingerprint_of(d, "three-card"), fp);
    std::fs::write(d.join("four.xml"), input("four")).unwrap();
    let out = command(d, &["import", "four.xml"])
        .env("XDG_DATA_HOME", &elsewhere)
        .env("FERRY_FINGERPRINT_KEY_FILE", &copied)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fingerprint_of(d, "four-card"), fp);
    assert!(
        !elsewhere.join("ferry").exists(),
        "no key was made on the other machine"
    );
}

#[test]
fn a_wrong_key_is_refused_before_anything_is_written() {
    let s = scratch();
    let d = s.path();
    assert_eq!(import(d, "one", &[]).code, 0);
    std::fs::write(d.join("two.xml"), input("two")).unwrap();
    std::fs::write(d.join("wrong.key"), format!("{}\n", "5a".repeat(32))).unwrap();
    std::fs::write(d.join("broken.key"), "not a key\n").unwrap();
    for k in ["wrong.key", "broken.key"] {
        private(&d.join(k));
    }
    let before = (runs(d), row_counts(&d.join("ferry.db")));
    let unchanged = |what: &str| {
        assert_eq!(runs(d), before.0, "{what}: not even a run was recorded");
        assert_eq!(row_counts(&d.join("ferry.db")), before.1, "{what}");
    };
    for mode in [&[][..], &["--test-only"][..]] {
        let mut args = vec!["import", "two.xml", "--fingerprint-key", "wrong.key"];
        args.extend(mode);
        let r = ferry(d, &args);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("is not this target's key"),
            "{}",
            r.stderr
        );
        unchanged("wrong key");
    }
    let out = command(d, &["import", "two.xml"])
        .env("FERRY_FINGERPRINT_KEY_FILE", d.join("wrong.key"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    unchanged("wrong key by environment");
    let r = ferry(d, &["import", "two.xml", "--fingerprint-key", "broken.key"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a fingerprint key"), "{}", r.stderr);
    unchanged("broken key");
    // The console refuses to start with it rather than failing at the first upload.
    let r = ferry(
        d,
        &[
            "serve",
            "--fingerprint-key",
            "wrong.key",
            "--bind",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not this target's key"),
        "{}",
        r.stderr
    );
    // The right key (the target's own file, named explicitly) works.
    let (path, _) = the_key(d);
    let r = ferry(
        d,
        &[
            "import",
            "two.xml",
            "--fingerprint-key",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(fingerprint_of(d, "two-card"), fingerprint_of(d, "one-card"));
}

#[test]
fn a_test_only_run_and_masked_numbers_make_no_key() {
    let s = scratch();
    let d = s.path();
    // The target first: a test-only run on a missing ./ferry.db rehearses in a temporary one.
    assert_eq!(ferry(d, &["init"]).code, 0);
    let r = import(d, "one", &["--test-only", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(key_files(d).is_empty());
    assert!(r.stderr.contains("used a throwaway one"), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["fingerprint_key_temporary"], true);
    assert!(rows(
        d,
        "ferry.db",
        "SELECT key FROM ferry_meta WHERE key LIKE 'fingerprint%'"
    )
    .is_empty());

    // Export → import into a fresh target → export (SPEC §13): the masked numbers come back
    // masked, with their last four digits and no fingerprint, and need no key.
    assert_eq!(import(d, "one", &[]).code, 0);
    let r = ferry(d, &["export", "--format", "xml", "out.xml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(
        d,
        &[
            "import",
            "out.xml",
            "--db",
            "fresh.db",
            "--log",
            "fresh.jsonl",
        ],
    );
    assert!(r.code <= 1, "{}", r.stderr);
    assert_eq!(key_files(d).len(), 1, "no key for the fresh target");
    assert!(rows(
        d,
        "fresh.db",
        "SELECT key FROM ferry_meta WHERE key LIKE 'fingerprint%'"
    )
    .is_empty());
    assert_eq!(
        rows(
            d,
            "fresh.db",
            "SELECT card_last4, card_fingerprint FROM user_payment_method_credit_card"
        ),
        [["1111", "NULL"]]
    );
    let r = ferry(
        d,
        &["export", "--format", "xml", "again.xml", "--db", "fresh.db"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let methods = |f: &str| -> Vec<String> {
        std::fs::read_to_string(d.join(f))
            .unwrap()
            .lines()
            .filter(|l| l.contains("<UserPaymentMethod"))
            .map(|l| l.trim().to_string())
            .collect()
    };
    assert_eq!(methods("again.xml"), methods("out.xml"));
    assert!(methods("out.xml")
        .iter()
        .any(|l| l.contains("************1111")));
}

/// The console imports too: its runs take the key from `ferry serve --fingerprint-key FILE`
/// (here a file that does not exist yet, so the first live run with a card makes it).
#[test]
fn the_console_fingerprints_with_the_key_it_was_given() {
    use common::web::{agent, sign_in_cookie, Console, ADMIN};
    let s = scratch();
    let d = s.path();
    let console = Console::start_with(d, "ferry.db", &["--fingerprint-key", "console.key"]);
    let cookie = sign_in_cookie(&console, ADMIN)
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body = agent()
        .get(format!("{}/runs/new", console.url))
        .header("Cookie", &cookie)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let at = body.find("name=\"csrf\" value=\"").expect("a form") + 19;
    let csrf = body[at..].split('"').next().unwrap().to_string();
    let boundary = "ferrykeyboundary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"one.xml\"\r\nContent-Type: application/xml\r\n\r\n{}\r\n--{boundary}--\r\n",
        input("web")
    );
    let r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", &cookie)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .send(form.as_bytes())
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let st = rows(
            d,
            "ferry.db",
            "SELECT status FROM run ORDER BY id DESC LIMIT 1",
        );
        if st.first().is_some_and(|r| r[0] == "succeeded") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not finish: {st:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(d.join("console.key")).expect("the console made its key");
    let key = unhex(text.trim()).unwrap();
    assert_eq!(fingerprint_of(d, "web-card"), hmac_hex(&key, CARD));
    assert!(
        key_files(d).is_empty(),
        "not in the default folder: where it was told"
    );
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    for (what, bytes) in copies(d) {
        assert!(
            !bytes.windows(hex.len()).any(|w| w == hex.as_bytes()),
            "{what} holds the key"
        );
    }
}

fn private(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let s = scratch();
    let d = s.path();
    assert_eq!(import(d, "one", &[]).code, 0);
    let keys = key_files(d);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    std::fs::copy(key, d.join("copied.key")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.join("copied.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(d.join("two.xml"), input("two")).unwrap();
    let r = ferry(d, &["import", "two.xml", "--fingerprint-key", "copied.key"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("chmod 600"), "{}", r.stderr);
    private(&d.join("copied.key"));
    let r = ferry(d, &["import", "two.xml", "--fingerprint-key", "copied.key"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}
