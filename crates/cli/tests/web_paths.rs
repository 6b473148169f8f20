//! No server path in any output of the console (issue 17, "Locations"): a test run of the
//! mistakes workbook uploaded through the console, then every page and download of it (the run
//! page, its findings, each file the run page links — zips opened entry by entry) and the
//! console's own log are searched for the data folder's path and for `/uploads/`; then every
//! page and download the console links, crawled after a live run and a retry of it.

mod common;
use common::web::{
    act, agent, csrf, data_dir, get_bytes as get, location, multipart, run_of, session,
    upload_test_run, wait_run_ended, Console, ADMIN,
};
use common::*;
use std::io::Read;
use std::time::Duration;

/// The texts of an answer: itself, or each entry of a zip (a workbook).
fn texts(name: &str, body: &[u8]) -> Vec<(String, String)> {
    if !body.starts_with(b"PK") {
        return vec![(name.to_string(), String::from_utf8_lossy(body).into_owned())];
    }
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(body.to_vec())).unwrap();
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let mut b = vec![];
            e.read_to_end(&mut b).unwrap();
            let entry = format!("{name}!{}", e.name().unwrap());
            (entry, String::from_utf8_lossy(&b).into_owned())
        })
        .collect()
}

/// The links of a page to `prefix…`, each once, as written (entities `&amp;` undone).
fn links(page: &str, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = page
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.replace("&amp;", "&"))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn no_output_names_the_data_folder() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let cookie = session(&console, ADMIN);
    let cookie = cookie.split(';').next().unwrap().to_string();
    let data = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    let run = upload_test_run(&console, &cookie, &[("files", "mistakes.xlsx", &data)]);
    wait_run_ended(s.path(), run);
    std::thread::sleep(Duration::from_millis(500));

    let mut outputs: Vec<(String, String)> = vec![];
    let (status, page) = get(&console, &cookie, &format!("/runs/{run}"));
    assert_eq!(status, 200);
    let page = String::from_utf8_lossy(&page).into_owned();
    let mut wanted = links(&page, &format!("/runs/{run}/download/"));
    assert!(!wanted.is_empty(), "the run page links its downloads");
    // The findings are on the run page, a page at a time: its page and filter links.
    wanted.extend(links(&page, &format!("/runs/{run}?")));
    wanted.push(format!("/runs/{run}?page=2"));
    wanted.push(format!("/runs/{run}/progress"));
    outputs.push((format!("/runs/{run}"), page));
    for link in wanted {
        let (status, body) = get(&console, &cookie, &link);
        assert!(status < 400, "{link}: {status}");
        outputs.extend(texts(&link, &body));
    }
    outputs.push(("console log".into(), console.stderr()));
    // The annotated workbook found the run's findings under the uploaded name: its comments
    // are there (an empty copy would pass the search below without saying anything).
    assert!(
        outputs.iter().any(|(name, text)| name.contains("annotated")
            && name.contains("comments")
            && text.contains("(value.required)")),
        "the annotated workbook carries the run's findings"
    );
    assert!(
        outputs
            .iter()
            .any(|(name, text)| name.ends_with("findings.jsonl")
                && text.contains("\"file\":\"mistakes.xlsx\"")),
        "findings name the workbook as uploaded"
    );

    let leaks = leaks(&outputs, s.path());
    assert!(
        leaks.is_empty(),
        "server paths in outputs:\n{}",
        leaks.join("\n")
    );
}

