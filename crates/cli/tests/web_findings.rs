//! A run's findings in the console and the HTML report, over HTTP against a real `ferry serve`
//! (issue 17): summed up first — what was rejected, for its own errors or only because a record
//! it refers to was ("3 User records rejected (+N dependent records)") and the counts per code,
//! root causes first — then listed in the same order (errors, warnings, notes), with page
//! numbers, a page size and a code filter with counts; the HTML report in that order; and no
//! download while a run has not ended (409), with the overall progress meanwhile.

mod common;
use common::web::{agent, get_page, session, upload_test_run, Console, ADMIN};
use common::*;
use std::path::Path;
use std::time::Duration;

/// The status of a GET of `url` (its body as text when it is text).
fn status_of(url: &str, cookie: &str) -> (u16, String) {
    let mut r = agent().get(url).header("Cookie", cookie).call().unwrap();
    let bytes = r
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    (
        r.status().as_u16(),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// The club's CSV folder with the Role of its first `bad` accounts blanked: each is rejected
/// (`value.required`), and its contacts, e-mails, services and ledger with it.
fn cascade_set(dir: &Path, bad: usize) -> std::path::PathBuf {
    let out = dir.join("cascade_csv");
    std::fs::create_dir_all(&out).unwrap();
    for e in std::fs::read_dir(example("club/club_csv")).unwrap() {
        let p = e.unwrap().path();
        // Attachments' files are not copied: their rows go too.
        if p.is_file() && !p.ends_with("TicketAttachment.csv") {
            std::fs::copy(&p, out.join(p.file_name().unwrap())).unwrap();
        }
    }
    let users = std::fs::read_to_string(out.join("User.csv")).unwrap();
    let mut lines: Vec<String> = users.lines().map(str::to_string).collect();
    let role = lines[0].split(',').position(|h| h == "Role").unwrap();
    for line in lines.iter_mut().skip(1).take(bad) {
        let mut cells: Vec<&str> = line.split(',').collect();
        cells[role] = "";
        *line = cells.join(",");
    }
    std::fs::write(out.join("User.csv"), lines.join("\n") + "\n").unwrap();
    out
}

/// The severities of the listed findings, in page order.
fn listed_severities(body: &str) -> Vec<String> {
    body.split("<td><span class=\"badge ")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

fn rank(s: &str) -> u8 {
    match s {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    }
}

#[test]
fn a_cascade_is_summed_up_with_its_root_causes_first() {
    let s = scratch();
    let d = s.path();
    let set = cascade_set(d, 3);
    let console = Console::start(d, "console.db");
    let r = ferry(
        d,
        &[
            "import",
            set.to_str().unwrap(),
            "--db",
            "console.db",
            "--test-only",
            "--log",
            "r.html",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let dependents = int(
        d,
        "console.db",
        "SELECT count(*) FROM run_finding WHERE run_id = 1 AND code = 'reference.rejected_parent'",
    );
    assert!(
        dependents > 3,
        "the bad accounts have dependants: {dependents}"
    );
    let cookie = session(&console, ADMIN);
    let (status, body) = get_page(&format!("{}/runs/1", console.url), &cookie);
    assert_eq!(status, 200);

    // The headline, and the summary before the list.
    let headline = format!(
        "3 User records rejected (+{} dependent record",
        dependents.to_string().as_str()
    );
    assert!(
        body.contains(&headline),
        "no headline {headline:?}: {}",
        &body[body.find("findings-summary").unwrap_or(0)..][..600]
    );
    let summary = body.find("id=\"findings-summary\"").unwrap();
    assert!(summary < body.find("id=\"findings\"").unwrap());
    // Per code: the root cause before its knock-on findings, with the counts.
    let by_code = &body[body.find("id=\"by-code\"").unwrap()..];
    let by_code = &by_code[..by_code.find("</table>").unwrap()];
    let root = by_code.find(">value.required<").expect("value.required");
    let knock = by_code
        .find(">reference.rejected_parent<")
        .expect("knock-on");
    assert!(root < knock, "root causes first");
    assert!(by_code.contains("(knock-on)"));
    // The code filter shows each code's count.
    assert!(body.contains(&format!(
        ">reference.rejected_parent ({dependents})</option>"
    )));
    // The list in the same order: the first finding is a root cause.
    let list = &body[body.find("id=\"findings\"").unwrap()..];
    let first_code = list.split("<td class=\"mono small\">").nth(1).unwrap();
    assert!(
        first_code.starts_with("value.required"),
        "{}",
        &first_code[..60]
    );

    // Filtered by the knock-on code: exactly those.
    let (_, body) = get_page(
        &format!("{}/runs/1?code=reference.rejected_parent", console.url),
        &cookie,
    );
    assert!(body.contains(&format!("({dependents} shown by the filter)")));

    // The HTML report: the same summary first, the findings before the long tables, in the
    // same order.
    let html = std::fs::read_to_string(d.join("r.html")).unwrap();
    assert!(html.contains(&headline));
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(at("id=\"by-code\"") < at("<section id=\"findings\">"));
    assert!(at("<section id=\"findings\">") < at("<section id=\"reconciliation\">"));
    assert!(at("<section id=\"findings\">") < at("<section id=\"counts\">"));
    assert!(at("<section id=\"findings\">") < at("<h3>Options in effect</h3>"));
    let data: Vec<serde_json::Value> = {
        let open = "<script type=\"application/json\" id=\"ferry-findings\">";
        let start = at(open) + open.len();
        serde_json::from_str(&html[start..start + html[start..].find("</script>").unwrap()])
            .unwrap()
    };
    let dicts: serde_json::Value = {
        let open = "<script type=\"application/json\" id=\"ferry-dicts\">";
        let start = at(open) + open.len();
        serde_json::from_str(&html[start..start + html[start..].find("</script>").unwrap()])
            .unwrap()
    };
    let knock_id = dicts["code"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == "reference.rejected_parent")
        .unwrap() as u64;
    let order: Vec<(u64, bool)> = data
        .iter()
        .map(|r| (r[0].as_u64().unwrap(), r[1].as_u64().unwrap() == knock_id))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "errors, warnings, notes; root causes first");
}

#[test]
fn the_mistakes_workbook_lists_errors_before_warnings_page_by_page() {
    let s = scratch();
    let d = s.path();
    let console = Console::start(d, "console.db");
    let input = example("mistakes/mistakes.xlsx");
    let r = ferry(
        d,
        &[
            "import",
            input.to_str().unwrap(),
            "--db",
            "console.db",
            "--test-only",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let total = int(
        d,
        "console.db",
        "SELECT count(*) FROM run_finding WHERE run_id = 1",
    );
    let cookie = session(&console, ADMIN);
    // 25 to a page: page numbers, and every page's findings in reading order.
    let pages = (total + 24) / 25;
    assert!(pages >= 2, "{total} findings");
    let mut all = vec![];
    for p in 1..=pages {
        let (status, body) = get_page(&format!("{}/runs/1?per=25&page={p}", console.url), &cookie);
        assert_eq!(status, 200);
        assert!(body.contains(&format!("Page {p} of {pages}")), "page {p}");
        assert!(body.contains("<option value=\"25\" selected>25</option>"));
        assert!(body.contains(&format!("aria-current=\"page\">{p}<")));
        if p < pages {
            assert!(
                body.contains(&format!("per=25&#38;page={pages}#findings")),
                "a link to the last page: {}",
                &body[body.find("class=\"pager\"").unwrap()..][..900]
            );
        }
        let sev = listed_severities(&body[body.find("<table class=\"findings\">").unwrap()..]);
        assert_eq!(
            sev.len() as i64,
            if p < pages {
                25
            } else {
                total - 25 * (pages - 1)
            }
        );
        all.extend(sev);
    }
    let ranks: Vec<u8> = all.iter().map(|s| rank(s)).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted, "errors, then warnings, then notes");
    assert!(ranks.contains(&0) && ranks.contains(&1));
}

#[test]
fn downloads_wait_for_the_end_of_the_run() {
    let s = scratch();
    let d = s.path();
    Console::prepare(d, "console.db");
    // Each run holds for a while once its files are read.
    let console = Console::serve(
        d,
        "console.db",
        &[],
        &[("FERRY_TEST_HOLD_SPOOL_MS", "5000")],
    );
    let cookie = session(&console, ADMIN);
    let data = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    let run = upload_test_run(&console, &cookie, &[("files", "mistakes.xlsx", &data)]);
    let downloads = [
        "findings.csv",
        "findings.jsonl",
        "report.html",
        "reconciliation.txt",
        "annotated-1.xlsx",
    ];
    // Mid-run: no download (409), the page says when they come, and the progress tells the
    // time elapsed.
    for what in downloads {
        let (status, body) = status_of(
            &format!("{}/runs/{run}/download/{what}", console.url),
            &cookie,
        );
        assert_eq!(status, 409, "{what} mid-run: {body}");
        assert!(body.contains("has not ended yet"), "{body}");
    }
    let (_, page) = get_page(&format!("{}/runs/{run}", console.url), &cookie);
    assert!(page.contains("id=\"downloads-wait\""));
    assert!(!page.contains(&format!("href=\"/runs/{run}/download/")));
    let (_, progress) = get_page(&format!("{}/runs/{run}/progress", console.url), &cookie);
    let p: serde_json::Value = serde_json::from_str(&progress).unwrap();
    assert_eq!(p["running"], true, "{progress}");
    assert!(p["elapsed_s"].is_u64(), "{progress}");
    assert!(
        p["overall_total"].is_u64() && p["overall_done"].is_u64(),
        "{progress}"
    );

    // Once it has ended: every download, and the overall share was the whole run.
    let mut ended = false;
    for _ in 0..1200 {
        let (_, progress) = get_page(&format!("{}/runs/{run}/progress", console.url), &cookie);
        let p: serde_json::Value = serde_json::from_str(&progress).unwrap();
        if p["running"] == false {
            assert_eq!(p["overall_done"], p["overall_total"], "{progress}");
            assert!(p["overall_total"].as_u64().unwrap() > 100, "{progress}");
            ended = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ended, "the run ended");
    let (_, page) = get_page(&format!("{}/runs/{run}", console.url), &cookie);
    assert!(page.contains(&format!("href=\"/runs/{run}/download/findings.csv\"")));
    for what in downloads {
        let (status, _) = status_of(
            &format!("{}/runs/{run}/download/{what}", console.url),
            &cookie,
        );
        assert_eq!(status, 200, "{what} after the run");
    }
}
