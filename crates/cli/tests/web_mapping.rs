//! The console's mapping flow over HTTP (issue 14, point 5; `web_browser.rs` walks it in
//! Chromium): a legacy member list uploaded and looked at (its first rows, a proposed mapping),
//! corrected column by column and as text, previewed, saved by name and run with — the run
//! records which mapping and its hash, and the next upload of the same file gets the saved
//! mapping. And the rules of the rest of the console: CSRF tokens, viewers preview but do not
//! save or run, a mapping text is at most 1 MiB, no server path is shown, secrets are masked.

mod common;
use common::exports::*;
use common::web::*;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Uploads `name` with "Upload and check"; returns the draft's id.
fn look(console: &Console, cookie: &str, name: &str, bytes: &[u8]) -> String {
    let token = csrf(console, cookie);
    let (ct, body) = multipart(
        &[("files", name, bytes)],
        &[
            ("csrf", &token),
            ("action", "look"),
            ("test_only", "on"),
            ("phone_region", "GB"),
            ("on_existing", "skip"),
        ],
    );
    let mut r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(status, 303, "{text}");
    let loc = r.headers().get("location").unwrap().to_str().unwrap();
    loc.strip_prefix("/runs/new/").unwrap().to_string()
}

/// Posts the draft's form; returns the status, the page and where it redirects.
fn post(
    console: &Console,
    cookie: &str,
    id: &str,
    pairs: &[(&str, &str)],
) -> (u16, String, String) {
    let mut r = agent()
        .post(format!("{}/runs/new/{id}", console.url))
        .header("Cookie", cookie)
        .send_form(pairs.iter().copied())
        .unwrap();
    let s = r.status().as_u16();
    let loc = location(&r);
    let body = r
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap_or_default();
    (s, body, loc)
}

/// Fails, showing where, when `page` shows the server folder `data`.
fn no_path(page: &str, data: &str) {
    if let Some(line) = page.lines().find(|l| l.contains(data)) {
        panic!("the page shows a server path: {line}");
    }
}

/// The `mapping` a run recorded in its options.
fn recorded_mapping(dir: &Path, run: i64) -> serde_json::Value {
    let opts = rows(
        dir,
        "console.db",
        &format!("SELECT options FROM run WHERE id = {run}"),
    )[0][0]
        .clone();
    let v: serde_json::Value = serde_json::from_str(&opts).unwrap();
    v["mapping"].clone()
}

/// The findings of a run, one line each, for failure messages.
fn findings_of(dir: &Path, run: i64) -> String {
    rows(
        dir,
        "console.db",
        &format!("SELECT severity, code, coalesce(field, ''), message FROM run_finding WHERE run_id = {run} ORDER BY seq LIMIT 40"),
    )
    .iter()
    .map(|r| r.join(" | "))
    .collect::<Vec<_>>()
    .join("\n")
}

