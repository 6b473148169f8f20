//! The console's sign-in under attack, over HTTP against a real `ferry serve`: a browser the
//! staff member signed in from before (its device cookie) signs in while their e-mail is being
//! guessed from many addresses; behind a proxy every client counts alone (IPv4-mapped peers,
//! ranges, `X-Forwarded-For` entries with ports or that are not addresses); the sign-in takes
//! small bodies only; a target error is not a failed attempt; an https public URL makes the
//! cookies Secure and the session cookie `__Host-`.

mod common;
use common::web::{
    agent, post_sign_in, raw_send, set_cookie, signin_form, Console, ADMIN, PASSWORD, VIEWER,
};
use common::*;

fn status(r: &ureq::http::Response<ureq::Body>) -> u16 {
    r.status().as_u16()
}

/// The `name=value` part of a `Set-Cookie`.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

/// Signs in as `email` from `xff` (behind the trusted proxy), carrying `device` if any.
fn attempt(
    console: &Console,
    email: &str,
    password: &str,
    xff: &str,
    device: Option<&str>,
) -> ureq::http::Response<ureq::Body> {
    let mut headers = vec![("X-Forwarded-For", xff)];
    if let Some(d) = device {
        headers.push(("Cookie", d));
    }
    post_sign_in(console, email, password, &headers)
}

/// Someone fails on a staff e-mail from many addresses (here 40 times from 8): past its free
/// failures, every attempt on that e-mail from an unknown browser is delayed, and such an
/// attacker could keep it so forever. The staff member's own browser, which signed in before,
/// carries a device cookie and signs in at once; a stranger's browser, even with the right
/// password, is delayed. The device cookie is HttpOnly, SameSite=Strict, long-lived, and stored
/// only as a hash; it counts for its own staff member only, and has its own small limit.
#[test]
fn a_known_device_signs_in_while_its_e_mail_is_under_attack() {
    let s = scratch();
    let console = Console::start_with(s.path(), "console.db", &["--trusted-proxy", "127.0.0.1"]);
    let first = attempt(&console, ADMIN, PASSWORD, "198.51.100.7", None);
    assert_eq!(status(&first), 303);
    let device = set_cookie(&first, "ferry_device").expect("a device cookie");
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/signin",
        "Max-Age=15552000",
    ] {
        assert!(device.contains(flag), "{flag} in {device}");
    }
    assert!(!device.contains("Secure"), "plain HTTP here");
    let device = pair(&device);
    let token = device.trim_start_matches("ferry_device=").to_string();
    let stored = rows(
        s.path(),
        "console.db",
        "SELECT token_hash FROM staff_device",
    );
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0][0].len() == 64 && stored[0][0] != token,
        "only a hash"
    );

    // The attack: 40 wrong passwords from 8 addresses, 5 each.
    let mut refused = 0;
    for i in 0..40 {
        let from = format!("203.0.113.{}", i / 5);
        let r = attempt(&console, ADMIN, &format!("guess {i}"), &from, None);
        assert!(
            [401, 429].contains(&status(&r)),
            "attempt {i}: {}",
            status(&r)
        );
        refused += (status(&r) == 429) as u32;
    }
    assert!(refused >= 1, "the e-mail is slowed past its free failures");
    // A browser the staff member never used: delayed, even with the right password.
    let stranger = attempt(&console, ADMIN, PASSWORD, "192.0.2.44", None);
    assert_eq!(status(&stranger), 429);
    assert!(set_cookie(&stranger, "ferry_session").is_none());
    // Their own browser: signed in at once, from any address.
    let known = attempt(&console, ADMIN, PASSWORD, "192.0.2.45", Some(&device));
    assert_eq!(status(&known), 303, "the known device");
    assert!(set_cookie(&known, "ferry_session").is_some());
    assert_eq!(
        set_cookie(&known, "ferry_device").map(|c| pair(&c)),
        Some(device.clone()),
        "the same device, kept longer"
    );
    // The cookie is worth nothing for another staff member's e-mail (the viewer here signs in
    // through the ordinary limits, which this address has not used).
    let other = attempt(&console, VIEWER, PASSWORD, "192.0.2.46", Some(&device));
    assert_eq!(status(&other), 303);
    let viewer_device = pair(&set_cookie(&other, "ferry_device").unwrap());
    assert_ne!(viewer_device, device, "a device of the viewer's own");
    // A stolen device cookie is limited on its own: five wrong passwords, then refused.
    for i in 0..5 {
        let r = attempt(
            &console,
            ADMIN,
            &format!("thief {i}"),
            &format!("192.0.2.{}", 50 + i),
            Some(&device),
        );
        assert_eq!(status(&r), 401);
    }
    let r = attempt(&console, ADMIN, PASSWORD, "192.0.2.60", Some(&device));
    assert_eq!(status(&r), 429, "the device's own limit");
}

/// A proxy on the same machine reaches a console listening on `[::]` from `::ffff:127.0.0.1`:
/// it is still the trusted `127.0.0.1` (or inside the trusted `127.0.0.0/8`), so each client
/// behind it counts alone, and a guesser does not lock every staff member out.
#[test]
fn behind_a_proxy_each_client_counts_alone_on_a_dual_stack_socket() {
    for trusted in ["127.0.0.1", "127.0.0.0/8"] {
        let s = scratch();
        Console::prepare(s.path(), "console.db");
        let console = Console::serve_at(
            s.path(),
            "console.db",
            "[::]:0",
            &["--trusted-proxy", trusted],
            &[],
        );
        for i in 0..5 {
            let r = attempt(&console, ADMIN, &format!("guess {i}"), "203.0.113.5", None);
            assert_eq!(status(&r), 401);
        }
        let r = attempt(&console, ADMIN, PASSWORD, "203.0.113.5", None);
        assert_eq!(status(&r), 429, "{trusted}: the guesser");
        let r = attempt(&console, ADMIN, PASSWORD, "198.51.100.7", None);
        assert_eq!(status(&r), 303, "{trusted}: the staff member's own address");
        assert!(
            !console.stderr().contains("Warning"),
            "{}",
            console.stderr()
        );
    }
}

