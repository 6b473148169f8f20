//! The Queries page over HTTP against a real `ferry serve` (SQLite, or PostgreSQL with
//! `FERRY_TEST_BACKEND=postgres`): `SavedQuery` records imported from XML are listed, run
//! read-only and shown as a table whose CSV download holds the same rows; the row caps; a
//! query that would write, one that reads a password hash or card details, one that runs past
//! the time limit and one the database cannot parse each give a clear message on the page,
//! and the target is unchanged.

mod common;
use common::web::{agent, sign_in_cookie, Console, VIEWER};
use common::*;
use std::path::Path;

const QUERIES: &str = r#"<Import>
  <SavedQuery Name="Open invoices" Description="Invoices not closed" Sql="SELECT &quot;user&quot;, name, closed FROM invoice WHERE closed = 0 ORDER BY name"/>
  <SavedQuery Name="Accounts" Description="Every account" Sql="SELECT name, owner, role FROM &quot;user&quot; ORDER BY name;"/>
  <SavedQuery Name="Many" Sql="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i &lt; 1500) SELECT i FROM n"/>
  <SavedQuery Name="Lots" Sql="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i &lt; 100005) SELECT i FROM n"/>
  <SavedQuery Name="Wipe" Sql="DELETE FROM &quot;user&quot;"/>
  <SavedQuery Name="Chained" Sql="SELECT 1; DELETE FROM &quot;user&quot;"/>
  <SavedQuery Name="Hashes" Sql="SELECT username, password_hash FROM login"/>
  <SavedQuery Name="Cards" Sql="SELECT * FROM user_payment_method_credit_card"/>
  <SavedQuery Name="Staff" Sql="SELECT email, password_hash FROM &quot;STAFF_USER&quot;"/>
  <SavedQuery Name="Forever" Sql="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"/>
  <SavedQuery Name="Broken" Sql="SELECT FROM WHERE"/>
  <SavedQuery Name="Sequence" Sql="SELECT nextval('run_id_seq')"/>
</Import>"#;