#[test]
fn a_member_list_is_mapped_previewed_saved_and_run() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let admin = session(&console, ADMIN);
    let token = csrf(&console, &admin);
    let data = data_dir(dir).canonicalize().unwrap().display().to_string();

    // Upload and look: the first rows, and a mapping proposed for a file not in Ferry's shape.
    let id = look(&console, &admin, "members.csv", &members_csv());
    let (code, page) = get(&console, &admin, &format!("/runs/new/{id}"));
    assert_eq!(code, 200, "{page}");
    for shown in [
        "members.csv",
        "first_name",
        "Aleshia",
        "Tomkiewicz",
        "Ferry suggests",
    ] {
        assert!(page.contains(shown), "{shown} on the page:\n{page}");
    }
    no_path(&page, &data);

    // A mapping with one mistake, given as text, then seen column by column.
    let (code, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "text"),
            ("text", MISTAKEN_MAPPING),
            ("action", "columns"),
        ],
    );
    assert_eq!(code, 200, "{page}");
    let base = input_value(&page, "base").expect("the column view carries the text");
    assert_eq!(
        base, MISTAKEN_MAPPING,
        "the text round-trips through the column view"
    );
    let web = column("web");
    assert!(
        page.contains(&format!("name=\"s0c{web}t0\""))
            && page.contains("<option value=\"ContactEmail.Email\" selected>"),
        "web goes to ContactEmail.Email:\n{page}"
    );

    // Its preview: every ContactEmail rejected, the bad value red.
    let (code, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "columns"),
            ("base", &base),
            ("action", "preview"),
        ],
    );
    assert_eq!(code, 200);
    assert!(page.contains("preview-record rejected"), "{page}");
    assert!(
        page.contains("<dd class=\"error\">http://www.alandrosenburgcpapc.co.uk</dd>"),
        "{page}"
    );

    // Corrected column by column: web left out, email also the contact's e-mail, phone2 a
    // second phone, county the address's region.
    let (phone2, county, email) = (column("phone2"), column("county"), column("email"));
    let keys = [
        format!("s0c{web}t0"),
        format!("s0c{email}t1"),
        format!("s0c{phone2}t0"),
        format!("s0c{county}t0"),
    ];
    let (code, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "columns"),
            ("base", &base),
            (&keys[0], ""),
            (&keys[1], "ContactEmail.Email"),
            (&keys[2], "ContactPhone.Phone"),
            (&keys[3], "ContactAddress.Region"),
            ("action", "preview"),
        ],
    );
    assert_eq!(code, 200);
    assert!(
        !page.contains("preview-record rejected"),
        "nothing rejected now:\n{page}"
    );
    assert!(page.contains("another ContactPhone record"), "{page}");
    let base = input_value(&page, "base").unwrap();
    for part in [
        "# The UK member list.",
        "fields.Phone = \"phone2\"",
        "fields.Region = \"county\"",
        "fields.Email = \"email\"",
    ] {
        assert!(base.contains(part), "{part}:\n{base}");
    }
    assert!(!base.contains("\"web\""), "{base}");
    // The second phone's type, a constant.
    let name = input_named_by_label(&page, "Value of ContactPhone #2 · ContactPointType")
        .expect("the second phone's constant");
    let (_, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "columns"),
            ("base", &base),
            (&name, "Mobile Phone"),
            ("action", "preview"),
        ],
    );
    let good = input_value(&page, "base").unwrap();
    assert!(good.contains("Mobile Phone"), "{good}");

    // A problem is shown at its place, and stops saving.
    let (_, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "text"),
            ("text", &good.replace("fields.City", "fields.Cty")),
            ("action", "columns"),
        ],
    );
    assert!(page.contains("The mapping has 1 problem"), "{page}");
    assert!(
        page.contains(
            "<div class=\"issue\">Cty is not a field of ContactAddress (did you mean City?)</div>"
        ),
        "the problem beside the city column:\n{page}"
    );
    // Text that is not TOML stays in the text view, its problem at its line.
    let (_, broken, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "text"),
            ("text", "version = 1\n[[source]\n"),
            ("action", "columns"),
        ],
    );
    assert!(broken.contains("id=\"mapping-text\""), "{broken}");
    assert!(broken.contains("<li>line 2, column"), "{broken}");
    let bad = input_value(&page, "base").unwrap();
    let (_, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "columns"),
            ("base", &bad),
            ("save_name", "uk-members"),
            ("action", "save"),
        ],
    );
    assert!(page.contains("not saved"), "{page}");
    assert_eq!(
        int(dir, "console.db", "SELECT count(*) FROM import_mapping"),
        0
    );

    // Saved by name: kept in the target.
    let (_, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "columns"),
            ("base", &good),
            ("save_name", "uk-members"),
            ("action", "save"),
        ],
    );
    assert!(page.contains("Saved as “uk-members”"), "{page}");
    let kept = rows(
        dir,
        "console.db",
        "SELECT name, definition FROM import_mapping",
    );
    assert_eq!(kept, vec![vec!["uk-members".to_string(), good.clone()]]);

    // A test run with it: the run records the saved mapping by name and hash.
    let run_fields = [
        ("posted", "1"),
        ("test_only", "on"),
        ("phone_region", "GB"),
        ("on_existing", "skip"),
    ];
    let mut start = vec![
        ("csrf", token.as_str()),
        ("mode", "columns"),
        ("base", good.as_str()),
        ("action", "start"),
    ];
    start.extend(run_fields);
    let (code, body, loc) = post(&console, &admin, &id, &start);
    assert_eq!(code, 303, "{body}");
    let test = run_of(&loc);
    wait_run_ended(dir, test);
    let m = recorded_mapping(dir, test);
    assert_eq!(m["from"], "saved", "{m}");
    assert_eq!(m["given"], "saved:uk-members");
    let hash = m["hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 16);
    assert_eq!(
        run_status(dir, test),
        "succeeded",
        "{}",
        findings_of(dir, test)
    );
    let (_, page) = get(&console, &admin, &format!("/runs/{test}"));
    assert!(
        page.contains("“uk-members”, a mapping saved in the target") && page.contains(&hash),
        "{page}"
    );
    assert!(
        page.contains(&format!("href=\"/runs/new/{id}\"")),
        "back to the files"
    );
    no_path(&page, &data);
    let read = int(
        dir,
        "console.db",
        &format!("SELECT read FROM run_count WHERE run_id = {test} AND entity = 'ContactPhone'"),
    );
    assert_eq!(read, 20, "two phones a member");

    // Live.
    let (code, _, loc) = {
        let mut r = agent()
            .post(format!("{}/runs/{test}/live", console.url))
            .header("Cookie", &admin)
            .send_form([("csrf", token.as_str()), ("confirm", "yes")])
            .unwrap();
        let loc = location(&r);
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
            loc,
        )
    };
    assert_eq!(code, 303);
    let live = run_of(&loc);
    wait_run_ended(dir, live);
    assert_eq!(
        run_status(dir, live),
        "succeeded",
        "{}",
        findings_of(dir, live)
    );
    assert_eq!(recorded_mapping(dir, live)["hash"], hash.as_str());
    assert_eq!(int(dir, "console.db", "SELECT count(*) FROM \"user\""), 10);
    assert_eq!(
        int(dir, "console.db", "SELECT count(*) FROM contact_phone"),
        20
    );
    let region = rows(
        dir,
        "console.db",
        "SELECT region FROM contact_address ORDER BY id LIMIT 1",
    );
    assert_eq!(region[0][0], "Kent");

    // The next upload of the file gets the saved mapping.
    let next = look(&console, &admin, "members.csv", &members_csv());
    let (_, page) = get(&console, &admin, &format!("/runs/new/{next}"));
    assert!(
        page.contains("The saved mapping “uk-members” reads these files"),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"uk-members\" selected>"),
        "{page}"
    );
    assert_eq!(input_value(&page, "base").unwrap(), good);

    // An edited mapping, not saved: the run reads it from a private file of the upload, and
    // its page says so without the file's place.
    let edited = good.replace("# The UK member list.", "# The UK member list, edited.");
    let mut start = vec![
        ("csrf", token.as_str()),
        ("mode", "text"),
        ("text", edited.as_str()),
        ("action", "start"),
    ];
    start.extend(run_fields);
    let (code, body, loc) = post(&console, &admin, &next, &start);
    assert_eq!(code, 303, "{body}");
    let second = run_of(&loc);
    wait_run_ended(dir, second);
    let m = recorded_mapping(dir, second);
    assert_eq!(m["from"], "file", "{m}");
    let file = Path::new(m["given"].as_str().unwrap()).to_path_buf();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let (_, page) = get(&console, &admin, &format!("/runs/{second}"));
    assert!(
        page.contains("edited in the console for this upload"),
        "{page}"
    );
    no_path(&page, &data);
    assert!(!page.contains(".toml"), "{page}");

    // A test run of the saved mapping, then the mapping saved again changed: that test run
    // is not run live with a mapping it did not test.
    let mut start = vec![
        ("csrf", token.as_str()),
        ("mode", "columns"),
        ("base", good.as_str()),
        ("action", "use_saved"),
        ("saved", "uk-members"),
    ];
    start.extend(run_fields);
    post(&console, &admin, &next, &start);
    let mut start = vec![
        ("csrf", token.as_str()),
        ("mode", "columns"),
        ("base", good.as_str()),
        ("action", "start"),
    ];
    start.extend(run_fields);
    let (_, _, loc) = post(&console, &admin, &next, &start);
    let third = run_of(&loc);
    wait_run_ended(dir, third);
    assert_eq!(recorded_mapping(dir, third)["from"], "saved");
    assert_eq!(
        run_status(dir, third),
        "succeeded",
        "{}",
        findings_of(dir, third)
    );
    let (_, page, _) = post(
        &console,
        &admin,
        &next,
        &[
            ("csrf", &token),
            ("mode", "text"),
            ("text", &edited),
            ("save_name", "uk-members"),
            ("action", "save"),
        ],
    );
    assert!(
        page.contains("it replaces the mapping of that name"),
        "{page}"
    );
    let mut r = agent()
        .post(format!("{}/runs/{third}/live", console.url))
        .header("Cookie", &admin)
        .send_form([("csrf", token.as_str()), ("confirm", "yes")])
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body = r.body_mut().read_to_string().unwrap();
    assert!(body.contains("changed since this test run"), "{body}");
}

