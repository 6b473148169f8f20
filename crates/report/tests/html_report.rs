//! The HTML report's static parts for a small run (an insta snapshot: `cargo insta review` or `INSTA_UPDATE=always` to accept a change), its
//! escaping of hostile input, the data block, and (where `node` is installed) its script run
//! against a minimal DOM with 100,000 findings.

use ferry_findings::{Code, Column, Finding, Location};
use ferry_report::html::{self, Context, FindingCount, HtmlWriter};
use ferry_report::reconcile::{AccountSums, Reconciliation};
use ferry_store::journal::{Counts, RunInfo, RunMode, RunStatus};
use std::path::{Path, PathBuf};

const HOSTILE: &str = "</script><script>alert(1)</script><!--<img src=x onerror=alert(2)>";

fn small_run() -> Context {
    let counts = |read, imported, updated, skipped, rejected| Counts {
        read,
        imported,
        updated,
        skipped,
        rejected,
    };
    Context {
        run: 7,
        info: Some(RunInfo {
            id: 7,
            kind: ferry_store::journal::RunKind::Import,
            mode: RunMode::Live,
            status: RunStatus::CompletedWithErrors,
            started_at: "2025-03-01T10:00:00+01:00".into(),
            finished_at: Some("2025-03-01T10:00:04+01:00".into()),
            inputs: serde_json::json!(["club.xlsx", format!("in/{HOSTILE}.xml")]),
            options: serde_json::json!({
                "command_line": {"inputs": ["club.xlsx"], "test_only": false, "max_records": null},
                "effective": {"max_records": 0, "on_existing": "error", "fold_case": false,
                              "default_owner": HOSTILE, "encoding": null, "date_order": "MDY"}
            }),
            input_hash: "abc".into(),
            error: None,
            errors: 3,
            warnings: 1,
            infos: 0,
            pid: None,
        }),
        target: Some("postgres://ferry:***@db.example/ferry".into()),
        reconciliation: Some(Reconciliation {
            run: 7,
            counts: vec![
                ("User".into(), counts(10, 8, 0, 0, 2)),
                ("Contact".into(), counts(5, 4, 1, 0, 0)),
                ("Debit".into(), counts(4, 2, 0, 0, 1)),
            ],
            accounts: vec![AccountSums {
                user: format!("HSC-1{HOSTILE}"),
                source: "30.00".into(),
                imported: "20.00".into(),
                rejected: "10.00".into(),
                skipped: "0.00".into(),
                target: Some("20.00".into()),
                balanced: true,
                why: "some of its ledger records were rejected".into(),
            }],
            ledger_accounts: 3,
            unbalanced: 0,
            unlisted: 0,
            already_there: 0,
            live: true,
            balanced: false,
        }),
        counts: Some(vec![
            FindingCount {
                severity: ferry_findings::Severity::Error,
                code: "value.date_invalid".into(),
                entity: "User".into(),
                count: 2,
            },
            FindingCount {
                severity: ferry_findings::Severity::Error,
                code: "reference.unknown".into(),
                entity: "Debit".into(),
                count: 1,
            },
            FindingCount {
                severity: ferry_findings::Severity::Warning,
                code: "input.unknown_field".into(),
                entity: "".into(),
                count: 1,
            },
        ]),
        headline: Some("2 User records rejected (+1 dependent record)".into()),
    }
}

fn findings() -> Vec<Finding> {
    let loc = |row, col| Location {
        file: "club.xlsx".into(),
        sheet: Some("User".into()),
        row,
        column: Some(Column::Letter(col)),
    };
    vec![
        Finding::new(Code::DateInvalid, loc(3, 6), "Not a valid date.")
            .entity("User")
            .key(Some("HSC-2".into()))
            .field("CreatedDate")
            .value("2/30/2007"),
        Finding::new(Code::DateInvalid, loc(4, 6), "Not a valid date.")
            .entity("User")
            .key(Some("HSC-3".into()))
            .field("CreatedDate")
            .value(HOSTILE)
            .hint(Some("write dates as M/D/YYYY & check \"quotes\"".into())),
        Finding::new(Code::ReferenceUnknown, loc(9, 1), "No such user.").entity("Debit"),
        Finding::new(Code::UnknownField, loc(1, 14), "Unknown column Colour."),
    ]
}