/// A console on a target holding the club's data and the saved queries above, queries
/// stopped after 1 s; and the session cookie of the viewer (queries are for viewers too).
fn setup(dir: &Path) -> (Console, String) {
    Console::prepare(dir, "console.db");
    let db = db(dir, "console.db");
    let club = example("club/club.xml");
    let r = ferry(dir, &["import", club.to_str().unwrap(), "--db", &db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(dir.join("queries.xml"), QUERIES).unwrap();
    let r = ferry(dir, &["import", "queries.xml", "--db", &db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let console = Console::serve(dir, "console.db", &["--query-seconds", "1"], &[]);
    let cookie = sign_in_cookie(&console, VIEWER);
    let cookie = cookie.split(';').next().unwrap().to_string();
    (console, cookie)
}

/// GETs `path`; the status, the body as text and the `x-ferry-rows-cut` header.
fn get(console: &Console, cookie: &str, path: &str) -> (u16, String, bool) {
    let mut r = agent()
        .get(format!("{}{path}", console.url))
        .header("Cookie", cookie)
        .header("Accept", "text/html")
        .call()
        .unwrap();
    let cut = r.headers().get("x-ferry-rows-cut").is_some();
    let body = r.body_mut().read_to_string().unwrap();
    (r.status().as_u16(), body, cut)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}

/// The header and body cells of the page's result table.
fn table(page: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let start = page.find("id=\"query-result\"").expect("a result table");
    let t = &page[start..page[start..].find("</table>").unwrap() + start];
    let cells = |row: &str, tag: &str| -> Vec<String> {
        row.split(&format!("<{tag}>"))
            .skip(1)
            .map(|c| {
                let v = c.split(&format!("</{tag}>")).next().unwrap();
                if v.contains("NULL</span>") {
                    String::new()
                } else {
                    unescape(v)
                }
            })
            .collect()
    };
    let head = cells(t.split("</thead>").next().unwrap(), "th");
    let body = t.split("<tbody>").nth(1).unwrap();
    let rows = body.split("<tr>").skip(1).map(|r| cells(r, "td")).collect();
    (head, rows)
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let head = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let rows = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (head, rows)
}

#[test]
fn saved_queries_are_listed_run_and_downloaded_with_their_caps() {
    let s = scratch();
    let dir = s.path();
    let (console, cookie) = setup(dir);

    let (status, list, _) = get(&console, &cookie, "/queries");
    assert_eq!(status, 200, "{list}");
    assert!(
        list.contains("href=\"/queries\">Queries</a>"),
        "in the navigation"
    );
    for name in ["Open invoices", "Accounts", "Hashes", "Forever"] {
        assert!(list.contains(&format!(">{name}</a>")), "{name} listed");
    }
    assert!(list.contains("Invoices not closed"));

    // A query's table, and its CSV with the same rows.
    for (name, path) in [
        ("Open invoices", "/queries/Open%20invoices"),
        ("Accounts", "/queries/Accounts"),
    ] {
        let (status, page, _) = get(&console, &cookie, path);
        assert_eq!(status, 200, "{page}");
        assert!(!page.contains("query-error"), "{name}: {page}");
        let (head, rows) = table(&page);
        assert!(!rows.is_empty(), "{name} has rows");
        let (status, csv, cut) = get(&console, &cookie, &format!("{path}/csv"));
        assert_eq!(status, 200, "{csv}");
        assert!(!cut);
        assert_eq!(csv_rows(&csv), (head, rows), "{name}: the CSV is the table");
    }
    let accounts = int(dir, "console.db", "SELECT count(*) FROM \"user\"");
    let (_, page, _) = get(&console, &cookie, "/queries/Accounts");
    assert_eq!(table(&page).1.len() as i64, accounts);

    // The page shows 1,000 rows and says so; the CSV holds them all (1,500) …
    let (_, page, _) = get(&console, &cookie, "/queries/Many");
    assert_eq!(table(&page).1.len(), 1000);
    assert!(page.contains("The first 1,000 rows are shown"), "{page}");
    let (_, csv, cut) = get(&console, &cookie, "/queries/Many/csv");
    assert!(!cut);
    assert_eq!(csv_rows(&csv).1.len(), 1500);
    // … up to its own cap of 100,000.
    let (status, csv, cut) = get(&console, &cookie, "/queries/Lots/csv");
    assert_eq!(status, 200);
    assert!(cut, "said to be cut");
    let rows = csv_rows(&csv).1;
    assert_eq!(rows.len(), 100_000);
    assert_eq!(rows[99_999], ["100000"]);

    let (status, _, _) = get(&console, &cookie, "/queries/Nothing%20here");
    assert_eq!(status, 404);
}

#[test]
fn writes_secrets_timeouts_and_errors_are_messages_on_the_page() {
    let s = scratch();
    let dir = s.path();
    let (console, cookie) = setup(dir);
    let counts = || {
        (
            int(dir, "console.db", "SELECT count(*) FROM \"user\""),
            int(dir, "console.db", "SELECT count(*) FROM staff_user"),
            int(dir, "console.db", "SELECT max(id) FROM run"),
        )
    };
    let before = counts();
    assert!(before.0 > 0);
    let cases = [
        ("Wipe", "saved queries only read"),
        ("Chained", "more than one statement"),
        ("Hashes", "holds passwords, tokens or card and bank numbers"),
        ("Cards", "holds passwords, tokens or card and bank numbers"),
        ("Staff", "holds passwords, tokens or card and bank numbers"),
        ("Forever", "stopped after 1 s"),
        ("Broken", "The database refused the query"),
    ];
    // A write the word check cannot see: PostgreSQL's read-only transaction refuses it
    // (SQLite has no such function).
    let sequence = if pg() {
        ("Sequence", "would change the target")
    } else {
        ("Sequence", "no such function")
    };
    for (name, says) in cases.into_iter().chain([sequence]) {
        let (status, page, _) = get(&console, &cookie, &format!("/queries/{name}"));
        assert_eq!(status, 200, "{name}: {page}");
        assert!(page.contains("id=\"query-error\""), "{name}: {page}");
        assert!(page.contains(says), "{name} says {says:?}: {page}");
        assert!(!page.contains("id=\"query-result\""), "{name}: no table");
        let (status, page, _) = get(&console, &cookie, &format!("/queries/{name}/csv"));
        assert_eq!(status, 422, "{name}: no download");
        assert!(page.contains(says), "{name} (CSV) says {says:?}: {page}");
    }
    let (_, page, _) = get(&console, &cookie, "/queries/Cards");
    for leaked in ["$argon2", "4111111111111111", "5555555555554444"] {
        assert!(!page.contains(leaked));
    }
    assert_eq!(before, counts(), "the target is unchanged");
    // The console still answers after the stopped query.
    let (status, _, _) = get(&console, &cookie, "/queries/Accounts");
    assert_eq!(status, 200);
}