/// Where `outputs` name the console's data folder (or an upload folder), with some context.
fn leaks(outputs: &[(String, String)], dir: &std::path::Path) -> Vec<String> {
    let data = data_dir(dir);
    let mut needles = vec![data.display().to_string(), "/uploads/".to_string()];
    if let Ok(c) = data.canonicalize() {
        needles.push(c.display().to_string());
    }
    let mut leaks = vec![];
    for (name, text) in outputs {
        let text = text
            .replace("&#x2f;", "/")
            .replace("&#47;", "/")
            .replace("\\/", "/");
        for n in &needles {
            if text.contains(n.as_str()) {
                let at = text.find(n.as_str()).unwrap();
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(120)
                    .map_or(0, |(i, _)| i);
                let to = (at + n.len() + 60).min(text.len());
                let to = (to..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap();
                leaks.push(format!("{name} contains {n}: …{}…", &text[from..to]));
            }
        }
    }
    leaks
}

/// Retries `run` with the mistakes workbook again (a test run); returns the retry's number.
fn retry(console: &Console, cookie: &str, run: i64) -> i64 {
    let token = csrf(console, cookie);
    let data = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    let files: Vec<(&str, &str, &[u8])> = vec![("files", "mistakes.xlsx", &data)];
    let (ct, body) = multipart(&files, &[("csrf", &token), ("test_only", "on")]);
    let r = agent()
        .post(format!("{}/runs/{run}/retry", console.url))
        .header("Cookie", cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "the retry is taken");
    run_of(&location(&r))
}

/// Whether the crawl follows `link`: the console's own pages, not its static files nor the
/// findings' later pages (three are enough to see how a page is made).
fn follow(link: &str) -> bool {
    let page = link
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("page="))
        .and_then(|n| n.parse::<u32>().ok());
    link.starts_with('/')
        && !link.starts_with("//")
        && !link.starts_with("/static/")
        && page.is_none_or(|n| n <= 3)
}

/// Every page and download the console links, from its front pages on (more than `cap` fails), with
/// their texts (zips entry by entry).
fn crawl(console: &Console, cookie: &str, start: &[&str], cap: usize) -> Vec<(String, String)> {
    let mut queue: std::collections::VecDeque<String> =
        start.iter().map(|s| s.to_string()).collect();
    let mut seen: std::collections::HashSet<String> = queue.iter().cloned().collect();
    let (mut outputs, mut fetched) = (vec![], 0);
    while let Some(link) = queue.pop_front() {
        assert!(fetched < cap, "more than {cap} pages to crawl: {queue:?}");
        fetched += 1;
        let (status, body) = get(console, cookie, &link);
        assert!(status < 500, "{link}: {status}");
        let texts = texts(&link, &body);
        if !body.starts_with(b"PK") {
            let page = String::from_utf8_lossy(&body);
            for l in links(&page, "/") {
                let l = l.split('#').next().unwrap().to_string();
                if follow(&l) && seen.insert(l.clone()) {
                    queue.push_back(l);
                }
            }
        }
        outputs.extend(texts);
    }
    outputs
}

/// Every page the console links — the runs, a test with errors, its valid rows imported, a
/// retry of that live run, the records, the mapping editor, the logins, whatever page is linked
/// next — crawled from the front pages: none names the data folder.
#[test]
fn no_page_the_console_links_names_the_data_folder() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let cookie = session(&console, ADMIN);
    let cookie = cookie.split(';').next().unwrap().to_string();
    let data = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    let test = upload_test_run(&console, &cookie, &[("files", "mistakes.xlsx", &data)]);
    wait_run_ended(s.path(), test);
    let (code, to) = act(&console, &cookie, test, "import-valid", true);
    assert_eq!(code, 303, "import-valid is taken");
    let live = run_of(&to);
    wait_run_ended(s.path(), live);
    let again = retry(&console, &cookie, live);
    wait_run_ended(s.path(), again);
    std::thread::sleep(Duration::from_millis(500));

    let mut outputs = crawl(
        &console,
        &cookie,
        &["/", "/runs", "/records?q=HSC", "/records/HSC-0044"],
        1000,
    );
    let visited: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    for must in [
        format!("/runs/{again}"),
        format!("/runs/{live}/confirm/rollback"),
        format!("/runs/{test}/rejected/1"),
    ] {
        assert!(
            visited.iter().any(|v| v.starts_with(&must)),
            "the crawl reached {must}: {visited:?}"
        );
    }
    outputs.push(("console log".into(), console.stderr()));
    let leaks = leaks(&outputs, s.path());
    assert!(
        leaks.is_empty(),
        "server paths in outputs:\n{}",
        leaks.join("\n")
    );
}