#[test]
fn viewers_preview_but_do_not_save_or_run_and_the_forms_are_guarded() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let admin = session(&console, ADMIN);
    let token = csrf(&console, &admin);
    let data = data_dir(dir).canonicalize().unwrap().display().to_string();
    let mut export = String::from_utf8(members_csv())
        .unwrap()
        .replace(",web\n", ",web,Password\n");
    export = export
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                format!("{l},hunter2-{i}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let id = look(&console, &admin, "members.csv", export.as_bytes());
    let (_, page) = get(&console, &admin, &format!("/runs/new/{id}"));
    assert!(
        !page.contains("hunter2"),
        "a password column is masked:\n{page}"
    );
    assert!(page.contains("••••"));
    let suggested = input_value(&page, "base").unwrap();

    // A viewer looks and previews; the admin's draft stays as it was.
    let viewer = session(&console, VIEWER);
    let vtoken = csrf(&console, &viewer);
    let (code, page) = get(&console, &viewer, &format!("/runs/new/{id}"));
    assert_eq!(code, 200);
    assert!(page.contains("Your role is viewer"), "{page}");
    assert!(
        !page.contains("value=\"start\"") && !page.contains("value=\"save\""),
        "{page}"
    );
    let (code, page, _) = post(
        &console,
        &viewer,
        &id,
        &[
            ("csrf", &vtoken),
            ("mode", "text"),
            ("text", MISTAKEN_MAPPING),
            ("action", "preview"),
        ],
    );
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("preview-record"), "{page}");
    assert!(!page.contains("hunter2"), "{page}");
    no_path(&page, &data);
    let (_, page) = get(&console, &admin, &format!("/runs/new/{id}"));
    assert_eq!(
        input_value(&page, "base").unwrap(),
        suggested,
        "a viewer's edits are not kept"
    );
    for action in ["save", "start"] {
        let (code, page, _) = post(
            &console,
            &viewer,
            &id,
            &[
                ("csrf", &vtoken),
                ("mode", "text"),
                ("text", MISTAKEN_MAPPING),
                ("save_name", "v"),
                ("action", action),
            ],
        );
        assert_eq!(code, 403, "{action}: {page}");
    }
    assert_eq!(
        int(dir, "console.db", "SELECT count(*) FROM import_mapping"),
        0
    );
    assert_eq!(int(dir, "console.db", "SELECT count(*) FROM run"), 0);
    // Nor may a viewer upload.
    let (ct, body) = multipart(
        &[("files", "members.csv", &members_csv())],
        &[("csrf", &vtoken), ("action", "look")],
    );
    let r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", &viewer)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);

    // Every post needs the page's token.
    for t in ["", "not-the-token"] {
        let (code, _, _) = post(
            &console,
            &admin,
            &id,
            &[
                ("csrf", t),
                ("mode", "text"),
                ("text", MISTAKEN_MAPPING),
                ("action", "preview"),
            ],
        );
        assert_eq!(code, 403);
    }
    let r = agent()
        .post(format!("{}/runs/new/{id}", console.url))
        .header("Cookie", &admin)
        .header("Origin", "http://evil.example")
        .send_form([("csrf", token.as_str()), ("action", "preview")])
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "a cross-site post");
    // A mapping text over 1 MiB is refused.
    let huge = format!("{MISTAKEN_MAPPING}\n#{}", "x".repeat(1 << 20));
    let (code, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "text"),
            ("text", &huge),
            ("action", "preview"),
        ],
    );
    assert_eq!(code, 413, "{page}");
    // Only upload folders that are drafts are pages.
    for bad in ["..", "abc", "%2E%2E%2Fconsole.db", &"A".repeat(43)] {
        let (code, _) = get(&console, &admin, &format!("/runs/new/{bad}"));
        assert_eq!(code, 404, "{bad}");
    }
    // The draft's own files are private.
    let draft = data_dir(dir).join("uploads").join(&id).join("draft");
    for e in std::fs::read_dir(&draft).unwrap() {
        let p = e.unwrap().path();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600,
            "{}",
            p.display()
        );
    }
}