/// `X-Forwarded-For` read from the right: an entry with a port is that address (`ip:port`,
/// `[v6]:port`), and an entry that is not an address stops the walk (the client is then the
/// proxy), so that what a client wrote left of it never counts.
#[test]
fn forwarded_entries_with_ports_count_and_unknown_ones_stop_the_walk() {
    let s = scratch();
    let console = Console::start_with(s.path(), "console.db", &["--trusted-proxy", "127.0.0.1"]);
    for i in 0..5 {
        let r = attempt(&console, ADMIN, &format!("g{i}"), "203.0.113.5:4711", None);
        assert_eq!(status(&r), 401);
    }
    let r = attempt(&console, ADMIN, PASSWORD, "203.0.113.5:5000", None);
    assert_eq!(status(&r), 429, "the same client, whatever its port");
    let r = attempt(&console, ADMIN, PASSWORD, "[2001:db8::7]:443", None);
    assert_eq!(status(&r), 303, "another client");
    // A proxy that writes `unknown`: what the client wrote left of it does not count, so a
    // guesser cannot make up a new address for every try.
    for i in 0..5 {
        let xff = format!("198.51.100.{i}, unknown");
        let r = attempt(&console, VIEWER, &format!("g{i}"), &xff, None);
        assert_eq!(status(&r), 401);
    }
    let r = attempt(&console, VIEWER, "g5", "198.51.100.99, unknown", None);
    assert_eq!(
        status(&r),
        429,
        "counted as the proxy, not as 198.51.100.99"
    );
}

/// The sign-in form (and every other form) takes at most 16 KiB: a large body is refused with
/// 413 before it is read whole, signed in or not.
#[test]
fn forms_take_small_bodies_only() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let (cookie, _) = signin_form(&console);
    let host = console.url.trim_start_matches("http://").to_string();
    for (path, len) in [("/signin", 1024 * 1024), ("/signin", 17 * 1024)] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
        );
        let a = raw_send(&console, &head, vec![b'x'; len]);
        assert_eq!(a.status, 413, "{path} {len}: {}", a.text);
    }
    // A small form is read as usual (here refused for its missing token, not its size).
    let head = format!(
        "POST /signin HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw_send(&console, &head, vec![b'x'; 100]).status, 403);
}

/// A target that fails while a right password is being checked answers 500, and the attempt
/// is not counted as a failure: once the target is back, the staff member signs in.
#[test]
fn a_target_error_during_sign_in_costs_no_attempt() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let t = target(s.path(), "console.db");
    t.exec(
        "ALTER TABLE staff_session RENAME TO staff_session_away",
        &[],
    )
    .unwrap();
    for _ in 0..6 {
        let r = post_sign_in(&console, ADMIN, PASSWORD, &[]);
        assert_eq!(status(&r), 500);
    }
    t.exec(
        "ALTER TABLE staff_session_away RENAME TO staff_session",
        &[],
    )
    .unwrap();
    let r = post_sign_in(&console, ADMIN, PASSWORD, &[]);
    assert_eq!(status(&r), 303, "no attempt was charged");
}

/// Behind TLS (`--public-url https://…`, no `--secure-cookies` needed) every cookie is Secure,
/// and the session cookie is `__Host-` prefixed (Path=/, no Domain): the only one accepted.
/// Without `--trusted-proxy` the console warns that every client seems to be the proxy.
#[test]
fn an_https_public_url_makes_the_cookies_secure() {
    let s = scratch();
    let console = Console::start_with(
        s.path(),
        "console.db",
        &["--public-url", "https://ferry.example.org"],
    );
    let mut r = agent()
        .get(format!("{}/signin", console.url))
        .call()
        .unwrap();
    let form = set_cookie(&r, "__Secure-ferry_signin").expect("a secure pre-session cookie");
    assert!(form.contains("; Secure"), "{form}");
    let body = r.body_mut().read_to_string().unwrap();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let token = body[at..].split('"').next().unwrap().to_string();
    let r = agent()
        .post(format!("{}/signin", console.url))
        .header("Cookie", pair(&form))
        .send_form([("email", ADMIN), ("password", PASSWORD), ("csrf", &token)])
        .unwrap();
    assert_eq!(status(&r), 303);
    let session = set_cookie(&r, "__Host-ferry_session").expect("a __Host- session cookie");
    let attributes: Vec<&str> = session.split(';').map(str::trim).collect();
    for flag in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(attributes.contains(&flag), "{flag} in {session}");
    }
    assert!(!session.to_ascii_lowercase().contains("domain="));
    let device = set_cookie(&r, "__Secure-ferry_device").expect("a secure device cookie");
    assert!(device.contains("; Secure"));
    assert!(set_cookie(&r, "ferry_session").is_none());
    let value = pair(&session)
        .trim_start_matches("__Host-ferry_session=")
        .to_string();
    let runs = |cookie: String| {
        agent()
            .get(format!("{}/runs", console.url))
            .header("Cookie", cookie)
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(runs(format!("__Host-ferry_session={value}")), 200);
    assert_eq!(runs(format!("ferry_session={value}")), 401);
    assert!(
        console.stderr().contains("--trusted-proxy"),
        "{}",
        console.stderr()
    );
}
