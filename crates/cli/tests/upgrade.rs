//! `ferry upgrade check|rehearse|apply` and `ferry config export|import` on a target made by
//! Ferry's schema version 1 (`tests/fixtures/targets/`), on SQLite and — with
//! `FERRY_TEST_BACKEND=postgres` — on PostgreSQL.

mod common;
use common::*;
use std::path::Path;

/// Puts the version-1 fixture target in place as `--db v1.db` of `dir`; returns the `--db`
/// value as the test's backend sees it.
fn v1_target(dir: &Path) -> String {
    let db = db(dir, "v1.db");
    if pg() {
        let name = db.rsplit('/').next().unwrap().to_string();
        let mut c = postgres::Client::connect(&format!("{PG_SERVER}/postgres"), postgres::NoTls)
            .expect("PostgreSQL server");
        c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap();
        let out = std::process::Command::new("psql")
            .args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", &db, "-f"])
            .arg(fixture("targets/v1-club.pg.sql"))
            .output()
            .expect("psql (postgresql-client) is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        std::fs::copy(fixture("targets/v1-club.db"), dir.join("v1.db")).unwrap();
    }
    db
}

/// Runs SQL on a target of any version.
fn sql(db: &str, dir: &Path, text: &str) {
    let db = if pg() {
        db.to_string()
    } else {
        dir.join(db).display().to_string()
    };
    let t = ferry_store::Target::open_unchecked(&db).unwrap();
    t.batch(text).unwrap();
}

fn open_any(dir: &Path, db: &str) -> ferry_store::Target {
    let db = if pg() {
        db.to_string()
    } else {
        dir.join(db).display().to_string()
    };
    ferry_store::Target::open_unchecked(&db).unwrap()
}

/// Everything a target holds, schema and rows, as text (to prove "unchanged").
fn dump(dir: &Path, db: &str) -> String {
    if pg() {
        let out = std::process::Command::new("pg_dump")
            .args(["--no-owner", "--no-privileges", "-d", db])
            .output()
            .expect("pg_dump (postgresql-client) is installed");
        assert!(out.status.success());
        // A dump's \restrict key is random per dump.
        return String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            // The writer lock's row (a killed upgrade leaves it; the next writer takes it over).
            .filter(|l| !l.starts_with("writer\t"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    let c = rusqlite::Connection::open(dir.join(db)).unwrap();
    let mut out = String::new();
    // The writer lock's row (the backup is taken while the upgrade holds it).
    let objects: Vec<(String, String, String)> = c
        .prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for (kind, name, text) in &objects {
        out.push_str(&format!("{kind} {name}: {text}\n"));
        if kind == "table" {
            let mut st = c
                .prepare(&format!("SELECT * FROM \"{name}\" ORDER BY rowid"))
                .unwrap();
            let n = st.column_count();
            let mut rows = st.query([]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                let vals: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect();
                if name == "ferry_meta" && r.get::<_, String>(0).unwrap() == "writer" {
                    continue;
                }
                out.push_str(&vals.join("|"));
                out.push('\n');
            }
        }
    }
    out
}

/// The sum of one counter over every entity type of an `--json` run summary.
fn total(summary: &serde_json::Value, counter: &str) -> i64 {
    summary["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[1][counter].as_i64().unwrap())
        .sum()
}

/// Asserts two dumps are equal, showing the first difference only (dumps are long).
#[track_caller]
fn same(a: &str, b: &str) {
    if a != b {
        let (x, y) = a
            .lines()
            .zip(b.lines())
            .find(|(x, y)| x != y)
            .unwrap_or(("(shorter)", "(longer)"));
        panic!("the target changed:\n  was: {x:.300}\n  now: {y:.300}");
    }
}

/// The customizations a site adds by hand: a table, a view over a product column that the
/// upgrade renames, a trigger, an index and a column added to a product table (PostgreSQL: the
/// trigger's function too).
fn customize(dir: &Path, db: &str) {
    let common = "CREATE VIEW tax_lines AS SELECT \"user\", rank, amount_e4 FROM ledger_line WHERE kind LIKE '%tax';
         CREATE INDEX invoice_by_total ON invoice (total_e4);
         ALTER TABLE \"user\" ADD COLUMN loyalty_tier TEXT;";
    if pg() {
        sql(
            db,
            dir,
            &format!(
                "CREATE TABLE member_notes (id BIGSERIAL PRIMARY KEY, \"user\" TEXT, note TEXT);
                 {common}
                 CREATE FUNCTION note_closed() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN INSERT INTO member_notes (\"user\", note) VALUES (NEW.\"user\", 'invoice closed'); RETURN NEW; END $$;
                 CREATE TRIGGER invoice_closed_audit AFTER UPDATE OF closed ON invoice FOR EACH ROW EXECUTE FUNCTION note_closed();"
            ),
        );
    } else {
        sql(
            db,
            dir,
            &format!(
                "CREATE TABLE member_notes (id INTEGER PRIMARY KEY, \"user\" TEXT, note TEXT);
                 {common}
                 CREATE TRIGGER invoice_closed_audit AFTER UPDATE OF closed ON invoice
                 BEGIN INSERT INTO member_notes (\"user\", note) VALUES (new.\"user\", 'invoice closed'); END;"
            ),
        );
    }
}

fn check_json(dir: &Path, db: &str) -> serde_json::Value {
    let r = ferry(dir, &["upgrade", "check", "--db", db, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn a_target_of_the_earlier_version_is_refused_with_the_command_that_upgrades_it() {
    let s = scratch();
    let dir = s.path();
    let db = v1_target(dir);
    let r = ferry(
        dir,
        &[
            "import",
            example("club/club.xlsx").to_str().unwrap(),
            "--db",
            &db,
            "--test-only",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("schema version 1")
            && r.stderr.contains("needs version 2")
            && r.stderr.contains("ferry upgrade apply --db"),
        "{}",
        r.stderr
    );
    // Nothing was written by the refused run.
    assert_eq!(
        open_any(dir, &db)
            .int("SELECT count(*) FROM run", &[])
            .unwrap(),
        2
    );
}

#[test]
fn the_audit_lists_exactly_the_customizations_and_what_the_upgrade_does_to_them() {
    let s = scratch();
    let dir = s.path();
    let db = v1_target(dir);
    let plain = check_json(dir, &db);
    assert_eq!(plain["version"], 1);
    assert_eq!(plain["current"], 2);
    assert_eq!(plain["pending"].as_array().unwrap().len(), 1);
    assert_eq!(plain["customizations"], serde_json::json!([]), "{plain:#}");

    customize(dir, &db);
    let c = check_json(dir, &db);
    let mut found: Vec<(String, String)> = c["customizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["kind"].as_str().unwrap().to_string(),
                x["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    let mut wanted = vec![
        ("column", "user.loyalty_tier"),
        ("index", "invoice_by_total"),
        ("table", "member_notes"),
        ("trigger", "invoice_closed_audit"),
        ("view", "tax_lines"),
    ];
    if pg() {
        wanted.push(("function", "note_closed()"));
    }
    let mut wanted: Vec<(String, String)> = wanted
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    wanted.sort();
    assert_eq!(found, wanted);
    for x in c["customizations"].as_array().unwrap() {
        let impacts = x["impacts"].as_array().unwrap();
        if x["name"] == "tax_lines" {
            assert_eq!(impacts.len(), 1, "{x:#}");
            assert_eq!(impacts[0]["effect"], "breaks");
            assert_eq!(
                impacts[0]["reason"],
                "uses ledger_line.rank, which migration 2 renames to tax_rank"
            );
        } else {
            assert!(impacts.is_empty(), "{x:#}");
        }
    }
    // For people: the same, readable.
    let r = ferry(dir, &["upgrade", "check", "--db", &db]);
    assert_eq!(r.code, 0);
    for w in [
        "schema version 1; this Ferry uses version 2",
        "renames column ledger_line.rank to tax_rank",
        "Customizations: 5",
        "BREAKS: uses ledger_line.rank",
    ] {
        let w = if pg() && w == "Customizations: 5" {
            "Customizations: 6"
        } else {
            w
        };
        assert!(r.stderr.contains(w), "{w:?} in {}", r.stderr);
    }

    // A target Ferry created itself has none.
    let fresh = db_name_init(dir, "fresh.db");
    let c = check_json(dir, &fresh);
    assert_eq!(c["customizations"], serde_json::json!([]), "{c:#}");
    assert_eq!(c["pending"], serde_json::json!([]));
}

/// On PostgreSQL a view in another schema that reads the target's tables is a customization too.
#[test]
fn a_view_in_another_schema_over_a_product_table_is_audited() {
    if !pg() {
        return;
    }
    let s = scratch();
    let dir = s.path();
    let db = v1_target(dir);
    sql(
        &db,
        dir,
        "CREATE SCHEMA reporting; CREATE VIEW reporting.tax_by_rank AS SELECT rank, sum(amount_e4) AS total FROM public.ledger_line GROUP BY rank",
    );
    let c = check_json(dir, &db);
    let x = &c["customizations"][0];
    assert_eq!(x["name"], "reporting.tax_by_rank", "{c:#}");
    assert_eq!(x["impacts"][0]["effect"], "breaks");
    assert_eq!(c["customizations"].as_array().unwrap().len(), 1);
}

fn db_name_init(dir: &Path, name: &str) -> String {
    let r = ferry(dir, &["init", "--db", name]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    db(dir, name)
}

#[test]
fn a_rehearsal_upgrades_a_copy_and_leaves_the_target_untouched() {
    let s = scratch();
    let dir = s.path();
    let db = v1_target(dir);
    customize(dir, &db);
    let before = dump(dir, &db);
    let files_before = std::fs::read_dir(dir).unwrap().count();
    let r = ferry(dir, &["upgrade", "rehearse", "--db", &db, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["from"], 1);
    assert_eq!(v["to"], 2);
    assert_eq!(v["rehearsal"], true);
    assert_eq!(v["customizations_at_risk"].as_array().unwrap().len(), 1);
    assert!(r.stderr.contains("Checks passed"), "{}", r.stderr);
    assert!(r
        .stderr
        .contains("The target itself was not touched; the copy was removed"));
    same(&dump(dir, &db), &before);
    assert_eq!(
        open_any(dir, &db).schema_version().unwrap(),
        Some(1),
        "still version 1"
    );
    if pg() {
        let mut c =
            postgres::Client::connect(&format!("{PG_SERVER}/postgres"), postgres::NoTls).unwrap();
        let base = db.rsplit('/').next().unwrap();
        let left: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname LIKE $1",
                &[&format!("{base}_rehearsal%")],
            )
            .unwrap()
            .get(0);
        assert_eq!(left, 0, "the rehearsal's copy is dropped");
    } else {
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), files_before);
    }
}

#[test]
fn apply_upgrades_with_identical_data_and_ledger_totals() {
    let s = scratch();
    let dir = s.path();
    let db = v1_target(dir);
    customize(dir, &db);
    let t = open_any(dir, &db);
    // The tables of version 1: entity types that are new in version 2 have none there.
    let tables: Vec<String> = ferry_catalogue::ENTITIES
        .iter()
        .filter(|e| !e.is_certification() && e.group != ferry_catalogue::Group::Configuration)
        .map(|e| e.table())
        .chain(
            [
                "invoice",
                "ledger_line",
                "disbursement",
                "login",
                "run",
                "run_finding",
            ]
            .map(String::from),
        )
        .collect();
    let count = |t: &ferry_store::Target| -> Vec<(String, i64)> {
        tables
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    t.int(&format!("SELECT count(*) FROM \"{n}\""), &[])
                        .unwrap(),
                )
            })
            .collect()
    };
    let totals = "SELECT kind, count(*), sum(amount_e4), sum(disbursed_e4) FROM ledger_line GROUP BY kind ORDER BY kind";
    let rows_of = |t: &ferry_store::Target, q: &str| -> Vec<String> {
        t.rows(q, &[])
            .unwrap()
            .iter()
            .map(|r| format!("{:?}", r.0))
            .collect()
    };
    let (counts_before, totals_before) = (count(&t), rows_of(&t, totals));
    drop(t);

    // The view over a column the upgrade renames: refused unless forced, and untouched.
    let before = dump(dir, &db);
    let r = ferry(dir, &["upgrade", "apply", "--db", &db]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("not upgraded: 1 customization(s)"),
        "{}",
        r.stderr
    );
    same(&dump(dir, &db), &before);

    let r = ferry(dir, &["upgrade", "apply", "--db", &db, "--force", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["from"], 1);
    assert_eq!(v["to"], 2);
    assert_eq!(v["broken_references"], serde_json::json!({}), "{v:#}");
    let backup = v["backup"].as_str().unwrap().to_string();

    let t = open_any(dir, &db);
    assert_eq!(t.schema_version().unwrap(), Some(2));
    assert_eq!(count(&t), counts_before);
    assert_eq!(rows_of(&t, totals), totals_before);
    // The customizations are still there (the renamed column is followed by the view).
    assert!(t.int("SELECT count(*) FROM tax_lines", &[]).unwrap() > 0);
    drop(t);
    // Balances are those the example's answer key gives.
    let r = ferry(dir, &["report", "balances", "--db", &db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        std::fs::read_to_string(example("club/expected_balances.csv")).unwrap()
    );
    // The upgraded target works: importing the same data again skips every record.
    let r = ferry(
        dir,
        &[
            "import",
            example("club/club.xlsx").to_str().unwrap(),
            "--db",
            &db,
            "--on-existing",
            "skip",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(total(&s, "imported"), 0, "{s:#}");
    assert!(total(&s, "skipped") > 100, "{s:#}");
    // Nothing pending any more; the backup is the target as it was.
    let c = check_json(dir, &db);
    assert_eq!(c["pending"], serde_json::json!([]));
    let b = if pg() {
        ferry_store::pg::with_dbname(&db, &backup)
    } else {
        backup.clone()
    };
    if pg() {
        let name = backup.clone();
        let _cleanup = DropDb(name);
        assert_eq!(
            ferry_store::Target::open_unchecked(&b)
                .unwrap()
                .schema_version()
                .unwrap(),
            Some(1)
        );
    } else {
        same(&dump(dir, &b), &before);
    }
    // Again: nothing to do.
    let r = ferry(dir, &["upgrade", "apply", "--db", &db]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("nothing to do"), "{}", r.stderr);
}

/// Drops a PostgreSQL database when it goes out of scope.
struct DropDb(String);
impl Drop for DropDb {
    fn drop(&mut self) {
        if let Ok(mut c) =
            postgres::Client::connect(&format!("{PG_SERVER}/postgres"), postgres::NoTls)
        {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.0
            ));
        }
    }
}

#[test]
fn a_migration_that_fails_half_way_leaves_the_target_as_it_was() {
    let s = scratch();
    let dir = s.path();
    let db = v1_target(dir);
    // A site's own table with the name of one the upgrade creates: the audit says so, apply
    // refuses, and forced it fails after the first statements — and undoes them.
    sql(&db, dir, "CREATE TABLE saved_query (id INTEGER, text TEXT)");
    let c = check_json(dir, &db);
    let x = &c["customizations"][0];
    assert_eq!(x["name"], "saved_query");
    assert_eq!(x["impacts"][0]["effect"], "conflicts");
    let before = dump(dir, &db);
    let r = ferry(dir, &["upgrade", "apply", "--db", &db, "--no-backup"]);
    assert_eq!(r.code, 1);
    let r = ferry(
        dir,
        &["upgrade", "apply", "--db", &db, "--no-backup", "--force"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("migration 2 failed at statement")
            && r.stderr.contains("the target is as it was"),
        "{}",
        r.stderr
    );
    same(&dump(dir, &db), &before);
    sql(&db, dir, "DROP TABLE saved_query");
    let before = dump(dir, &db);

    // Killed in the middle (SIGKILL after the second statement): as it was, and the upgrade
    // can then be applied.
    let out = command(dir, &["upgrade", "apply", "--db", &db, "--no-backup"])
        .env("FERRY_FAIL_AT", "upgrade:2")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    if pg() {
        // The server ends the killed session's transaction a moment later.
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    same(&dump(dir, &db), &before);
    // An injected error at statement 3.
    let out = command(dir, &["upgrade", "apply", "--db", &db, "--no-backup"])
        .env("FERRY_FAIL_AT", "upgrade-error:3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    same(&dump(dir, &db), &before);
    let r = ferry(dir, &["upgrade", "apply", "--db", &db, "--no-backup"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(open_any(dir, &db).schema_version().unwrap(), Some(2));
}

#[test]
fn configuration_moves_between_targets_idempotently() {
    let s = scratch();
    let dir = s.path();
    std::fs::write(
        dir.join("config.xml"),
        r#"<Import>
  <BillGroup Name="Quarterly"/>
  <SavedMapping Name="Old CRM" Entity="User" Column="Member No" Field="Name"/>
  <SavedQuery Name="Open invoices" Description="Invoices not closed" Sql="SELECT &quot;user&quot;, name FROM invoice WHERE closed = 0"/>
</Import>"#,
    )
    .unwrap();
    let r = ferry(dir, &["import", "config.xml", "--db", "test.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(
        dir,
        &["config", "export", "--db", "test.db", "exported.xml"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(dir.join("exported.xml")).unwrap();
    assert!(
        text.contains("Open invoices") && text.contains("Quarterly") && text.contains("Member No")
    );
    assert!(!text.contains("<User>"), "configuration only");

    for (i, imported) in [(1, true), (2, false)] {
        let r = ferry(
            dir,
            &[
                "config",
                "import",
                "--db",
                "live.db",
                "exported.xml",
                "--json",
            ],
        );
        assert_eq!(r.code, 0, "run {i}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let n = total(&v, "imported") + total(&v, "updated");
        assert_eq!(n > 0, imported, "run {i}: {v:#}");
    }
    assert_eq!(
        rows(dir, "live.db", "SELECT name, sql FROM saved_query"),
        vec![vec![
            "Open invoices".to_string(),
            "SELECT \"user\", name FROM invoice WHERE closed = 0".to_string()
        ]]
    );
    assert_eq!(
        int(
            dir,
            "live.db",
            "SELECT count(*) FROM bill_group WHERE name = 'Quarterly'"
        ),
        1
    );
}

/// Version 1 kept the fingerprint key of card and account numbers in `ferry_meta`: any copy of
/// the target could be brute-forced back to the numbers. The upgrade removes the key and the
/// fingerprints made with it, leaves neither in the target's file or dump, says which copies
/// still hold them, and new fingerprints come from a key outside the target.
#[test]
fn the_upgrade_takes_the_fingerprint_key_out_of_the_target() {
    use hmac::Mac;
    let hmac = |key: &[u8], number: &str| -> String {
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        m.update(number.as_bytes());
        m.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let unhex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let s = scratch();
    let dir = s.path();
    let db = v1_target(dir);
    let t = open_any(dir, &db);
    let one =
        |q: &str| -> Vec<String> { t.rows(q, &[]).unwrap().iter().map(|r| r.text(0)).collect() };
    let old_key = one("SELECT value FROM ferry_meta WHERE key = 'fingerprint_key'");
    assert_eq!(old_key.len(), 1, "version 1 kept the key in the target");
    let old_key = old_key[0].clone();
    let old_fps = one("SELECT card_fingerprint FROM user_payment_method_credit_card UNION ALL SELECT account_fingerprint FROM user_payment_method_ach");
    assert_eq!(old_fps.len(), 4);
    // The attack: the key from the copy fingerprints the club's test card to the stored value.
    let fp = one(
        "SELECT card_fingerprint FROM user_payment_method_credit_card WHERE ref = 'PM-HSC-0001-1'",
    );
    assert_eq!(hmac(&unhex(&old_key), "4111111111111111"), fp[0]);
    drop(t);

    // The audit knows what migration 2 does to them, and that a trigger on those rows would run.
    let c = check_json(dir, &db);
    let changes = c["pending"][0]["changes"].as_array().unwrap();
    for want in [
        serde_json::json!({"change": "delete_rows", "table": "ferry_meta", "condition": "key = 'fingerprint_key'"}),
        serde_json::json!({"change": "clear_column", "table": "user_payment_method_credit_card", "column": "card_fingerprint"}),
        serde_json::json!({"change": "clear_column", "table": "user_payment_method_ach", "column": "account_fingerprint"}),
    ] {
        assert!(changes.contains(&want), "{want} in {changes:#?}");
    }
    let trigger = if pg() {
        "CREATE FUNCTION card_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER card_audit AFTER UPDATE ON user_payment_method_credit_card FOR EACH ROW EXECUTE FUNCTION card_copy();"
    } else {
        "CREATE TRIGGER card_audit AFTER UPDATE ON user_payment_method_credit_card BEGIN SELECT 1; END;"
    };
    sql(&db, dir, trigger);
    let c = check_json(dir, &db);
    let audit = c["customizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "card_audit")
        .unwrap()
        .clone();
    assert_eq!(audit["impacts"][0]["effect"], "fires", "{audit:#}");
    let r = ferry(dir, &["upgrade", "check", "--db", &db]);
    assert!(
        r.stderr
            .contains("deletes the rows of ferry_meta where key = 'fingerprint_key'")
            && r.stderr.contains(
                "clears every value of column user_payment_method_credit_card.card_fingerprint"
            )
            && r.stderr.contains("FIRES: runs when migration 2 clears"),
        "{}",
        r.stderr
    );
    sql(
        &db,
        dir,
        if pg() {
            "DROP TRIGGER card_audit ON user_payment_method_credit_card; DROP FUNCTION card_copy();"
        } else {
            "DROP TRIGGER card_audit;"
        },
    );

    let r = ferry(dir, &["upgrade", "apply", "--db", &db, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["fingerprint_key_removed"], true);
    assert_eq!(v["fingerprints_removed"], 4);
    let backup = v["backup"].as_str().unwrap().to_string();
    assert!(
        r.stderr
            .contains("The upgrade removed the key and the 4 fingerprint(s)")
            && r.stderr.contains("still holds the old key")
            && r.stderr.contains(&backup),
        "{}",
        r.stderr
    );
    let _cleanup = pg().then(|| DropDb(backup.clone()));

    // Nothing of it is left in the target, nor in its file's free space or its dump.
    let t = open_any(dir, &db);
    assert_eq!(
        t.int(
            "SELECT count(*) FROM ferry_meta WHERE key LIKE 'fingerprint%'",
            &[]
        )
        .unwrap(),
        0
    );
    assert_eq!(
        t.int("SELECT (SELECT count(card_fingerprint) FROM user_payment_method_credit_card) + (SELECT count(account_fingerprint) FROM user_payment_method_ach)", &[])
            .unwrap(),
        0
    );
    assert_eq!(
        t.int("SELECT count(*) FROM user_payment_method_credit_card", &[])
            .unwrap(),
        3,
        "the methods stay, with brand and last four"
    );
    drop(t);
    let bytes: Vec<(String, Vec<u8>)> = if pg() {
        let out = std::process::Command::new("pg_dump")
            .args(["--no-owner", "--no-privileges", "-d", &db])
            .output()
            .unwrap();
        vec![("pg_dump".into(), out.stdout)]
    } else {
        ["v1.db", "v1.db-wal"]
            .iter()
            .filter_map(|n| std::fs::read(dir.join(n)).ok().map(|b| (n.to_string(), b)))
            .collect()
    };
    for (what, b) in &bytes {
        for secret in std::iter::once(&old_key).chain(&old_fps) {
            assert!(
                !b.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{what} still holds {secret}"
            );
        }
    }
    if !pg() {
        // The backup is the target as it was: it still holds the key, as the message says.
        let b = std::fs::read(dir.join(&backup)).unwrap();
        assert!(b.windows(old_key.len()).any(|w| w == old_key.as_bytes()));
    }

    // A card imported after the upgrade is fingerprinted with a key kept outside the target.
    std::fs::write(
        dir.join("card.xml"),
        "<Import><UserPaymentMethod User=\"HSC-0001\" Ref=\"after\"/><UserPaymentMethodCreditCard Ref=\"after\" CardNumber=\"4111111111111111\" ExpiryMonth=\"9\" ExpiryYear=\"2039\"/></Import>",
    )
    .unwrap();
    let r = ferry(dir, &["import", "card.xml", "--db", &db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let keys = key_files(dir);
    assert_eq!(keys.len(), 1);
    let new_key = unhex(std::fs::read_to_string(&keys[0]).unwrap().trim());
    let fp = open_any(dir, &db)
        .rows(
            "SELECT card_fingerprint FROM user_payment_method_credit_card WHERE ref = 'after'",
            &[],
        )
        .unwrap()[0]
        .text(0);
    assert_eq!(fp, hmac(&new_key, "4111111111111111"));
    assert!(!old_fps.contains(&fp));
}

/// Version 1 stored identical held packages as separate rows without an occurrence: the upgrade
/// numbers them 1, 2 in the order they were stored, so that importing the same two lines again
/// finds both by key, identical, and a third line is a new holding.
#[test]
fn the_upgrade_numbers_identical_holdings_and_a_rerun_finds_them() {
    let s = scratch();
    let dir = s.path();
    let db = v1_target(dir);
    sql(
        &db,
        dir,
        "INSERT INTO user_package (id, run_id, rec_hash, \"user\", name, next_bill_date, quantity)
         SELECT (SELECT max(id) + 1 FROM user_package), run_id, rec_hash, \"user\", name, next_bill_date, quantity FROM user_package WHERE id = 1;",
    );
    let r = ferry(dir, &["upgrade", "apply", "--db", &db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = open_any(dir, &db);
    let occ = |t: &ferry_store::Target| {
        t.rows(
            "SELECT occurrence FROM user_package WHERE \"user\" = 'HSC-0001' ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| format!("{:?}", r.0))
        .collect::<Vec<_>>()
    };
    assert_eq!(occ(&t), vec!["[Int(1)]", "[Int(2)]"]);
    assert_eq!(
        t.int(
            "SELECT count(*) FROM user_package WHERE occurrence IS NULL",
            &[]
        )
        .unwrap(),
        0
    );
    drop(t);
    let line = "<UserPackage User=\"HSC-0001\" Name=\"Full Membership\" NextBillDate=\"2026-01-01\" Quantity=\"1\"/>\n";
    std::fs::write(
        dir.join("p.xml"),
        format!("<Import>\n{line}{line}</Import>\n"),
    )
    .unwrap();
    let r = ferry(dir, &["import", "p.xml", "--db", &db, "--log", "f.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&dir.join("f.jsonl"));
    let codes: Vec<&str> = f.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["key.identical"; 2], "{f:#?}");
    std::fs::write(
        dir.join("p.xml"),
        format!("<Import>\n{line}{line}{line}</Import>\n"),
    )
    .unwrap();
    let r = ferry(dir, &["import", "p.xml", "--db", &db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = open_any(dir, &db);
    assert_eq!(occ(&t), vec!["[Int(1)]", "[Int(2)]", "[Int(3)]"]);
}