#[test]
fn workbooks_are_looked_at_sheet_by_sheet() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let admin = session(&console, ADMIN);
    let token = csrf(&console, &admin);

    // Ferry's own workbook: every sheet read by its name, no mapping; the run has none.
    let club = std::fs::read(example("club/club.xlsx")).unwrap();
    let id = look(&console, &admin, "club.xlsx", &club);
    let (_, page) = get(&console, &admin, &format!("/runs/new/{id}"));
    assert!(page.contains("club.xlsx › User"), "{page}");
    assert!(page.contains("Read as User records by its name"), "{page}");
    assert!(page.contains("no mapping is needed"), "{page}");
    assert!(!page.contains("class=\"badge error\">Not read"), "{page}");
    assert_eq!(input_value(&page, "base").as_deref(), Some(""));
    let (code, body, loc) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "columns"),
            ("base", ""),
            ("posted", "1"),
            ("test_only", "on"),
            ("action", "start"),
        ],
    );
    assert_eq!(code, 303, "{body}");
    let run = run_of(&loc);
    wait_run_ended(dir, run);
    assert!(recorded_mapping(dir, run).is_null());
    assert!(
        int(
            dir,
            "console.db",
            &format!("SELECT read FROM run_count WHERE run_id = {run} AND entity = 'User'")
        ) > 0
    );

    // A CRM's workbook of companies and their people: a source per sheet, each edited on its
    // own, and previewed together.
    let crm = std::fs::read(fixture("exports/crm.xlsx")).unwrap();
    let id = look(&console, &admin, "crm.xlsx", &crm);
    let (_, page) = get(&console, &admin, &format!("/runs/new/{id}"));
    for part in ["crm.xlsx › Companies", "crm.xlsx › People"] {
        assert!(page.contains(part), "{part}:\n{page}");
    }
    assert!(
        page.contains("name=\"s0c0t0\"") && page.contains("name=\"s1c0t0\""),
        "an editor per sheet"
    );
    let base = input_value(&page, "base").unwrap();
    let (_, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "columns"),
            ("base", &base),
            ("action", "preview"),
        ],
    );
    assert!(
        page.contains("id=\"preview-0\"") && page.contains("id=\"preview-1\""),
        "{page}"
    );
    // A sheet no source reads can get one from the suggestion.
    let companies_only = {
        let mut e = ferry_mapping_text_without_source(&base, "People");
        e.push('\n');
        e
    };
    let (_, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "text"),
            ("text", &companies_only),
            ("action", "columns"),
        ],
    );
    assert!(
        page.contains("Not read</span>") && page.contains("value=\"map-1\""),
        "{page}"
    );
    let (_, page, _) = post(
        &console,
        &admin,
        &id,
        &[
            ("csrf", &token),
            ("mode", "columns"),
            ("base", &input_value(&page, "base").unwrap()),
            ("action", "map-1"),
        ],
    );
    assert!(page.contains("crm.xlsx › People is mapped now"), "{page}");
    assert!(page.contains("name=\"s1c0t0\""), "{page}");
}

/// `text` without its `[[source]]` whose `match` names `sheet` (the sources are the last
/// tables of a suggested mapping, each from its `[[source]]` line to the next).
fn ferry_mapping_text_without_source(text: &str, sheet: &str) -> String {
    let parts: Vec<&str> = text.split("\n[[source]]\n").collect();
    let mut out = parts[0].to_string();
    for p in &parts[1..] {
        if !p.contains(&format!("sheet = \"{sheet}\"")) {
            out.push_str("\n[[source]]\n");
            out.push_str(p);
        }
    }
    out
}