fn report(ctx: &Context, fs: &[Finding]) -> String {
    let mut w = HtmlWriter::begin(Vec::new(), ctx).unwrap();
    for f in fs {
        w.write(f).unwrap();
    }
    let (out, n) = w.finish().unwrap();
    assert_eq!(n, fs.len() as u64);
    String::from_utf8(out).unwrap()
}

/// The contents of `<script …id="ID">…</script>`.
fn script<'a>(html: &'a str, id: &str) -> &'a str {
    let open = format!("<script type=\"application/json\" id=\"{id}\">");
    let start = html.find(&open).expect(id) + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    &html[start..end]
}

#[test]
fn static_parts_of_a_small_run() {
    let ctx = small_run();
    let html = report(&ctx, &findings());
    let static_part = html::static_part(&ctx);
    assert!(html.starts_with(&static_part));
    insta::assert_snapshot!("html_small_run", static_part);

    // Structure, independent of the snapshot.
    assert!(html.contains(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        html::CSP
    )));
    assert!(html.contains("<title>Ferry run 7 — completed with errors</title>"));
    for part in [
        "<dt>Mode</dt><dd>live",
        "<dt>Status</dt><dd><span class=\"st st-completed-with-errors\">completed with errors</span></dd>",
        "<dt>Started</dt><dd>2025-03-01T10:00:00+01:00</dd>",
        "<dt>Target</dt><dd><code>postgres://ferry:***@db.example/ferry</code></dd>",
        "<b>3</b> errors",
        "<b>1</b> warning<",
        "<b>0</b> notes",
        "Does NOT reconcile",
        "<code>max_records</code>",
        "<td>MDY</td>",
        "3 accounts with ledger records",
        "data-code=\"value.date_invalid\"",
        "data-entity=\"User\" data-sev=\"error\">2</a>",
        "<tfoot><tr><th scope=\"row\">all</th><td>19</td><td>14</td><td>1</td><td>0</td><td>3</td>",
    ] {
        assert!(static_part.contains(part), "missing {part}");
    }
    // The Debit line does not balance (4 read, 3 accounted for).
    assert!(static_part.contains("✗ 1 unaccounted for"));
    // Hostile texts are escaped wherever they appear in the static part.
    assert!(!static_part.contains("<script"));
    assert!(!static_part.contains("<img"));
    assert!(static_part.contains("&lt;/script&gt;&lt;script&gt;alert(1)"));
    // Nothing names another place (the CSP meta's `http-equiv` aside).
    assert!(!static_part.replace("http-equiv", "").contains("http"));
}

/// The tags of a document (the contents of its script elements left out).
pub fn tags(html: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let end = i + rest[i..].find('>').unwrap() + 1;
        let tag = &rest[i..end];
        out.push(tag);
        rest = &rest[end..];
        if tag.starts_with("<script") {
            rest = &rest[rest.find("</script>").unwrap()..];
        }
    }
    out
}

