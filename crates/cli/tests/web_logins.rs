//! The console's Logins page over plain HTTP against a real `ferry serve`, on both backends:
//! only signed-in staff see it; a viewer sees the list without actions and cannot change
//! anything; an admin's changes need the session's CSRF token and this site's origin; a
//! temporary password is shown once, on the answer to the form, and stored only as a hash; every
//! change is journaled under the staff member's e-mail; no page shows a hash or a password again.

mod common;
use common::web::{
    get_reply, post_reply as post, session_token as session, Console, Reply, ADMIN, VIEWER,
};
use common::*;
use std::io::Write as _;
use std::process::Stdio;

fn get(url: &str, session: Option<&str>) -> Reply {
    get_reply(url, session, true)
}

/// The CSRF token a page's forms carry.
fn csrf_of(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a form with a token")
        + 19;
    body[at..].split('"').next().unwrap().to_string()
}

fn verify_password(
    dir: &std::path::Path,
    db: &str,
    username: &str,
    password: &str,
) -> (i32, String) {
    let mut c = command(dir, &["logins", "verify-password", username, "--db", db])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(c.stdin.take().unwrap(), "{password}").unwrap();
    let out = c.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_logins_page_sets_usernames_and_shows_a_temporary_password_once() {
    let s = scratch();
    let d = s.path();
    let console = Console::start(d, "console.db");
    std::fs::write(
        d.join("in.xml"),
        r#"<Import>
  <User Name="alice" Owner="admin" Role="Customer" Email="alice@example.com" Password="$2b$04$zgFReH9nEo0fHQWf3FkHVezSEl/VlvJMMj9RQ8/ox7h4c0YV7YT8a"/>
  <User Name="bob" Owner="admin" Role="Customer"/>
  <User Name="carol" Owner="admin" Role="Customer" Email="carol@example.com"/>
</Import>"#,
    )
    .unwrap();
    let r = ferry(
        d,
        &[
            "import",
            "in.xml",
            "--db",
            "console.db",
            "--create-accounts",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let url = |p: &str| format!("{}{p}", console.url);

    // Without a session: nothing.
    let r = get(&url("/logins"), None);
    assert_eq!(r.status, 303);
    assert!(r.location.starts_with("/signin?next="));
    for path in ["/logins/password", "/logins/username"] {
        let r = post(
            &url(path),
            None,
            None,
            &[("csrf", "x"), ("account", "bob"), ("username", "b")],
        );
        assert_eq!(r.status, 401, "{path}");
    }

    // A viewer sees the list, not the actions, and cannot change anything.
    let viewer = session(&console, VIEWER);
    let r = get(&url("/logins"), Some(&viewer));
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("carol@example.com") && r.body.contains("bcrypt"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(">bob<"),
        "bob has no login and is listed: {}",
        r.body
    );
    assert!(!r.body.contains("/logins/password") && !r.body.contains("/logins/username"));
    assert!(!r.body.contains("$2b$"), "no hash on the page");
    let vtoken = csrf_of(&r.body);
    let r = post(
        &url("/logins/password"),
        Some(&viewer),
        None,
        &[("csrf", &vtoken), ("account", "carol")],
    );
    assert_eq!(r.status, 403);
    let r = post(
        &url("/logins/username"),
        Some(&viewer),
        None,
        &[("csrf", &vtoken), ("account", "bob"), ("username", "bob@x")],
    );
    assert_eq!(r.status, 403);
    let hash_of = |user: &str| {
        rows(d, "console.db", &format!("SELECT password_hash, must_reset, must_change FROM login WHERE \"user\" = '{user}'"))
    };
    assert_eq!(hash_of("carol")[0][0], "!");
    assert!(hash_of("bob").is_empty());

    // An admin: the token and this site are required.
    let admin = session(&console, ADMIN);
    let page = get(&url("/logins"), Some(&admin));
    assert!(page.body.contains("/logins/password"));
    let token = csrf_of(&page.body);
    let r = post(
        &url("/logins/password"),
        Some(&admin),
        None,
        &[("account", "carol")],
    );
    assert_eq!(r.status, 403);
    let r = post(
        &url("/logins/password"),
        Some(&admin),
        None,
        &[("csrf", "forged"), ("account", "carol")],
    );
    assert_eq!(r.status, 403);
    let r = post(
        &url("/logins/password"),
        Some(&admin),
        Some("http://evil.example"),
        &[("csrf", &token), ("account", "carol")],
    );
    assert_eq!(r.status, 403);
    assert_eq!(hash_of("carol")[0][0], "!");

    // A temporary password, shown once.
    let r = post(
        &url("/logins/password"),
        Some(&admin),
        None,
        &[("csrf", &token), ("account", "carol")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.cache, "no-store");
    let at = r
        .body
        .find("id=\"temporary-password\">")
        .expect("the password")
        + 24;
    let temp = r.body[at..].split('<').next().unwrap().to_string();
    assert_eq!(temp.len(), 23, "{temp}");
    let carol = &hash_of("carol")[0];
    assert!(carol[0].starts_with("$argon2id$"), "{carol:?}");
    assert_eq!((carol[1].as_str(), carol[2].as_str()), ("0", "1"));
    let (code, said) = verify_password(d, &console.db, "carol@example.com", &temp);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("must change"), "{said}");

    // Usernames: rename, give an account its first login, refuse a bad one.
    let r = post(
        &url("/logins/username"),
        Some(&admin),
        None,
        &[
            ("csrf", &token),
            ("account", "bob"),
            ("username", "Bob@Example.org"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.starts_with("/logins?done="));
    assert_eq!(
        rows(
            d,
            "console.db",
            "SELECT username, must_reset FROM login WHERE \"user\" = 'bob'"
        ),
        vec![vec!["bob@example.org".to_string(), "1".to_string()]]
    );
    let r = post(
        &url("/logins/username"),
        Some(&admin),
        None,
        &[
            ("csrf", &token),
            ("account", "carol"),
            ("username", "alice@example.com"),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("already the username of account"),
        "{}",
        r.body
    );
    let r = post(
        &url("/logins/username"),
        Some(&admin),
        None,
        &[
            ("csrf", &token),
            ("account", "carol"),
            ("username", "two words"),
        ],
    );
    assert_eq!(r.status, 400);

    // The page again: the journal names the admin; the temporary password is nowhere.
    let again = get(&url("/logins"), Some(&admin));
    assert!(
        again.body.contains("console:admin@example.org"),
        "{}",
        again.body
    );
    assert!(again.body.contains("temporary_password_set") && again.body.contains("login_created"));
    // The list (above the other cards) filtered.
    let list = |path: &str, who: &str| {
        let body = get(&url(path), Some(who)).body;
        body.split("Accounts without a login")
            .next()
            .unwrap()
            .to_string()
    };
    let filtered = list("/logins?state=must-change", &admin);
    assert!(filtered.contains("carol@example.com") && !filtered.contains("alice@example.com"));
    let legacy = list("/logins?state=legacy&q=ali", &viewer);
    assert!(legacy.contains("alice@example.com") && !legacy.contains("carol@example.com"));
    for (what, text) in [
        ("page", again.body.clone()),
        (
            "target",
            String::from_utf8_lossy(&target_bytes(d, "console.db")).into_owned(),
        ),
        (
            "events",
            ferry(d, &["logins", "events", "--db", "console.db"]).stdout,
        ),
    ] {
        assert!(!text.contains(&temp), "{what} shows the temporary password");
    }
    assert!(
        !again.body.contains("$argon2") && !again.body.contains("$2b$"),
        "no hash on the page"
    );
}
