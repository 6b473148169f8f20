//! Web logins after a migration (seed 000 "usernames and passwords", SPEC §8), through the real
//! binary on both backends: staff assign usernames and temporary passwords (shown once, stored
//! as Argon2id, to be changed), reset tokens are verified and consumed once, legacy hashes from
//! the source are kept, verified and upgraded at sign-in, malformed ones are refused without
//! being shown, passwords are hashed on several threads, logins commit with their chunk (a kill
//! keeps them, a resume neither loses nor duplicates them), every change is journaled, and no
//! password, token or hash appears in any output, journal or log.

mod common;
use common::*;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

/// `ferry` with `stdin` written to its standard input.
fn ferry_in(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = command(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

fn ferry_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = command(dir, args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Everything a person or script could see: outputs so far, the journal, the target.
struct Seen(Vec<(String, String)>);

impl Seen {
    fn add(&mut self, what: &str, r: &Run) {
        self.0.push((format!("{what} stdout"), r.stdout.clone()));
        self.0.push((format!("{what} stderr"), r.stderr.clone()));
    }
    fn assert_free_of(&self, secrets: &[&str]) {
        for (what, text) in &self.0 {
            for s in secrets {
                assert!(!text.contains(s), "{what} shows a secret ({s})");
            }
        }
    }
}

const PLAIN: &str = "Tr0ub4dor&3 horse";

#[test]
fn staff_assign_usernames_and_temporary_passwords_and_members_reset() {
    let s = scratch();
    let d = s.path();
    std::fs::write(
        d.join("in.xml"),
        format!(
            r#"<Import>
  <User Name="alice" Owner="admin" Role="Customer" Email="Alice@Example.com" Password="{}"/>
  <User Name="bob" Owner="admin" Role="Customer"/>
  <User Name="carol" Owner="admin" Role="Customer" Email="carol@example.com"/>
</Import>"#,
            PLAIN.replace('&', "&amp;")
        ),
    )
    .unwrap();
    let mut seen = Seen(vec![]);
    let r = ferry(
        d,
        &["import", "in.xml", "--create-accounts", "--log", "f.jsonl"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    seen.add("import", &r);

    // Listed without hashes; bob has no login and is listed as such.
    let r = ferry(d, &["logins", "list", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    seen.add("list", &r);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["username"], "alice@example.com");
    assert_eq!(list[0]["password"], "argon2id");
    assert_eq!(list[1]["must_reset"], true);
    assert!(!r.stdout.contains("$argon2"), "no hash in the list");
    let r = ferry(d, &["logins", "list", "--without-login"]);
    assert_eq!(r.stdout.trim(), "bob");

    // Usernames: any text without spaces, lower-cased, unique; an account without a login gets one.
    let r = ferry(
        d,
        &[
            "logins",
            "set-username",
            "bob",
            "Bob.Builder",
            "--by",
            "Jane Staff",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(d, &["logins", "set-username", "carol", "ALICE@example.com"]);
    assert_eq!(r.code, 1, "taken: {}", r.stderr);
    assert!(
        r.stderr
            .contains("already the username of account \"alice\""),
        "{}",
        r.stderr
    );
    assert_eq!(ferry(d, &["logins", "set-username", "nobody", "x"]).code, 2);
    assert_eq!(
        ferry(d, &["logins", "set-username", "carol", "two words"]).code,
        2
    );
    let r = ferry(d, &["logins", "set-username", "carol", "Carol.C"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = |user: &str| {
        rows(d, "ferry.db", &format!("SELECT username, password_hash, must_reset, must_change FROM login WHERE \"user\" = '{user}'"))[0].clone()
    };
    assert_eq!(state("bob")[0], "bob.builder");
    assert_eq!(state("bob")[1], "!", "a new login has no usable password");
    assert_eq!(state("carol")[0], "carol.c");

    // A temporary password: printed once on stdout, stored as Argon2id, to be changed.
    let r = ferry(
        d,
        &[
            "logins",
            "set-password",
            "bob",
            "--temporary",
            "--by",
            "Jane Staff",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let temp = r.stdout.trim().to_string();
    assert_eq!(temp.len(), 23, "{temp}");
    assert!(!r.stderr.contains(&temp));
    let bob = state("bob");
    assert!(
        bob[1].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        bob[1]
    );
    assert_eq!((bob[2].as_str(), bob[3].as_str()), ("0", "1"));
    let r = ferry_in(
        d,
        &["logins", "verify-password", "BOB.builder", "--json"],
        &format!("{temp}\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("must change"), "{}", r.stderr);
    seen.add("verify temp", &r);
    assert_eq!(
        ferry_in(
            d,
            &["logins", "verify-password", "bob.builder"],
            "wrong password!!\n"
        )
        .code,
        1
    );
    assert_eq!(
        ferry_in(
            d,
            &["logins", "verify-password", "nobody"],
            "wrong password!!\n"
        )
        .code,
        1
    );
    // The member chooses their own: "must change" is gone.
    let r = ferry_in(
        d,
        &["logins", "change-password", "bob.builder"],
        &format!("{temp}\nshort\n"),
    );
    assert_eq!(r.code, 1, "a weak password is refused: {}", r.stderr);
    let mine = "my own long passphrase";
    let r = ferry_in(
        d,
        &["logins", "change-password", "bob.builder"],
        &format!("{temp}\n{mine}\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    seen.add("change", &r);
    assert_eq!(state("bob")[3], "0");
    assert_eq!(
        ferry_in(
            d,
            &["logins", "verify-password", "bob.builder"],
            &format!("{temp}\n")
        )
        .code,
        1
    );

    // Reset tokens: carol must reset; verify, consume once, then used.
    let r = ferry(d, &["logins", "reset-tokens", "--out", "tokens.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv = std::fs::read_to_string(d.join("tokens.csv")).unwrap();
    // The only copy of the tokens in clear is its owner's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.join("tokens.csv"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "tokens.csv mode {mode:o}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("carol,carol.c,"), "{csv}");
    let token = lines[1].split(',').nth(2).unwrap().to_string();
    let r = ferry_in(
        d,
        &["logins", "verify-token", "--json"],
        &format!("{token}\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    seen.add("verify token", &r);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["state"].as_str(), v["username"].as_str()),
        (Some("valid"), Some("carol.c"))
    );
    let r = ferry_in(d, &["logins", "verify-token"], "0000\n");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("unknown"));
    let r = ferry_in(
        d,
        &["logins", "consume-token"],
        &format!("{token}\ntoo short\n"),
    );
    assert_eq!(r.code, 1, "weak: {}", r.stderr);
    let carol_pw = "carol's brand new passphrase";
    let r = ferry_in(
        d,
        &["logins", "consume-token"],
        &format!("{token}\n{carol_pw}\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    seen.add("consume", &r);
    assert_eq!(
        ferry_in(
            d,
            &["logins", "consume-token"],
            &format!("{token}\n{carol_pw}!\n")
        )
        .code,
        1
    );
    let r = ferry_in(d, &["logins", "verify-token"], &format!("{token}\n"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("used"), "{}", r.stderr);
    assert_eq!(state("carol")[2], "0");
    let r = ferry_in(
        d,
        &["logins", "verify-password", "carol.c"],
        &format!("{carol_pw}\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // An expired token is refused.
    assert_eq!(ferry(d, &["logins", "set-username", "bob", "bob2"]).code, 0);
    let t = target(d, "ferry.db");
    t.exec(
        "UPDATE login SET must_reset = 1 WHERE \"user\" = 'bob'",
        &[],
    )
    .unwrap();
    assert_eq!(
        ferry(d, &["logins", "reset-tokens", "--out", "t2.csv"]).code,
        0
    );
    let t2 = std::fs::read_to_string(d.join("t2.csv")).unwrap();
    let token2 = t2
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .to_string();
    t.exec(
        "UPDATE reset_token SET expires_at = '2020-01-01T00:00:00+00:00' WHERE used_at IS NULL",
        &[],
    )
    .unwrap();
    let r = ferry_in(d, &["logins", "verify-token"], &format!("{token2}\n"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("expired"), "{}", r.stderr);
    assert_eq!(
        ferry_in(
            d,
            &["logins", "consume-token"],
            &format!("{token2}\n{carol_pw}\n")
        )
        .code,
        1
    );

    // The journal: who did what, never a secret.
    let r = ferry(d, &["logins", "events", "--json", "--limit", "100"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    seen.add("events", &r);
    let ev: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let actions: Vec<&str> = ev.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in [
        "login_created",
        "username_set",
        "temporary_password_set",
        "password_changed",
        "reset_token_issued",
        "password_reset",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(ev.iter().any(|e| e["actor"] == "cli:Jane Staff"), "{ev:?}");
    assert!(ev
        .iter()
        .all(|e| e["actor"].as_str().unwrap().starts_with("cli:")));
    let r = ferry(d, &["logins", "events", "bob"]);
    seen.add("events bob", &r);
    seen.0.push((
        "target".into(),
        String::from_utf8_lossy(&target_bytes(d, "ferry.db")).into_owned(),
    ));
    seen.0.push((
        "log".into(),
        std::fs::read_to_string(d.join("f.jsonl")).unwrap(),
    ));
    seen.assert_free_of(&[&temp, &token, &token2, mine, carol_pw, PLAIN, "Tr0ub4dor"]);
}

/// Hashes of "correct horse battery staple" made by other implementations (Python's bcrypt,
/// argon2-cffi and hashlib), one per form a legacy system may export.
const LEGACY: &[&str] = &[
    "$2b$04$zgFReH9nEo0fHQWf3FkHVezSEl/VlvJMMj9RQ8/ox7h4c0YV7YT8a",
    "$2y$05$n1XDZqas3O/iaBR3WI3cfOXzpFcn4QwAVfrFPRp1WylXpHdsyWi4y",
    "bcrypt_sha256$$2b$04$SQ0GPfTDNwubtbYquciHBuDYf.tGXgAIjxS3Qd6okcGIEM4tX9aKi",
    "pbkdf2_sha256$1000$seasalt12345$lc9upgiPQ2muevvuisr7qA/SNSmKyk+QjwXhw/n1uhw=",
    "$pbkdf2-sha256$1200$AQIDBAUGBwgJCgsMDQ4PEA$QLD1e/5H83/f2snqfG0Hh0v1Z7O6MdqVq0ll2KX1pNY",
    "$argon2id$v=19$m=1024,t=1,p=2$Sm/zBdLX4BSy+B+VVcqtrg$hrmq9yXppsCzrXH1hoJa/BKq0bHico7WdKJSmBlsdSo",
    "argon2$argon2id$v=19$m=2048,t=1,p=1$NUQInmpcbVBs5GDiD1JpRg$msItpQaYZMlgFeYdZXENJyxUheO2T5P5bOE4aleiGVw",
];
const LEGACY_PASSWORD: &str = "correct horse battery staple";
/// A bcrypt hash cut short (as a spreadsheet column that was too narrow would), and a
/// SHA-512-crypt hash (a scheme Ferry does not verify).
const CUT: &str = "$2b$04$zgFReH9nEo0fHQWf3FkHVezSEl/VlvJMMj9RQ8";
const SHA512CRYPT: &str = "$6$saltsalt$Iq3E5qFZ6GGuU4VH0V4Jw6PUXHeVxJ0bV0QmKE1v9WzG";

#[test]
fn legacy_hashes_are_kept_verified_and_upgraded_at_sign_in() {
    let s = scratch();
    let d = s.path();
    let mut csv = String::from("Name,Owner,Role,Email,Password\n");
    for (i, h) in LEGACY.iter().enumerate() {
        // (Argon2's parameters hold commas: the field is quoted.)
        writeln!(
            csv,
            "legacy{i},admin,Customer,legacy{i}@example.org,\"{h}\""
        )
        .unwrap();
    }
    writeln!(csv, "plain,admin,Customer,plain@example.org,{PLAIN}").unwrap();
    writeln!(csv, "cut,admin,Customer,cut@example.org,{CUT}").unwrap();
    writeln!(csv, "sha,admin,Customer,sha@example.org,{SHA512CRYPT}").unwrap();
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::write(d.join("src/User.csv"), csv).unwrap();
    let mut seen = Seen(vec![]);
    let r = ferry(
        d,
        &[
            "import",
            "src",
            "--create-accounts",
            "--log",
            "f.jsonl",
            "--json",
        ],
    );
    assert_eq!(r.code, 1, "two records are refused: {}", r.stderr);
    seen.add("import", &r);
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(summary["logins"]["legacy_hashes"], LEGACY.len());
    assert_eq!(
        summary["logins"]["passwords_hashed"], 1,
        "only the plain one is hashed"
    );
    let f = findings(&d.join("f.jsonl"));
    let by = |code: &str| {
        f.iter()
            .find(|x| x["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {f:?}"))
    };
    let invalid = by("value.password_hash_invalid");
    assert_eq!(
        (
            invalid["key"].as_str(),
            invalid["field"].as_str(),
            invalid["value"].as_str()
        ),
        (Some("cut"), Some("Password"), Some("********"))
    );
    assert_eq!(invalid["column"], "5");
    assert!(invalid["message"].as_str().unwrap().contains("bcrypt"));
    let unsupported = by("value.password_hash_unsupported");
    assert_eq!(unsupported["key"], "sha");
    assert!(unsupported["message"]
        .as_str()
        .unwrap()
        .contains("SHA-512-crypt"));
    // Legacy hashes are stored exactly as given; the refused ones nowhere.
    for (i, h) in LEGACY.iter().enumerate() {
        let got = rows(
            d,
            "ferry.db",
            &format!("SELECT password_hash, must_reset FROM login WHERE \"user\" = 'legacy{i}'"),
        );
        assert_eq!(got, vec![vec![h.to_string(), "0".to_string()]]);
    }
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM login WHERE \"user\" IN ('cut', 'sha')"
        ),
        0
    );
    let r = ferry(d, &["logins", "list", "--legacy"]);
    assert_eq!(r.stdout.lines().count(), 1 + LEGACY.len(), "{}", r.stdout);
    assert!(
        r.stdout.contains("bcrypt")
            && r.stdout.contains("Django pbkdf2_sha256")
            && r.stdout.contains("PBKDF2-SHA256")
    );
    seen.add("list", &r);

    // First sign-in: verified with its own algorithm, then upgraded to Ferry's Argon2id.
    for i in 0..LEGACY.len() {
        let user = format!("legacy{i}@example.org");
        let r = ferry_in(
            d,
            &["logins", "verify-password", &user],
            "wrong horse battery staple\n",
        );
        assert_eq!(r.code, 1, "{user}");
        let r = ferry_in(
            d,
            &["logins", "verify-password", &user, "--json"],
            &format!("{LEGACY_PASSWORD}\n"),
        );
        assert_eq!(r.code, 0, "{user}: {}", r.stderr);
        assert!(r.stderr.contains("upgraded"), "{user}: {}", r.stderr);
        seen.add("verify", &r);
        let now = &rows(
            d,
            "ferry.db",
            &format!("SELECT password_hash FROM login WHERE \"user\" = 'legacy{i}'"),
        )[0][0];
        assert!(now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{now}");
        let r = ferry_in(
            d,
            &["logins", "verify-password", &user],
            &format!("{LEGACY_PASSWORD}\n"),
        );
        assert_eq!(r.code, 0);
        assert!(
            !r.stderr.contains("upgraded"),
            "once is enough: {}",
            r.stderr
        );
    }
    let r = ferry_in(
        d,
        &["logins", "verify-password", "plain@example.org"],
        &format!("{PLAIN}\n"),
    );
    assert_eq!((r.code, r.stderr.trim()), (0, "ok"));
    let upgrades = int(
        d,
        "ferry.db",
        "SELECT count(*) FROM login_event WHERE action = 'password_upgraded'",
    );
    assert_eq!(upgrades, LEGACY.len() as i64);
    assert_eq!(
        ferry(d, &["logins", "list", "--legacy"])
            .stdout
            .lines()
            .count(),
        1
    );
    let r = ferry(d, &["logins", "events", "--json"]);
    seen.add("events", &r);
    seen.0.push((
        "log".into(),
        std::fs::read_to_string(d.join("f.jsonl")).unwrap(),
    ));
    let runs = ferry(d, &["runs", "show", "1"]);
    seen.add("runs show", &runs);
    seen.0.push((
        "target".into(),
        String::from_utf8_lossy(&target_bytes(d, "ferry.db")).into_owned(),
    ));
    let mut secrets: Vec<&str> = vec![PLAIN, CUT, "saltsalt$Iq3E5q", LEGACY_PASSWORD];
    let lowered: Vec<String> = LEGACY.iter().map(|h| h.to_string()).collect();
    secrets.extend(lowered.iter().map(String::as_str));
    seen.assert_free_of(&secrets);
}

/// `n` accounts with passwords: even ones carry their own e-mail, odd ones get it from a
/// ContactEmail (their logins wait for the contact phase).
fn accounts(dir: &Path, n: usize) {
    let mut x = String::from("<Import>\n");
    for i in 0..n {
        let email = if i % 2 == 0 {
            format!(" Email=\"u{i}@example.org\"")
        } else {
            String::new()
        };
        writeln!(x, "  <User Name=\"U{i:04}\" Owner=\"admin\" Role=\"Customer\" Password=\"secret-{i}-horse\"{email}/>").unwrap();
    }
    for i in (1..n).step_by(2) {
        writeln!(
            x,
            "  <Contact User=\"U{i:04}\" ContactName=\"C{i}\" ContactType=\"Billing Contact\"/>"
        )
        .unwrap();
        writeln!(
            x,
            "  <ContactEmail User=\"U{i:04}\" ContactName=\"C{i}\" Email=\"c{i}@example.org\"/>"
        )
        .unwrap();
    }
    x.push_str("</Import>\n");
    std::fs::write(dir.join("many.xml"), x).unwrap();
}

fn logins(dir: &Path, db: &str) -> Vec<Vec<String>> {
    rows(dir, db, "SELECT \"user\", username, must_reset, substr(password_hash, 1, 31) FROM login ORDER BY \"user\"")
}

#[test]
fn passwords_hash_on_several_threads_and_logins_commit_with_their_chunks() {
    let s = scratch();
    let d = s.path();
    let n = 160;
    accounts(d, n);
    let base = [
        "import",
        "many.xml",
        "--create-accounts",
        "--chunk-size",
        "40",
        "--no-backup",
    ];
    let run = |db: &str, env: &[(&str, &str)], extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(["--db", db]);
        args.extend(extra);
        ferry_env(d, &args, env)
    };
    let started = std::time::Instant::now();
    let r = run("clean.db", &[("RAYON_NUM_THREADS", "4")], &["--json"]);
    let parallel = started.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let l = &summary["logins"];
    assert_eq!(l["created"], n);
    assert_eq!(l["passwords_hashed"], n);
    assert_eq!(l["hash_threads"], 4);
    assert!(
        l["hash_threads_used"].as_u64().unwrap() >= 2,
        "hashing ran on one thread: {l}"
    );
    assert_eq!(l["argon2"], serde_json::json!([19456, 2, 1]));
    assert!(
        r.stderr.contains("passwords hashed with Argon2id"),
        "{}",
        r.stderr
    );
    let want = logins(d, "clean.db");
    assert_eq!(want.len(), n);
    assert!(want
        .iter()
        .all(|r| r[2] == "0" && r[3] == "$argon2id$v=19$m=19456,t=2,p=1$"));
    // Measured, not asserted: the same import with one hashing thread.
    let started = std::time::Instant::now();
    assert_eq!(run("one.db", &[("RAYON_NUM_THREADS", "1")], &[]).code, 0);
    eprintln!(
        "{n} accounts with passwords: {:.2} s on 4 hashing threads, {:.2} s on 1 ({} cores)",
        parallel.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    // Killed after the second chunk of accounts: their logins are committed with them.
    let r = run("k1.db", &[("FERRY_FAIL_AT", "after-commit:2")], &[]);
    assert!(r.code == -1 || r.code == 137, "not killed: {}", r.stderr);
    let kept = logins(d, "k1.db");
    assert_eq!(
        kept.len(),
        40,
        "the even accounts of two chunks of 40: {kept:?}"
    );
    assert_eq!(int(d, "k1.db", "SELECT count(*) FROM \"user\""), 80);
    // Killed in the contact phase (logins from ContactEmails), and before a commit.
    let r2 = run("k2.db", &[("FERRY_FAIL_AT", "mid-chunk:250")], &[]);
    assert!(r2.code == -1 || r2.code == 137, "not killed: {}", r2.stderr);
    let r3 = run("k3.db", &[("FERRY_FAIL_AT", "before-commit:3")], &[]);
    assert!(r3.code == -1 || r3.code == 137, "not killed: {}", r3.stderr);
    for db in ["k1.db", "k2.db", "k3.db"] {
        let r = run(db, &[], &["--resume"]);
        assert_eq!(r.code, 0, "{db}: {}", r.stderr);
        assert_eq!(
            logins(d, db),
            want,
            "{db}: the logins differ from an uninterrupted run"
        );
        assert_eq!(int(d, db, "SELECT count(*) FROM run"), 1);
        assert_eq!(int(d, db, "SELECT count(*) FROM pending_login"), 0);
        // Every password still verifies (hashed once, with its own salt).
        for i in [0, 1, n - 1] {
            let user = if i % 2 == 0 {
                format!("u{i}@example.org")
            } else {
                format!("c{i}@example.org")
            };
            let r = ferry_in(
                d,
                &["logins", "verify-password", &user, "--db", db],
                &format!("secret-{i}-horse\n"),
            );
            assert_eq!(r.code, 0, "{db} {user}: {}", r.stderr);
        }
    }
}

#[test]
fn rollback_removes_the_logins_of_its_accounts_and_keeps_their_journal() {
    let s = scratch();
    let d = s.path();
    std::fs::write(
        d.join("in.xml"),
        r#"<Import>
  <User Name="alice" Owner="admin" Role="Customer" Email="alice@example.com"/>
  <User Name="bob" Owner="admin" Role="Customer"/>
</Import>"#,
    )
    .unwrap();
    assert_eq!(ferry(d, &["import", "in.xml", "--create-accounts"]).code, 0);
    // Staff give bob (no e-mail) a login: it belongs to no run, but goes with its account.
    assert_eq!(ferry(d, &["logins", "set-username", "bob", "bob"]).code, 0);
    assert_eq!(ferry(d, &["logins", "set-password", "alice"]).code, 0);
    assert_eq!(int(d, "ferry.db", "SELECT count(*) FROM login"), 2);
    let r = ferry(d, &["rollback", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(int(d, "ferry.db", "SELECT count(*) FROM login"), 0);
    assert_eq!(int(d, "ferry.db", "SELECT count(*) FROM login_event"), 2);
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM login_event WHERE login_id IS NOT NULL"
        ),
        0
    );
    let r = ferry(d, &["logins", "events"]);
    assert!(
        r.stdout.contains("login_created") && r.stdout.contains("temporary_password_set"),
        "{}",
        r.stdout
    );
}

#[test]
fn accounts_updated_by_a_later_run_get_logins_and_their_passwords_are_never_replaced() {
    let s = scratch();
    let d = s.path();
    // Run 1 migrates the accounts without logins.
    std::fs::write(
        d.join("accounts.xml"),
        r#"<Import>
  <User Name="alice" Owner="admin" Role="Customer" Email="alice@example.com"/>
  <User Name="bob" Owner="admin" Role="Customer" Email="bob@example.com"/>
</Import>"#,
    )
    .unwrap();
    assert_eq!(ferry(d, &["import", "accounts.xml"]).code, 0);
    // Run 2: the same accounts with passwords, as updates with CreateAccounts: both get logins
    // (alice's record is otherwise identical, bob's changes), hashed, never in clear.
    std::fs::write(
        d.join("with-passwords.xml"),
        r#"<Import>
  <User Name="alice" Owner="admin" Role="Customer" Email="alice@example.com" Password="Alice-first-9"/>
  <User Name="bob" Owner="admin" Role="Customer" Email="bob@example.com" BillDay="3" Password="Bob-first-9"/>
</Import>"#,
    )
    .unwrap();
    let args = ["--create-accounts", "--on-existing", "update"];
    let r = ferry(d, &[&["import", "with-passwords.xml"][..], &args].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let l = logins(d, "ferry.db");
    assert_eq!(l.len(), 2, "{l:?}");
    assert!(
        l.iter()
            .all(|r| r[2] == "0" && r[3].starts_with("$argon2id$")),
        "{l:?}"
    );
    let first = rows(
        d,
        "ferry.db",
        "SELECT password_hash FROM login ORDER BY \"user\"",
    );
    // Run 3: other passwords for accounts that have logins: not applied, said so (never shown).
    std::fs::write(
        d.join("again.xml"),
        r#"<Import>
  <User Name="alice" Owner="admin" Role="Customer" Email="alice@example.com" BillDay="5" Password="Alice-second-9"/>
</Import>"#,
    )
    .unwrap();
    let r = ferry(
        d,
        &[&["import", "again.xml", "--log", "run3.jsonl"][..], &args].concat(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("run3.jsonl"));
    let exists: Vec<_> = f.iter().filter(|f| f["code"] == "login.exists").collect();
    assert_eq!(exists.len(), 1, "{f:?}");
    assert_eq!(exists[0]["key"], "alice");
    assert_eq!(exists[0]["field"], "Password");
    assert_eq!(exists[0]["value"], "");
    assert!(!r.stderr.contains("Alice-second-9"));
    assert!(!r.stdout.contains("Alice-second-9"));
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT password_hash FROM login ORDER BY \"user\""
        ),
        first
    );
    // Rolling back run 2 takes its logins away with it.
    assert_eq!(ferry(d, &["rollback", "3"]).code, 0);
    assert_eq!(ferry(d, &["rollback", "2"]).code, 0);
    assert_eq!(int(d, "ferry.db", "SELECT count(*) FROM login"), 0);
}

#[test]
fn search_is_literal_and_token_validity_is_bounded() {
    let s = scratch();
    let d = s.path();
    std::fs::write(
        d.join("in.xml"),
        r#"<Import>
  <User Name="a_b" Owner="admin" Role="Customer" Email="ab@example.com"/>
  <User Name="axb" Owner="admin" Role="Customer" Email="axb@example.com"/>
  <User Name="100%" Owner="admin" Role="Customer" Email="full@example.com"/>
</Import>"#,
    )
    .unwrap();
    assert_eq!(ferry(d, &["import", "in.xml", "--create-accounts"]).code, 0);
    let r = ferry(d, &["logins", "list", "--search", "a_b"]);
    assert!(
        r.stdout.contains("a_b") && !r.stdout.contains("axb"),
        "{}",
        r.stdout
    );
    let r = ferry(d, &["logins", "list", "--search", "%"]);
    assert!(
        r.stdout.contains("100%") && !r.stdout.contains("axb"),
        "{}",
        r.stdout
    );
    // Validity: 1 to 365 days; anything else is a usage error, and no file is written.
    for days in ["0", "366", "99999999999999"] {
        let r = ferry(
            d,
            &["logins", "reset-tokens", "--out", "t.csv", "--days", days],
        );
        assert_eq!(r.code, 2, "{days}: {}", r.stderr);
        assert!(!d.join("t.csv").exists());
    }
    let r = ferry(
        d,
        &["logins", "reset-tokens", "--out", "t.csv", "--days", "365"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(d.join("t.csv")).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    // Expiry in UTC, a year on.
    let year = (chrono::Utc::now() + chrono::Duration::days(365)).format("%Y");
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.ends_with('Z') && l.contains(&format!(",{year}-"))),
        "{text}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty());
}
