//! The console's pages over plain HTTP (the browser tests in `web_browser.rs` walk the same
//! flow in Chromium): a run with 100,000 findings stays usable (filtered and paged by the
//! database), and an account's page shows the balance `ferry report balances` gives.

mod common;
use common::web::{get_page as page, session, Console, ADMIN};
use common::*;
use std::time::Instant;

#[test]
fn a_run_with_a_hundred_thousand_findings_stays_usable() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    std::fs::write(
        s.path().join("one.xml"),
        "<Import><Role Name=\"Member\"/></Import>",
    )
    .unwrap();
    let r = ferry(
        s.path(),
        &["import", "one.xml", "--db", "console.db", "--test-only"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 100,000 findings in the journal of run 1, as a large run would leave them.
    target(s.path(), "console.db")
        .batch(
            "INSERT INTO run_finding (run_id, seq, severity, code, entity, key, file, sheet, row, col, field, value, message, hint)
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
             SELECT 1, i, CASE WHEN i % 4 = 0 THEN 'warning' ELSE 'error' END,
                    CASE WHEN i % 4 = 0 THEN 'duplicate.likely' ELSE 'value.required' END,
                    'User', 'M-' || i, 'big.xlsx', 'User', i + 1, 'C', 'Email', NULL,
                    CASE WHEN i = 77777 THEN 'the needle' ELSE 'Email is required' END, NULL
             FROM n",
        )
        .unwrap();
    let cookie = session(&console, ADMIN);
    let t = Instant::now();
    let (status, body) = page(&format!("{}/runs/1", console.url), &cookie);
    let first = t.elapsed();
    assert_eq!(status, 200);
    assert!(
        body.contains("(100,000 shown by the filter)"),
        "total shown"
    );
    assert!(body.contains("Page 1 of 1000"));
    assert_eq!(
        body.matches("class=\"finding-msg\"").count(),
        100,
        "one page of rows"
    );
    // The last page, a filter and a text search.
    let t = Instant::now();
    let (_, body) = page(&format!("{}/runs/1?page=1000", console.url), &cookie);
    let last = t.elapsed();
    assert!(body.contains("Page 1000 of 1000") && body.contains(">100000<"));
    let (_, body) = page(
        &format!(
            "{}/runs/1?severity=warning&code=duplicate.likely",
            console.url
        ),
        &cookie,
    );
    assert!(body.contains("(25,000 shown by the filter)"));
    let t = Instant::now();
    let (_, body) = page(&format!("{}/runs/1?q=needle", console.url), &cookie);
    let search = t.elapsed();
    assert!(body.contains("(1 shown by the filter)") && body.contains("M-77777"));
    // Speed is measured, not asserted: printed for whoever watches.
    eprintln!("100,000 findings: first page {first:?}, last page {last:?}, text search {search:?}");
}

#[test]
fn an_account_page_shows_the_balance_report_balances_gives() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let r = ferry(
        s.path(),
        &[
            "import",
            example("club/club.xlsx").to_str().unwrap(),
            "--db",
            "console.db",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cookie = session(&console, ADMIN);
    let balances = ferry(s.path(), &["report", "balances", "--db", "console.db"]).stdout;
    let mut checked = 0;
    for line in balances.lines().skip(1).take(12) {
        let f: Vec<&str> = line.split(',').collect();
        let (user, balance) = (f[0], f[1]);
        // Found by e-mail when it has one, else by name.
        let email = rows(
            s.path(),
            "console.db",
            &format!(
                "SELECT email FROM contact_email WHERE \"user\" = '{user}' ORDER BY id LIMIT 1"
            ),
        );
        let q = email
            .first()
            .map(|r| r[0].clone())
            .unwrap_or(user.to_string());
        let (_, found) = page(&format!("{}/records?q={q}", console.url), &cookie);
        assert!(
            found.contains(&format!("href=\"/records/{user}\"")),
            "{q} finds {user}"
        );
        let (status, account) = page(&format!("{}/records/{user}", console.url), &cookie);
        assert_eq!(status, 200);
        assert!(
            account.contains(&format!(
                "<div class=\"big\" id=\"balance\">{balance}</div>"
            )),
            "{user}: balance {balance}"
        );
        checked += 1;
    }
    assert!(checked >= 10);
    // Payment methods are masked: no full card number on any account page.
    let cards = rows(s.path(), "console.db", "SELECT m.\"user\" FROM user_payment_method m JOIN user_payment_method_credit_card c ON c.ref = m.ref");
    for u in cards {
        let (_, account) = page(&format!("{}/records/{}", console.url, u[0]), &cookie);
        assert!(account.contains("ending "), "{}", u[0]);
        assert!(
            !account
                .chars()
                .collect::<Vec<_>>()
                .windows(13)
                .any(|w| w.iter().all(|c| c.is_ascii_digit())),
            "no long digit runs"
        );
    }
}
