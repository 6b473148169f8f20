//! No server path in any output of the console (issue 17, "Locations"): a test run of the
//! mistakes workbook uploaded through the console, then every page and download of it (the run
//! page, its findings, each file the run page links — zips opened entry by entry) and the
//! console's own log are searched for the data folder's path and for `/uploads/`.

mod common;
use common::web::{agent, data_dir, multipart, page_csrf, sign_in_cookie, Console, ADMIN};
use common::*;
use std::io::Read;
use std::time::Duration;

fn get(console: &Console, cookie: &str, path: &str) -> (u16, Vec<u8>) {
    let mut r = agent()
        .get(format!("{}{path}", console.url))
        .header("Cookie", cookie)
        .header("Accept", "text/html")
        .call()
        .unwrap();
    let status = r.status().as_u16();
    let mut body = vec![];
    r.body_mut().as_reader().read_to_end(&mut body).unwrap();
    (status, body)
}

/// Uploads `examples/mistakes/mistakes.xlsx` as a test run; returns the run's number.
fn upload_mistakes(console: &Console, cookie: &str) -> i64 {
    let token = page_csrf(console, cookie.trim_start_matches("ferry_session="));
    let data = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    let files: Vec<(&str, &str, &[u8])> = vec![("files", "mistakes.xlsx", &data)];
    let (ct, body) = multipart(&files, &[("csrf", &token), ("test_only", "on")]);
    let r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "the upload is taken");
    let to = r.headers().get("location").unwrap().to_str().unwrap();
    to.strip_prefix("/runs/").unwrap().parse().unwrap()
}

fn wait_until_ended(dir: &std::path::Path, run: i64) {
    let sql = format!("SELECT status FROM run WHERE id = {run}");
    for _ in 0..1200 {
        if rows(dir, "console.db", &sql)[0][0] != "running" {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("run {run} did not end");
}

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
    let cookie = sign_in_cookie(&console, ADMIN);
    let cookie = cookie.split(';').next().unwrap().to_string();
    let run = upload_mistakes(&console, &cookie);
    wait_until_ended(s.path(), run);
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

    let data = data_dir(s.path());
    let mut needles = vec![data.display().to_string(), "/uploads/".to_string()];
    if let Ok(c) = data.canonicalize() {
        needles.push(c.display().to_string());
    }
    let mut leaks = vec![];
    for (name, text) in &outputs {
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
    assert!(
        leaks.is_empty(),
        "server paths in outputs:\n{}",
        leaks.join("\n")
    );
}
