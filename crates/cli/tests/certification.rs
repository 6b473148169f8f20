//! The legacy certification migration (SPEC §11, seed 002): `ferry certification migrate` reads
//! only the legacy types (and `ferry import` leaves them out), writes the certification model
//! with seed 002's defaults and Description lines, warns (verbatim) about a registration whose
//! component its program does not contain, adds such components with --add-missing-components,
//! and is the same run as an import: test-only, idempotent, resumable after SIGKILL, rolled back.

mod common;
use common::*;
use std::fmt::Write as _;
use std::path::Path;

const LEGACY: &str = "LegacyProgram,LegacyComponent,LegacyProgramComponent,LegacyRegistration";

const SEED_WARNING: &str = "Registration found for component \"ABC\", student id \"101\" and program \"Program A - Initial\" (SEQN 56789), but the program does not contain this component.";

fn legacy_csv() -> String {
    example("certification/legacy_csv").display().to_string()
}

/// A target with the club's accounts and the example's student `101`.
fn students(d: &Path, db: &str) {
    let club = example("club/club_csv").display().to_string();
    let r = ferry(d, &["import", &club, "--db", db, "--no-backup"]);
    assert!(r.code <= 1, "{}", r.stderr);
    let s = example("certification/students").display().to_string();
    let r = ferry(d, &["import", &s, "--db", db, "--no-backup"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn migrate(d: &Path, db: &str, input: &str, extra: &[&str]) -> Run {
    let mut args = vec!["certification", "migrate", input, "--db", db, "--no-backup"];
    args.extend(extra);
    ferry(d, &args)
}

/// The certification model, without ids and run ids (enrollments name their registration).
fn model(d: &Path, db: &str) -> Vec<Vec<String>> {
    let mut out = vec![];
    for sql in [
        "SELECT code, title, coalesce(description, ''), requires_approval FROM cert_program ORDER BY code",
        "SELECT code, title, coalesce(description, ''), requires_approval, requires_grade FROM cert_component ORDER BY code",
        "SELECT program_code, component_code, required, added_by_migration FROM cert_program_component ORDER BY program_code, component_code",
        "SELECT \"user\", program_code, status, registered_date, completed_date FROM cert_registration ORDER BY \"user\", program_code",
        "SELECT e.seqn, e.\"user\", e.program_code, e.component_code, e.status, e.grade, e.registered_date, e.completed_date, r.\"user\", r.program_code FROM cert_enrollment e JOIN cert_registration r ON r.id = e.registration_id ORDER BY e.seqn",
    ] {
        out.push(vec![format!("-- {sql}")]);
        out.extend(rows(d, db, sql));
    }
    out
}

/// The certification model's rows and the legacy records' exported files.
type Snapshot = (Vec<Vec<String>>, Vec<(String, Vec<u8>)>);

/// The model and the legacy records (as exported), for comparing targets.
fn snapshot(d: &Path, db: &str) -> Snapshot {
    let out = format!("export-{}", db.replace('.', "-"));
    let r = ferry(
        d,
        &[
            "export",
            "--db",
            db,
            "--format",
            "csv",
            &out,
            "--entities",
            LEGACY,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = tree(&d.join(&out));
    std::fs::remove_dir_all(d.join(&out)).unwrap();
    (model(d, db), t)
}

fn count(d: &Path, db: &str, table: &str) -> i64 {
    int(d, db, &format!("SELECT count(*) FROM {table}"))
}

fn cert_rows(d: &Path, db: &str) -> i64 {
    [
        "cert_program",
        "cert_component",
        "cert_program_component",
        "cert_registration",
        "cert_enrollment",
    ]
    .iter()
    .map(|t| count(d, db, t))
    .sum()
}

fn summary(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn counts_of<'a>(s: &'a serde_json::Value, entity: &str) -> &'a serde_json::Value {
    s["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[0] == entity)
        .map(|c| &c[1])
        .unwrap_or_else(|| panic!("no counts for {entity}: {s}"))
}

#[test]
fn the_example_migrates_with_seed_002s_warning_defaults_and_descriptions() {
    let dir = scratch();
    let d = dir.path();
    students(d, "t.db");
    let r = migrate(d, "t.db", &legacy_csv(), &["--log", "f.jsonl", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&r);
    assert_eq!(s["kind"], "certification");
    assert_eq!(counts_of(&s, "LegacyRegistration")["imported"], 8);
    assert_eq!(counts_of(&s, "LegacyRegistration")["skipped"], 1);
    assert_eq!(counts_of(&s, "LegacyProgram")["imported"], 3);
    // the warning, verbatim, at the registration's ComponentCode cell
    let f = findings(&d.join("f.jsonl"));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["code"], "certification.component_not_in_program");
    assert_eq!(f[0]["severity"], "warning");
    assert_eq!(f[0]["message"], SEED_WARNING);
    assert_eq!(f[0]["key"], "56789");
    assert_eq!(f[0]["row"], 10);
    assert_eq!(f[0]["column"], "4");
    // defaults: no approval anywhere, components require a grade
    assert_eq!(
        int(
            d,
            "t.db",
            "SELECT count(*) FROM cert_program WHERE requires_approval <> 0"
        ),
        0
    );
    assert_eq!(count(d, "t.db", "cert_program"), 3);
    assert_eq!(
        int(d, "t.db", "SELECT count(*) FROM cert_component WHERE requires_approval = 0 AND requires_grade = 1"),
        4
    );
    // descriptions: `Label: value` lines in the seed's order, dates in ISO form, empties left out
    let desc = |table: &str, code: &str| {
        rows(
            d,
            "t.db",
            &format!("SELECT coalesce(description, 'NULL') FROM {table} WHERE code = '{code}'"),
        )[0][0]
            .clone()
    };
    assert_eq!(
        desc("cert_program", "PA-INIT"),
        "Established: 1998-03-15\nIndustryCode: MAR\nUF_1: Level 1\nUF_3: Harbour\nCoordinators: Leila Takahashi\nNotes: Run every spring since 1998\nPrerequisites: Swim test"
    );
    assert_eq!(desc("cert_program", "DINGHY"), "IndustryCode: SPT");
    assert_eq!(
        desc("cert_component", "NAV"),
        "Address: Clubhouse classroom\nPrerequisites: SAFE\nInstructors: Sam Ortega; Ana Lima"
    );
    assert_eq!(
        desc("cert_component", "FIRST"),
        "Instructors: Red Cross volunteers"
    );
    // registrations and enrollments: statuses as given, never derived
    assert_eq!(
        rows(
            d,
            "t.db",
            "SELECT status, grade, completed_date FROM cert_enrollment WHERE seqn = 56701"
        ),
        vec![vec![
            "Complete".to_string(),
            "A".into(),
            "2019-03-10".into()
        ]]
    );
    assert_eq!(
        rows(
            d,
            "t.db",
            "SELECT status FROM cert_enrollment WHERE seqn = 56705"
        ),
        vec![vec!["Registered".to_string()]]
    );
    assert_eq!(count(d, "t.db", "cert_enrollment"), 6);
    assert_eq!(
        int(
            d,
            "t.db",
            "SELECT count(*) FROM cert_enrollment WHERE seqn = 56789"
        ),
        0
    );
    // an enrollment without a program registration made one (registered, not completed)
    assert_eq!(
        rows(d, "t.db", "SELECT status, registered_date, completed_date FROM cert_registration WHERE \"user\" = 'HSC-0002'"),
        vec![vec!["Registered".to_string(), "2023-09-05".into(), "NULL".into()]]
    );
    // the program registration given keeps its own status
    assert_eq!(
        rows(d, "t.db", "SELECT status FROM cert_registration WHERE \"user\" = 'HSC-0001' AND program_code = 'PA-INIT'"),
        vec![vec!["Complete".to_string()]]
    );
    // the journal knows the kind
    let runs = ferry(d, &["runs", "--db", "t.db"]);
    assert!(runs.stdout.contains("certification"), "{}", runs.stdout);
    let show = ferry(d, &["runs", "show", "3", "--db", "t.db"]);
    assert!(
        show.stdout.contains("kind       certification"),
        "{}",
        show.stdout
    );
    assert_eq!(ferry(d, &["reconcile", "3", "--db", "t.db"]).code, 0);
}

#[test]
fn twice_migrates_once_and_add_missing_components_adds_and_lists() {
    let dir = scratch();
    let d = dir.path();
    students(d, "t.db");
    assert_eq!(migrate(d, "t.db", &legacy_csv(), &[]).code, 0);
    let first = model(d, "t.db");
    // again: everything identical is skipped, nothing new; the registration still warns
    let r = migrate(d, "t.db", &legacy_csv(), &["--json", "--log", "g.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&r);
    for e in LEGACY.split(',') {
        let c = counts_of(&s, e);
        assert_eq!(c["imported"], 0, "{e}");
        assert_eq!(c["skipped"], c["read"], "{e}");
    }
    assert_eq!(model(d, "t.db"), first);
    assert!(findings(&d.join("g.jsonl"))
        .iter()
        .any(|f| f["message"] == SEED_WARNING));

    // --add-missing-components: the component is added to the program, listed, and migrated
    let r = migrate(
        d,
        "t.db",
        &legacy_csv(),
        &["--add-missing-components", "--json", "--log", "h.jsonl"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&r);
    assert_eq!(
        s["added_components"],
        serde_json::json!([{"program": "PA-INIT", "component": "ABC"}])
    );
    assert!(
        r.stderr.contains("program PA-INIT: component ABC"),
        "{}",
        r.stderr
    );
    assert_eq!(counts_of(&s, "LegacyRegistration")["imported"], 1);
    let f = findings(&d.join("h.jsonl"));
    let added: Vec<_> = f
        .iter()
        .filter(|f| f["code"] == "certification.component_added")
        .collect();
    assert_eq!(added.len(), 1, "{f:#?}");
    assert_eq!(added[0]["severity"], "info");
    assert!(!f.iter().any(|f| f["severity"] == "warning"), "{f:#?}");
    assert_eq!(
        rows(d, "t.db", "SELECT required, added_by_migration FROM cert_program_component WHERE program_code = 'PA-INIT' AND component_code = 'ABC'"),
        vec![vec!["0".to_string(), "1".into()]]
    );
    assert_eq!(
        rows(
            d,
            "t.db",
            "SELECT status, grade FROM cert_enrollment WHERE seqn = 56789"
        ),
        vec![vec!["Complete".to_string(), "B".into()]]
    );
    // and once more, with or without the flag: nothing new, no warning
    let before = model(d, "t.db");
    for flags in [
        &["--log", "i.jsonl"][..],
        &["--add-missing-components", "--log", "i.jsonl"],
    ] {
        let r = migrate(d, "t.db", &legacy_csv(), flags);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(findings(&d.join("i.jsonl"))
            .iter()
            .all(|f| f["code"] == "key.identical"));
        assert_eq!(model(d, "t.db"), before);
    }
}

#[test]
fn import_and_migrate_each_leave_the_others_records_out() {
    let dir = scratch();
    let d = dir.path();
    std::fs::create_dir_all(d.join("mixed")).unwrap();
    std::fs::write(
        d.join("mixed/User.csv"),
        "Name,Owner,Role,Colour\ns1,admin,Customer,red\n",
    )
    .unwrap();
    std::fs::write(
        d.join("mixed/LegacyComponent.csv"),
        "ComponentCode,Title,Colour\nC1,One,red\nC2,Two,blue\n",
    )
    .unwrap();
    let r = ferry(d, &["import", "mixed", "--log", "a.jsonl", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&r);
    assert!(
        !s["counts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c[0] == "LegacyComponent"),
        "{s}"
    );
    let f = findings(&d.join("a.jsonl"));
    let w: Vec<_> = f
        .iter()
        .filter(|f| f["code"] == "input.certification_entity")
        .collect();
    assert_eq!(w.len(), 1, "one warning per input and type: {f:#?}");
    // what the reader says about the left-out records' columns is left out with them
    assert!(
        f.iter()
            .filter(|f| f["entity"] == "LegacyComponent")
            .all(|f| f["code"] == "input.certification_entity"),
        "{f:#?}"
    );
    assert!(f
        .iter()
        .any(|f| f["code"] == "input.unknown_field" && f["entity"] == "User"));
    assert_eq!(w[0]["severity"], "warning");
    assert!(w[0]["message"]
        .as_str()
        .unwrap()
        .contains("ferry certification migrate"));
    assert_eq!(count(d, "ferry.db", "legacy_component"), 0);
    assert_eq!(count(d, "ferry.db", "cert_component"), 0);

    let r = ferry(
        d,
        &[
            "certification",
            "migrate",
            "mixed",
            "--log",
            "b.jsonl",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&r);
    assert!(
        !s["counts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c[0] == "User"),
        "{s}"
    );
    assert_eq!(counts_of(&s, "LegacyComponent")["imported"], 2);
    let f = findings(&d.join("b.jsonl"));
    assert_eq!(
        f.iter()
            .filter(|f| f["code"] == "input.not_certification")
            .count(),
        1,
        "{f:#?}"
    );
    assert!(
        f.iter()
            .filter(|f| f["entity"] == "User")
            .all(|f| f["code"] == "input.not_certification"),
        "{f:#?}"
    );
    assert!(f
        .iter()
        .any(|f| f["code"] == "input.unknown_field" && f["entity"] == "LegacyComponent"));
    assert_eq!(count(d, "ferry.db", "cert_component"), 2);
    assert_eq!(count(d, "ferry.db", "\"user\""), 1);
}

#[test]
fn unknown_students_programs_and_components_are_errors_and_a_fixed_rerun_migrates_the_rest() {
    let dir = scratch();
    let d = dir.path();
    students(d, "t.db");
    // a copy of the example with three bad registrations
    let src = example("certification/legacy_csv");
    std::fs::create_dir_all(d.join("in")).unwrap();
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, d.join("in").join(f.file_name().unwrap())).unwrap();
    }
    let regs = d.join("in/LegacyRegistration.csv");
    let good = std::fs::read_to_string(&regs).unwrap();
    let mut bad = good.clone();
    bad.push_str("60001,nobody,PA-INIT,SAFE,Registered,,1/1/2024,\n");
    bad.push_str("60002,HSC-0005,NOPE,,Registered,,1/1/2024,\n");
    bad.push_str("60003,HSC-0005,PA-INIT,ZZZ,Registered,,1/1/2024,\n");
    std::fs::write(&regs, &bad).unwrap();
    let r = migrate(d, "t.db", "in", &["--log", "f.jsonl", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let errors: Vec<(String, String)> = f
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["field"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            ("reference.unknown".to_string(), "StudentId".to_string()),
            ("reference.unknown".to_string(), "ProgramCode".to_string()),
            ("reference.unknown".to_string(), "ComponentCode".to_string()),
        ]
    );
    let s = summary(&r);
    assert_eq!(counts_of(&s, "LegacyRegistration")["rejected"], 3);
    assert_eq!(counts_of(&s, "LegacyRegistration")["imported"], 8);
    assert_eq!(
        int(
            d,
            "t.db",
            "SELECT count(*) FROM cert_enrollment WHERE seqn >= 60000"
        ),
        0
    );
    // fix the data: the rest is migrated, what was migrated is skipped
    let fixed = bad
        .replace("60001,nobody,", "60001,HSC-0006,")
        .replace("60002,HSC-0005,NOPE,", "60002,HSC-0005,DINGHY,")
        .replace("60003,HSC-0005,PA-INIT,ZZZ,", "60003,HSC-0005,PA-INIT,NAV,");
    std::fs::write(&regs, fixed).unwrap();
    let r = migrate(d, "t.db", "in", &["--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(&r);
    let c = counts_of(&s, "LegacyRegistration");
    assert_eq!(c["imported"], 3);
    assert_eq!(c["skipped"], 9);
    assert_eq!(
        int(
            d,
            "t.db",
            "SELECT count(*) FROM cert_enrollment WHERE seqn >= 60000"
        ),
        2
    );
    assert_eq!(
        rows(d, "t.db", "SELECT status FROM cert_registration WHERE \"user\" = 'HSC-0005' AND program_code = 'DINGHY'"),
        vec![vec!["Registered".to_string()]]
    );
}

#[test]
fn test_only_writes_nothing_and_finds_what_a_live_run_finds() {
    let dir = scratch();
    let d = dir.path();
    students(d, "t.db");
    let r = migrate(
        d,
        "t.db",
        &legacy_csv(),
        &["--test-only", "--log", "t.jsonl"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(cert_rows(d, "t.db"), 0);
    assert_eq!(count(d, "t.db", "legacy_registration"), 0);
    assert_eq!(count(d, "t.db", "legacy_program"), 0);
    let r = migrate(
        d,
        "t.db",
        &legacy_csv(),
        &["--test-only", "--add-missing-components", "--json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(summary(&r)["added_components"].as_array().unwrap().len(), 1);
    assert_eq!(cert_rows(d, "t.db"), 0);
    let r = migrate(d, "t.db", &legacy_csv(), &["--log", "l.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a: Vec<String> = findings(&d.join("t.jsonl"))
        .iter()
        .map(sans_location)
        .collect();
    let b: Vec<String> = findings(&d.join("l.jsonl"))
        .iter()
        .map(sans_location)
        .collect();
    assert_eq!(a, b);
    assert!(cert_rows(d, "t.db") > 0);
}

#[test]
fn rollback_removes_the_certification_rows() {
    let dir = scratch();
    let d = dir.path();
    students(d, "t.db");
    assert_eq!(
        migrate(d, "t.db", &legacy_csv(), &["--log", "r.html"]).code,
        0
    );
    let html = std::fs::read_to_string(d.join("r.html")).unwrap();
    assert!(html.contains("legacy certification migration"));
    let before_add = snapshot(d, "t.db");
    assert_eq!(
        migrate(d, "t.db", &legacy_csv(), &["--add-missing-components"]).code,
        0
    );
    assert_eq!(count(d, "t.db", "cert_enrollment"), 7);
    // the --add-missing-components run: its enrollment and the pair it added go
    let r = ferry(d, &["rollback", "4", "--db", "t.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(snapshot(d, "t.db"), before_add);
    // the first migration: everything it wrote goes
    let r = ferry(d, &["rollback", "3", "--db", "t.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(cert_rows(d, "t.db"), 0);
    for t in [
        "legacy_program",
        "legacy_component",
        "legacy_program_component",
        "legacy_registration",
    ] {
        assert_eq!(count(d, "t.db", t), 0, "{t}");
    }
    // the students stay
    assert_eq!(
        int(
            d,
            "t.db",
            "SELECT count(*) FROM \"user\" WHERE name = '101'"
        ),
        1
    );
}

#[test]
fn workbook_and_xml_containers_read_the_legacy_types() {
    let dir = scratch();
    let d = dir.path();
    students(d, "csv.db");
    let r = migrate(d, "csv.db", &legacy_csv(), &["--log", "csv.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = snapshot(d, "csv.db");
    let warnings =
        |log: &str| -> Vec<String> { findings(&d.join(log)).iter().map(sans_location).collect() };

    // XML (a fixture with the same records)
    students(d, "xml.db");
    let xml = fixture("certification/legacy.xml").display().to_string();
    let r = migrate(d, "xml.db", &xml, &["--log", "xml.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(snapshot(d, "xml.db"), want);
    assert_eq!(warnings("xml.jsonl"), warnings("csv.jsonl"));

    // A workbook: the legacy records exported (by name) from a target that holds all of them
    students(d, "all.db");
    assert_eq!(
        migrate(d, "all.db", &legacy_csv(), &["--add-missing-components"]).code,
        0
    );
    let r = ferry(
        d,
        &[
            "export",
            "--db",
            "all.db",
            "--format",
            "xlsx",
            "legacy.xlsx",
            "--entities",
            LEGACY,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // an export of everything leaves them out (`ferry import` would not read them)
    let r = ferry(
        d,
        &["export", "--db", "all.db", "--format", "csv", "everything"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!d.join("everything/LegacyProgram.csv").exists());
    assert!(d.join("everything/User.csv").exists());

    students(d, "xlsx.db");
    let r = migrate(d, "xlsx.db", "legacy.xlsx", &["--log", "xlsx.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(snapshot(d, "xlsx.db"), want);
    let f = findings(&d.join("xlsx.jsonl"));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["message"], SEED_WARNING);
    assert_eq!(f[0]["sheet"], "LegacyRegistration");
    assert_eq!(f[0]["column"], "D");

    // The workbook fixture (the same records, one sheet per legacy type)
    students(d, "fx.db");
    let wb = fixture("certification/legacy.xlsx").display().to_string();
    let r = migrate(d, "fx.db", &wb, &["--log", "fx.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(snapshot(d, "fx.db"), want);
    let f = findings(&d.join("fx.jsonl"));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["message"], SEED_WARNING);
    assert_eq!(f[0]["sheet"], "LegacyRegistration");
    assert_eq!(f[0]["row"], 10);
}

/// About 500 legacy records: 30 programs, 40 components, their pairs, and registrations of the
/// club's accounts, some for components their program lacks.
fn big(dir: &Path) {
    let mut x = String::from("<Import>\n");
    for p in 0..30 {
        writeln!(x, "  <LegacyProgram ProgramCode=\"P{p:02}\" Title=\"Program {p}\" Established=\"20{:02}-01-0{}\" Notes=\"note {p}\" Seqn=\"{p}\"/>", p % 25, 1 + p % 9).unwrap();
    }
    for c in 0..40 {
        writeln!(x, "  <LegacyComponent ComponentCode=\"C{c:02}\" Title=\"Component {c}\" Instructors=\"I{c}\"/>").unwrap();
    }
    for p in 0..30 {
        for k in 0..4 {
            let c = (p + k * 7) % 40;
            writeln!(x, "  <LegacyProgramComponent ProgramCode=\"P{p:02}\" ComponentCode=\"C{c:02}\" Required=\"{}\"/>", k % 2 == 0).unwrap();
        }
    }
    let statuses = ["Registered", "InProgress", "Complete", "Withdrawn"];
    for i in 0..300 {
        let user = format!("HSC-{:04}", 1 + i % 50);
        let p = i % 30;
        let comp = if i % 5 == 0 {
            String::new()
        } else if i % 23 == 0 {
            // not in the program
            format!(" ComponentCode=\"C{:02}\"", (p + 3) % 40)
        } else {
            format!(" ComponentCode=\"C{:02}\"", (p + (i % 4) * 7) % 40)
        };
        writeln!(x, "  <LegacyRegistration Seqn=\"{}\" StudentId=\"{user}\" ProgramCode=\"P{p:02}\"{comp} Status=\"{}\" RegisteredDate=\"2024-02-{:02}\"/>", 1000 + i, statuses[i % 4], 1 + i % 28).unwrap();
    }
    x.push_str("</Import>\n");
    std::fs::write(dir.join("big.xml"), x).unwrap();
}

#[test]
fn a_killed_migration_resumes_to_the_same_target() {
    let dir = scratch();
    let d = dir.path();
    big(d);
    let flags = ["--chunk-size", "17", "--add-missing-components"];
    students(d, "clean.db");
    let r = migrate(d, "clean.db", "big.xml", &flags);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = snapshot(d, "clean.db");
    assert!(
        want.0.iter().any(|r| r.len() == 4 && r[3] == "1"),
        "some pairs were added"
    );
    let points = [
        "after-commit:1",
        "after-commit:9",
        "before-commit:4",
        "before-commit:25",
        "mid-chunk:5",
        "mid-chunk:80",
        "mid-chunk:250",
        "mid-chunk:480",
    ];
    for (i, point) in points.iter().enumerate() {
        let db = format!("k{i}.db");
        students(d, &db);
        let mut args = vec![
            "certification",
            "migrate",
            "big.xml",
            "--db",
            db.as_str(),
            "--no-backup",
        ];
        args.extend(flags);
        let out = command(d, &args)
            .env("FERRY_FAIL_AT", point)
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == -1 || code == 137,
            "{point}: not killed (exit {code})"
        );
        let runs = ferry(d, &["runs", "--db", &db]);
        assert!(
            runs.stdout.contains("interrupted"),
            "{point}: {}",
            runs.stdout
        );
        // half resume with the same command and --resume, half with `ferry resume RUN`
        let r = if i % 2 == 0 {
            args.push("--resume");
            ferry(d, &args)
        } else {
            ferry(d, &["resume", "3", "--db", &db])
        };
        assert_eq!(r.code, 0, "{point}: {}", r.stderr);
        assert_eq!(snapshot(d, &db), want, "{point}: the target differs");
        assert_eq!(
            int(d, &db, "SELECT count(*) FROM run"),
            3,
            "{point}: a new run"
        );
        assert_eq!(
            rows(d, &db, "SELECT kind, status FROM run WHERE id = 3"),
            vec![vec!["certification".to_string(), "succeeded".into()]]
        );
        assert_eq!(ferry(d, &["reconcile", "3", "--db", &db]).code, 0);
    }
}

/// SPEC §11: the migration's progress bar "can be detached": `--detach` returns at once and the
/// run goes on in the background, to the same result as an attached run.
#[test]
fn a_detached_migration_goes_on_in_the_background() {
    let s = scratch();
    let d = s.path();
    students(d, "a.db");
    students(d, "b.db");
    let started = std::time::Instant::now();
    let r = migrate(d, "a.db", &legacy_csv(), &["--detach"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("goes on in the background"),
        "{}",
        r.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // Its output is in the file it names, in the folder it was started from.
    let log = r
        .stderr
        .split_whitespace()
        .find(|w| w.starts_with("ferry-run-"))
        .map(|w| w.trim_end_matches(['.', ';']).to_string())
        .expect("the output file is named");
    let done = || {
        let r = rows(
            d,
            "a.db",
            "SELECT status FROM run WHERE kind = 'certification' ORDER BY id DESC LIMIT 1",
        );
        r.first().map(|r| r[0].clone()).filter(|s| s != "running")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while done().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the detached run ends"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(done().as_deref(), Some("succeeded"));
    assert!(d.join(&log).exists(), "{log}");
    let r = migrate(d, "b.db", &legacy_csv(), &[]);
    assert!(r.code <= 1, "{}", r.stderr);
    assert_eq!(model(d, "a.db"), model(d, "b.db"));
}