#[test]
fn the_data_cannot_break_out_of_its_script() {
    let html = report(&small_run(), &findings());
    // Three script elements: data, dictionaries, program; nothing else opens or closes one.
    assert_eq!(html.matches("<script").count(), 3);
    assert_eq!(html.matches("</script>").count(), 3);
    let data = script(&html, "ferry-findings");
    assert!(!data.contains('<') && !data.contains('>'), "{data}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(data).unwrap();
    assert_eq!(rows.len(), 4);
    let dicts: serde_json::Value = serde_json::from_str(script(&html, "ferry-dicts")).unwrap();
    // The hostile value comes back intact once parsed.
    assert_eq!(rows[1][9], HOSTILE);
    assert_eq!(
        dicts["code"][rows[0][1].as_u64().unwrap() as usize],
        "value.date_invalid"
    );
    assert_eq!(
        dicts["code"][rows[2][1].as_u64().unwrap() as usize],
        "reference.unknown"
    );
    assert_eq!(dicts["entity"][rows[3][2].as_u64().unwrap() as usize], "");
    assert_eq!(rows[0][0], 0, "errors are severity 0");
    assert_eq!(rows[3][0], 1, "warnings are severity 1");
    assert_eq!(rows[0][6], 3);
    assert_eq!(rows[0][7], "G");
    // No tag fetches anything: no `src`, every `href` a fragment; no CSS fetches.
    for tag in tags(&html) {
        assert!(!tag.contains(" src="), "{tag}");
        if let Some(i) = tag.find(" href=\"") {
            assert!(tag[i + 7..].starts_with('#'), "{tag}");
        }
    }
    assert!(!html.contains("url(") && !html.contains("@import"));
    // The program inserts text only as text.
    assert!(!html.contains("innerHTML") && !html.contains("insertAdjacentHTML"));
    assert!(!html.contains("document.write"));
}

/// Each finding is in the output once `write` returns: nothing is held back until `finish`.
#[test]
fn findings_are_streamed() {
    let mut w = HtmlWriter::begin(Vec::new(), &Context::bare(1)).unwrap();
    let fs = findings();
    let mut last = 0;
    for i in 0..1000 {
        w.write(&fs[i % fs.len()]).unwrap();
        let now = w.get_ref().len();
        assert!(now > last + 40, "finding {i} was not written at once");
        last = now;
    }
}

#[test]
fn a_bare_report_has_the_table_only() {
    let html = report(&Context::bare(3), &findings());
    assert!(html.contains("<h1>Run 3</h1>"));
    assert!(!html.contains("id=\"reconciliation\""));
    assert!(!html.contains("id=\"counts\""));
    assert!(html.contains("id=\"ferry-findings\""));
}

/// 100,000 findings: the file stays small, and with `node` the page's script runs against a
/// minimal DOM: it renders a window of rows, not all of them, and filters and sorts.
#[test]
fn a_hundred_thousand_findings() {
    let ctx = Context::bare(1);
    let mut w = HtmlWriter::begin(Vec::new(), &ctx).unwrap();
    let codes = [
        Code::DateInvalid,
        Code::ReferenceUnknown,
        Code::UnknownField,
    ];
    let n = 100_000u64;
    for i in 0..n {
        let f = Finding::new(
            codes[(i % 3) as usize],
            Location {
                file: format!("in/User{}.csv", i % 4).into(),
                sheet: None,
                row: i + 2,
                column: Some(Column::Number(7)),
            },
            format!("The date \"{}/40/2020\" is not a valid date.", i % 12 + 1),
        )
        .entity(if i % 2 == 0 { "User" } else { "Contact" })
        .key(Some(format!("U{i:06}")))
        .field("CreatedDate")
        .value(&format!("{}/40/2020", i % 12 + 1));
        w.write(&f).unwrap();
    }
    let (out, rows) = w.finish().unwrap();
    assert_eq!(rows, n);
    assert!(out.len() < 20_000_000, "{} bytes", out.len());
    let Some(node) = which("node") else {
        // A skip only where Node.js is not required (CI sets FERRY_REQUIRE_NODE=1).
        assert!(
            std::env::var_os("FERRY_REQUIRE_NODE").is_none(),
            "node is not installed, and FERRY_REQUIRE_NODE is set"
        );
        eprintln!("skipped: node is not installed: the report's script was not run (set FERRY_REQUIRE_NODE=1 to fail instead)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("ferry-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("r.html");
    std::fs::write(&file, &out).unwrap();
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/html_harness.js");
    let o = std::process::Command::new(node)
        .arg(&harness)
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("ok rows=100000"), "{stdout}");
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}
