//! Entity rules through the real binary: payment methods (SPEC §4.6), tickets and attachments
//! (§4.5), subscriptions and profile answers (§4.4).

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

const USER: &str = "<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>";

fn xml(body: &str) -> String {
    format!("<?xml version=\"1.0\"?>\n<Import>\n{body}\n</Import>\n")
}

fn write(path: &Path, content: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Writes `input` (XML body) to `dir/file`, imports it into `dir/ferry.db` with `flags`, and
/// returns the run and its findings.
fn import(dir: &Path, file: &str, body: &str, flags: &[&str]) -> (Run, Vec<Value>) {
    write(&dir.join(file), xml(body));
    let mut args = vec!["import", file, "--log", "f.jsonl"];
    args.extend(flags);
    let r = ferry(dir, &args);
    assert!(r.code <= 1, "exit {}: {}", r.code, r.stderr);
    let f = findings(&dir.join("f.jsonl"));
    (r, f)
}

/// (code, key) of every finding with that code.
fn keys_with(f: &[Value], code: &str) -> Vec<String> {
    f.iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["key"].as_str().unwrap_or("").to_string())
        .collect()
}

fn codes(f: &[Value]) -> Vec<String> {
    f.iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Rows of a query as text.
fn query(db: &Path, sql: &str) -> Vec<Vec<String>> {
    rows(
        db.parent().unwrap(),
        db.file_name().unwrap().to_str().unwrap(),
        sql,
    )
}

/// `prefix` completed with its Luhn check digit.
fn luhn(prefix: &str) -> String {
    let mut sum = 0;
    for (i, c) in prefix.chars().rev().enumerate() {
        let mut d = c.to_digit(10).unwrap();
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    format!("{prefix}{}", (10 - sum % 10) % 10)
}

fn methods(refs: &[&str]) -> String {
    refs.iter()
        .map(|r| format!("<UserPaymentMethod User=\"u1\" Ref=\"{r}\"/>\n"))
        .collect()
}

fn card(r: &str, number: &str, year: u32) -> String {
    format!("<UserPaymentMethodCreditCard Ref=\"{r}\" CardNumber=\"{number}\" ExpiryMonth=\"6\" ExpiryYear=\"{year}\" NameOnCard=\"A Person\"/>\n")
}

fn ach(r: &str, routing: &str, account: &str) -> String {
    format!("<UserPaymentMethodACH Ref=\"{r}\" RoutingNumber=\"{routing}\" AccountNumber=\"{account}\" AccountType=\"Checking\"/>\n")
}

#[test]
fn card_numbers_are_luhn_checked_and_branded() {
    let dir = scratch();
    let d = dir.path();
    let cards = [
        ("m1", "4111 1111 1111 1111".to_string(), "Visa"),
        ("m2", "5555555555554444".to_string(), "Mastercard"),
        ("m3", luhn("222100000000000"), "Mastercard"),
        ("m4", luhn("272099999999999"), "Mastercard"),
        ("m5", "378282246310005".to_string(), "Amex"),
        ("m6", luhn("34000000000000"), "Amex"),
        ("m7", "6011111111111117".to_string(), "Discover"),
        ("m8", luhn("650000000000000"), "Discover"),
        ("m9", luhn("644000000000000"), "Discover"),
        ("n1", luhn("353011133330000"), "Unknown"),
        ("n2", luhn("272100000000000"), "Unknown"),
    ];
    let mut body = format!("{USER}\n");
    let refs: Vec<&str> = cards
        .iter()
        .map(|c| c.0)
        .chain(["x1", "x2", "x3"])
        .collect();
    body.push_str(&methods(&refs));
    for (r, number, _) in &cards {
        body.push_str(&card(r, number, 2099));
    }
    body.push_str(&card("x1", "4111-1111-1111-1112", 2099)); // Luhn fails
    body.push_str(&card("x2", "4242", 2099)); // too short
    body.push_str(&card("x3", "42424242424242424242", 2099)); // too long
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        keys_with(&f, "payment.card_invalid"),
        ["x1", "x2", "x3"],
        "{f:#?}"
    );
    let bad = f.iter().find(|f| f["key"] == "x1").unwrap();
    assert_eq!(bad["severity"], "error");
    assert_eq!(bad["field"], "CardNumber");
    assert_eq!(bad["value"], "************1112");
    assert_eq!(bad["row"], 29);
    assert_eq!(codes(&f).len(), 3, "{f:#?}");
    let rows = query(
        &d.join("ferry.db"),
        "SELECT ref, card_brand, card_last4 FROM user_payment_method_credit_card ORDER BY ref",
    );
    let want: Vec<Vec<String>> = cards
        .iter()
        .map(|(r, n, brand)| {
            let digits: String = n.chars().filter(char::is_ascii_digit).collect();
            vec![
                r.to_string(),
                brand.to_string(),
                digits[digits.len() - 4..].to_string(),
            ]
        })
        .collect();
    assert_eq!(rows, want);
}

#[test]
fn an_expired_card_is_a_warning() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n{}{}{}",
        methods(&["m1", "m2"]),
        card("m1", "4111111111111111", 2020),
        card("m2", "4111111111111111", 2099)
    );
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(keys_with(&f, "payment.card_expired"), ["m1"]);
    let w = f
        .iter()
        .find(|f| f["code"] == "payment.card_expired")
        .unwrap();
    assert_eq!(w["severity"], "warning");
    assert!(w["message"].as_str().unwrap().contains("06/2020"), "{w}");
    assert_eq!(
        query(
            &d.join("ferry.db"),
            "SELECT count(*) FROM user_payment_method_credit_card"
        ),
        [["2"]]
    );
}

#[test]
fn fingerprints_are_keyed_per_target_and_equal_for_the_same_number() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n{}{}{}{}{}{}",
        methods(&["m1", "m2", "m3", "a1", "a2"]),
        card("m1", "4111 1111 1111 1111", 2099),
        card("m2", "4111-1111-1111-1111", 2098),
        card("m3", "5555555555554444", 2099),
        ach("a1", "011000015", "000123456789"),
        ach("a2", "121000358", "000123456789"),
    );
    // The target first: a test-only run on a missing ./ferry.db rehearses in a temporary one.
    assert_eq!(ferry(d, &["init"]).code, 0);
    // A test-only run leaves no key behind: no identifier in the target, no key file.
    let (r, _) = import(d, "a.xml", &body, &["--test-only"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let db = d.join("ferry.db");
    assert!(query(
        &db,
        "SELECT value FROM ferry_meta WHERE key LIKE 'fingerprint%'"
    )
    .is_empty());
    assert!(key_files(d).is_empty());
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 0, "{} {f:#?}", r.stderr);
    // The target records only the key's identifier; the key is in a file of its own.
    assert!(query(
        &db,
        "SELECT value FROM ferry_meta WHERE key = 'fingerprint_key'"
    )
    .is_empty());
    let id = query(
        &db,
        "SELECT value FROM ferry_meta WHERE key = 'fingerprint_key_id'",
    );
    assert_eq!(id.len(), 1);
    assert_eq!(
        key_files(d),
        [data_home(d).join(format!("ferry/fingerprint-keys/{}.key", id[0][0]))]
    );
    let cards = query(
        &db,
        "SELECT ref, card_fingerprint FROM user_payment_method_credit_card ORDER BY ref",
    );
    let fp = |i: usize| cards[i][1].clone();
    assert_eq!(fp(0).len(), 64);
    assert!(fp(0).chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(fp(0), fp(1), "same number, same fingerprint");
    assert_ne!(fp(0), fp(2));
    let accounts = query(
        &db,
        "SELECT ref, account_last4, account_fingerprint FROM user_payment_method_ach ORDER BY ref",
    );
    assert_eq!(accounts[0][1], "6789");
    assert_eq!(accounts[0][2], accounts[1][2]);
    assert_eq!(accounts[0][2].len(), 64);
    // A later run on the same target uses the same key, so fingerprints still match.
    let later = format!(
        "{}{}",
        methods(&["m4"]),
        card("m4", "4111111111111111", 2099)
    );
    let (r, _) = import(d, "b.xml", &later, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m4 = query(
        &db,
        "SELECT card_fingerprint FROM user_payment_method_credit_card WHERE ref = 'm4'",
    );
    assert_eq!(m4[0][0], fp(0));
    // Another target has another key.
    let other = d.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (r, _) = import(&other, "a.xml", &body, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let elsewhere = query(
        &other.join("ferry.db"),
        "SELECT card_fingerprint FROM user_payment_method_credit_card WHERE ref = 'm1'",
    );
    assert_ne!(elsewhere[0][0], fp(0));
    assert_eq!(key_files(d).len(), 2, "a key file per target");
}

#[test]
fn ach_routing_numbers_carry_the_aba_checksum() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n{}{}{}{}{}",
        methods(&["a1", "a2", "a3", "a4"]),
        ach("a1", "011000015", "12345678"),
        ach("a2", "011000016", "12345678"),
        ach("a3", "01100001", "12345678"),
        ach("a4", "01100001X", "12345678"),
    );
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(
        keys_with(&f, "payment.routing_invalid"),
        ["a2", "a3", "a4"],
        "{f:#?}"
    );
    let bad = &f[0];
    assert_eq!(bad["field"], "RoutingNumber");
    assert_eq!(bad["value"], "011000016");
    assert_eq!(
        query(
            &d.join("ferry.db"),
            "SELECT ref, account_last4 FROM user_payment_method_ach"
        ),
        [["a1", "5678"]]
    );
}

#[test]
fn a_payment_method_has_exactly_one_detail() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n{}<UserPaymentMethodCash Ref=\"m1\"/>\n{}<UserPaymentMethodCheck Ref=\"m2\" BankName=\"B\"/>\n{}<UserPaymentMethodCash Ref=\"m3\"/>\n<UserPaymentMethodCash Ref=\"m3\"/>\n<UserPaymentMethodCheck Ref=\"m4\"/>\n",
        methods(&["m1", "m2", "m3", "m4", "m5"]),
        card("m1", "4111111111111111", 2099),
        ach("m2", "011000015", "12345678"),
    );
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 1);
    let conflicts: Vec<(&str, &str)> = f
        .iter()
        .filter(|f| f["code"] == "payment.method_conflict")
        .map(|f| (f["entity"].as_str().unwrap(), f["key"].as_str().unwrap()))
        .collect();
    assert_eq!(
        conflicts,
        [
            ("UserPaymentMethodCreditCard", "m1"),
            ("UserPaymentMethodACH", "m2")
        ],
        "{f:#?}"
    );
    let msg = f
        .iter()
        .find(|f| f["code"] == "payment.method_conflict")
        .unwrap()["message"]
        .as_str()
        .unwrap();
    assert!(
        msg.contains("Cash detail") && msg.contains("(at a.xml:"),
        "{msg}"
    );
    // two of the same type: the key rule
    assert_eq!(keys_with(&f, "key.duplicate"), ["m3"]);
    // against the target
    let later = format!(
        "{}{}",
        card("m4", "4111111111111111", 2099),
        card("m5", "4111111111111111", 2099)
    );
    let (r, f) = import(d, "b.xml", &later, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(keys_with(&f, "payment.method_conflict"), ["m4"]);
    assert!(f[0]["message"].as_str().unwrap().contains("in the target"));
}

#[test]
fn card_and_account_numbers_never_leave_the_run() {
    let dir = scratch();
    let d = dir.path();
    let good = "5105 1051 0510 5100";
    let bad = "4000 0566 5566 5557"; // one digit off a valid Visa test number
    let account = "918273645546372819";
    let body = format!(
        "{USER}\n{}{}{}{}{}",
        methods(&["m1", "m2", "m3", "a1"]),
        card("m1", good, 2099),
        card("m2", bad, 2099),
        card("m3", good, 2020),
        ach("a1", "011000016", account),
    );
    write(&d.join("in/a.xml"), xml(&body));
    write(&d.join("in/b.xml"), xml(&ach("m3", "011000015", account)));
    let mut out = String::new();
    for args in [
        vec!["import", "in/a.xml", "--log", "f.jsonl", "--json"],
        vec!["import", "in/a.xml", "--test-only", "--log", "f.csv"],
        vec!["import", "in/b.xml", "--log", "g.html"],
    ] {
        let r = ferry(d, &args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        out.push_str(&r.stdout);
        out.push_str(&r.stderr);
    }
    let f = findings(&d.join("f.jsonl"));
    assert!(codes(&f).contains(&"payment.card_invalid".to_string()));
    assert!(codes(&f).contains(&"payment.card_expired".to_string()));
    assert!(codes(&f).contains(&"payment.routing_invalid".to_string()));
    for v in f.iter().filter(|f| f["field"] == "CardNumber") {
        assert_eq!(v["value"], "************5557");
    }
    for (format, path) in [("xml", "out.xml"), ("csv", "out_csv")] {
        let r = ferry(d, &["export", "--format", format, path]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        out.push_str(&r.stdout);
        out.push_str(&r.stderr);
    }
    let xml_out = std::fs::read_to_string(d.join("out.xml")).unwrap();
    assert!(xml_out.contains("UserPaymentMethodCreditCard Ref=\"m1\""));
    let secrets: Vec<String> = [good, bad, account]
        .iter()
        .flat_map(|s| {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            [s.to_string(), digits[..digits.len() - 4].to_string()]
        })
        .collect();
    for s in &secrets {
        assert!(!out.contains(s.as_str()), "{s} in the output: {out}");
    }
    // Every file Ferry wrote: the target, its backups, logs, exports.
    let mut files = tree(d);
    if pg() {
        files.push(("the target".into(), target_bytes(d, "ferry.db")));
    }
    assert!(files
        .iter()
        .any(|(p, _)| p == "ferry.db" || p == "the target"));
    for (path, bytes) in files {
        if path.starts_with("in") {
            continue;
        }
        for s in &secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{s} found in {path}"
            );
        }
    }
}

#[test]
fn closed_tickets_say_who_and_when() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n<TicketStatus Name=\"Closed\"/>\n<TicketStatus Name=\"Open\"/>\n\
         <Ticket TicketID=\"t1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-05\" Status=\"Closed\"/>\n\
         <Ticket TicketID=\"t2\" User=\"u1\" Subject=\"s\" Date=\"2024-01-05\" Status=\"Closed\" ClosedBy=\"u1\" DateClosed=\"2024-01-06\"/>\n\
         <Ticket TicketID=\"t3\" User=\"u1\" Subject=\"s\" Date=\"2024-01-05\" Status=\"Open\" DateClosed=\"2024-01-04\"/>\n\
         <Ticket TicketID=\"t4\" User=\"u1\" Subject=\"s\" Date=\"2024-01-05 10:00\" Status=\"Closed\" ClosedBy=\"u1\" DateClosed=\"2024-01-05\"/>\n\
         <Ticket TicketID=\"t5\" User=\"u1\" Subject=\"s\" Date=\"2024-01-05 10:00\" Status=\"Closed\" ClosedBy=\"u1\" DateClosed=\"2024-01-05 09:59\"/>\n\
         <Ticket TicketID=\"t6\" User=\"u1\" Subject=\"s\" Date=\"2024-01-05\" Status=\"Closed\" ClosedBy=\"u1\"/>\n\
         <Ticket TicketID=\"t7\" User=\"u1\" Subject=\"s\" Date=\"2024-01-05\" Status=\"Open\"/>\n"
    );
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(
        keys_with(&f, "ticket.closed_incomplete"),
        ["t1", "t6"],
        "{f:#?}"
    );
    let t1 = &f.iter().find(|f| f["key"] == "t1").unwrap();
    assert_eq!(t1["severity"], "warning");
    // Located at the first missing field's cell (issue 17), not at Status.
    assert_eq!(t1["field"], "ClosedBy");
    assert_eq!(
        f.iter().find(|f| f["key"] == "t6").unwrap()["field"],
        "DateClosed"
    );
    assert!(t1["message"]
        .as_str()
        .unwrap()
        .contains("ClosedBy and no DateClosed"));
    assert!(f.iter().find(|f| f["key"] == "t6").unwrap()["message"]
        .as_str()
        .unwrap()
        .ends_with("no DateClosed."));
    assert_eq!(keys_with(&f, "ticket.closed_before_opened"), ["t3", "t5"]);
    let t3 = f.iter().find(|f| f["key"] == "t3").unwrap();
    assert_eq!(t3["severity"], "error");
    assert_eq!(t3["field"], "DateClosed");
    assert_eq!(
        query(
            &d.join("ferry.db"),
            "SELECT ticket_id FROM ticket ORDER BY ticket_id"
        ),
        [["t1"], ["t2"], ["t4"], ["t6"], ["t7"]]
    );
}

#[test]
fn closed_status_is_matched_ignoring_case() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n<TicketStatus Name=\"CLOSED\"/>\n<Ticket TicketID=\"t1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-05\" Status=\"CLOSED\" DateClosed=\"2024-01-06\"/>\n"
    );
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 0);
    assert_eq!(keys_with(&f, "ticket.closed_incomplete"), ["t1"]);
    assert!(f[0]["message"].as_str().unwrap().contains("no ClosedBy."));
}

const TICKET: &str = "<Ticket TicketID=\"t1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-05\"/>";

fn attachment(name: &str, attrs: &str) -> String {
    format!("<TicketAttachment TicketID=\"t1\" FileName=\"{name}\" {attrs}/>\n")
}

#[test]
fn attachments_by_data_and_by_path() {
    let dir = scratch();
    let d = dir.path();
    write(&d.join("in/files/note.txt"), "hello world");
    write(&d.join("in/top.bin"), [0u8, 1, 2]);
    let body = format!(
        "{USER}\n{TICKET}\n{}{}{}",
        attachment("a", "Data=\"aGVsbG8=\""),
        attachment("b", "Path=\"files/note.txt\""),
        attachment("c", "Path=\"./top.bin\""),
    );
    write(&d.join("in/a.xml"), xml(&body));
    let r = ferry(d, &["import", "in/a.xml", "--log", "f.jsonl"]);
    assert_eq!(
        r.code,
        0,
        "{} {:#?}",
        r.stderr,
        findings(&d.join("f.jsonl"))
    );
    assert_eq!(
        query(
            &d.join("ferry.db"),
            "SELECT file_name, size FROM ticket_attachment ORDER BY file_name"
        ),
        [["a", "5"], ["b", "11"], ["c", "3"]]
    );
    // A CSV folder: paths start from the folder.
    write(&d.join("csv/files/x.txt"), "1234");
    write(
        &d.join("csv/Ticket.csv"),
        "TicketID,User,Subject,Date\nt2,u1,s,2024-01-05\n",
    );
    write(
        &d.join("csv/TicketAttachment.csv"),
        "TicketID,FileName,Path\nt2,x,files/x.txt\nt2,y,csv/files/x.txt\n",
    );
    let r = ferry(d, &["import", "csv", "--log", "g.jsonl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&d.join("g.jsonl"));
    assert_eq!(codes(&f), ["attachment.missing"], "{f:#?}");
    assert_eq!(f[0]["row"], 3);
    assert_eq!(f[0]["field"], "Path");
    assert_eq!(
        query(
            &d.join("ferry.db"),
            "SELECT size FROM ticket_attachment WHERE file_name = 'x'"
        ),
        [["4"]]
    );
}

#[test]
fn attachment_limits_and_refused_paths() {
    let dir = scratch();
    let d = dir.path();
    write(&d.join("in/files/ten.txt"), "0123456789");
    write(&d.join("in/files/eleven.txt"), "0123456789A");
    write(&d.join("outside.txt"), "secret");
    let mut body = format!(
        "{USER}\n{TICKET}\n{}{}{}{}{}{}{}{}{}{}{}",
        attachment("ok-path", "Path=\"files/ten.txt\""),
        attachment("ok-data", "Data=\"MDEyMzQ1Njc4OQ==\""), // 10 bytes
        attachment("big-path", "Path=\"files/eleven.txt\""),
        attachment("big-data", "Data=\"MDEyMzQ1Njc4OUE=\""), // 11 bytes
        attachment("absolute", "Path=\"/etc/hostname\""),
        attachment("dotdot", "Path=\"../outside.txt\""),
        attachment("dotdot-inside", "Path=\"files/../files/ten.txt\""),
        attachment("missing", "Path=\"files/nope.txt\""),
        attachment("folder", "Path=\"files\""),
        attachment("both", "Path=\"files/ten.txt\" Data=\"MDEy\""),
        attachment("neither", ""),
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("../outside.txt", d.join("in/escape.txt")).unwrap();
        std::os::unix::fs::symlink(d.join("outside.txt"), d.join("in/escape-abs.txt")).unwrap();
        std::os::unix::fs::symlink("files/ten.txt", d.join("in/inner.txt")).unwrap();
        body.push_str(&attachment("escape", "Path=\"escape.txt\""));
        body.push_str(&attachment("escape-abs", "Path=\"escape-abs.txt\""));
        body.push_str(&attachment("inner", "Path=\"inner.txt\""));
    }
    write(&d.join("in/a.xml"), xml(&body));
    let r = ferry(
        d,
        &[
            "import",
            "in/a.xml",
            "--log",
            "f.jsonl",
            "--max-attachment-bytes",
            "10",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let by_code = |code: &str| -> Vec<String> {
        f.iter()
            .filter(|x| x["code"] == code)
            .map(|x| {
                let row = x["row"].as_u64().unwrap() as usize;
                // the FileName of the record on that line
                body.lines()
                    .nth(row - 3)
                    .unwrap()
                    .split('"')
                    .nth(3)
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        by_code("attachment.too_big"),
        ["big-path", "big-data"],
        "{f:#?}"
    );
    let mut refused = vec!["absolute", "dotdot", "dotdot-inside"];
    if cfg!(unix) {
        refused.extend(["escape", "escape-abs"]);
    }
    assert_eq!(by_code("attachment.path_refused"), refused, "{f:#?}");
    assert_eq!(
        by_code("attachment.missing"),
        ["missing", "folder"],
        "{f:#?}"
    );
    assert_eq!(by_code("attachment.path_or_data"), ["both", "neither"]);
    assert_eq!(f.len(), 9 + if cfg!(unix) { 2 } else { 0 }, "{f:#?}");
    let big = f
        .iter()
        .find(|x| x["code"] == "attachment.too_big")
        .unwrap();
    assert!(
        big["message"].as_str().unwrap().contains("11 bytes"),
        "{big}"
    );
    assert_eq!(big["field"], "Path");
    let mut ok = vec![
        vec!["ok-data".to_string(), "10".to_string()],
        vec!["ok-path".into(), "10".into()],
    ];
    if cfg!(unix) {
        ok.insert(0, vec!["inner".into(), "10".into()]);
    }
    assert_eq!(
        query(
            &d.join("ferry.db"),
            "SELECT file_name, size FROM ticket_attachment ORDER BY file_name"
        ),
        ok
    );
}

#[test]
fn large_data_is_measured_before_it_is_decoded() {
    let dir = scratch();
    let d = dir.path();
    // Just under the reader's 1 MiB value limit: 1,048,572 base64 characters, 786,429 bytes.
    let data = "A".repeat((1 << 20) - 4);
    let body = format!(
        "{USER}\n{TICKET}\n{}{}",
        attachment("big", &format!("Data=\"{data}\"")),
        attachment("fits", &format!("Data=\"{}\"", &data[..1 << 19])),
    );
    let (r, f) = import(d, "a.xml", &body, &["--max-attachment-bytes", "786428"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(codes(&f), ["attachment.too_big"]);
    assert_eq!(f[0]["row"], 5);
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("786429 bytes, over the limit of 786428 bytes"));
    assert_eq!(
        query(
            &d.join("ferry.db"),
            "SELECT file_name, size FROM ticket_attachment"
        ),
        [["fits", "393216"]]
    );
}

const PACKAGES: &str = "<Service Name=\"s1\"/>\n<Service Name=\"s2\"/>\n<Package Name=\"p\"/>\n<PackageService Package=\"p\" Service=\"s1\"/>\n<UserPackage User=\"u1\" Name=\"p\"/>";

#[test]
fn a_service_that_is_not_optional_must_be_in_its_package() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n{PACKAGES}\n\
         <UserService User=\"u1\" UserPackage=\"p\" Name=\"s1\"/>\n\
         <UserService User=\"u1\" UserPackage=\"p\" Name=\"s2\"/>\n\
         <UserService User=\"u1\" UserPackage=\"p\" Name=\"s2\" Optional=\"false\"/>\n\
         <UserService User=\"u1\" UserPackage=\"p\" Name=\"s2\" Optional=\"true\"/>\n"
    );
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 1);
    let hits: Vec<&Value> = f
        .iter()
        .filter(|f| f["code"] == "subscription.service_not_in_package")
        .collect();
    assert_eq!(hits.len(), 2, "{f:#?}");
    assert_eq!(hits[0]["row"], 10);
    assert_eq!(hits[0]["field"], "Name");
    assert_eq!(hits[0]["value"], "s2");
    assert!(hits[0]["message"]
        .as_str()
        .unwrap()
        .contains("\"s2\" is not in package \"p\""));
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!(
        query(&d.join("ferry.db"), "SELECT count(*) FROM user_service"),
        [["2"]]
    );
}

#[test]
fn a_percent_discount_is_0_to_100() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n{PACKAGES}\n\
         <UserPackageAttributeDiscount User=\"u1\" UserPackage=\"p\" DiscountType=\"Percent\" Amount=\"120\"/>\n\
         <UserPackageAttributeDiscount User=\"u1\" UserPackage=\"p\" DiscountType=\"percent\" Amount=\"-1\"/>\n\
         <UserPackageAttributeDiscount User=\"u1\" UserPackage=\"p\" DiscountType=\"Percent\" Amount=\"100\"/>\n\
         <UserPackageAttributeDiscount User=\"u1\" UserPackage=\"p\" DiscountType=\"Percent\" Amount=\"0\"/>\n\
         <UserPackageAttributeDiscount User=\"u1\" UserPackage=\"p\" DiscountType=\"Fixed\" Amount=\"120\"/>\n"
    );
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(codes(&f), ["value.out_of_range", "value.out_of_range"]);
    assert_eq!(f[0]["field"], "Amount");
    assert_eq!(f[0]["value"], "120");
    assert_eq!(f[0]["row"], 9);
    assert_eq!(f[1]["row"], 10);
    assert_eq!(
        query(
            &d.join("ferry.db"),
            "SELECT count(*) FROM user_package_attribute_discount"
        ),
        [["3"]]
    );
}

#[test]
fn an_expiry_date_without_time_is_the_end_of_that_day() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\"/>\n<User Name=\"u3\" Owner=\"admin\" Role=\"Customer\"/>\n\
         <UserAttributeExpiryDate User=\"u1\" Date=\"2025-06-30\"/>\n\
         <UserAttributeExpiryDate User=\"u2\" Date=\"7/1/2025 10:00 AM\"/>\n\
         <UserAttributeExpiryDate User=\"u3\" Date=\"12/31/2025\"/>\n"
    );
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 0, "{f:#?}");
    let r = ferry(d, &["export", "--format", "xml", "out.xml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = std::fs::read_to_string(d.join("out.xml")).unwrap();
    assert!(
        out.contains("<UserAttributeExpiryDate User=\"u1\" Date=\"2025-06-30 23:59:59\"/>"),
        "{out}"
    );
    assert!(
        out.contains("User=\"u2\" Date=\"2025-07-01 10:00:00\""),
        "{out}"
    );
    assert!(
        out.contains("User=\"u3\" Date=\"2025-12-31 23:59:59\""),
        "{out}"
    );
    // Importing the same file again finds the same (end-of-day) records.
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 0);
    assert_eq!(keys_with(&f, "key.identical").len(), 6, "{f:#?}");
}

#[test]
fn profile_answers_need_a_question_of_the_role_or_service() {
    let dir = scratch();
    let d = dir.path();
    let body = format!(
        "{USER}\n{PACKAGES}\n<Role Name=\"Staff\"/>\n\
         <ProfileQuestion Name=\"Colour\" AppliesTo=\"Role\" Target=\"Customer\"/>\n\
         <ProfileQuestion Name=\"Badge\" AppliesTo=\"Role\" Target=\"Staff\"/>\n\
         <ProfileQuestion Name=\"Speed\" AppliesTo=\"Service\" Target=\"s1\"/>\n\
         <UserService User=\"u1\" UserPackage=\"p\" Name=\"s1\"/>\n\
         <ProfileAnswer User=\"u1\" Question=\"Colour\" Answer=\"red\"/>\n\
         <ProfileAnswer User=\"u1\" Question=\"Size\" Answer=\"L\"/>\n\
         <ProfileAnswer User=\"u1\" Question=\"colour\" Answer=\"red\"/>\n\
         <ProfileAnswer User=\"u1\" Question=\"Badge\" Answer=\"7\"/>\n\
         <ProfileAnswer User=\"u1\" Question=\"Speed\" Answer=\"fast\" Service=\"s1\"/>\n\
         <ProfileAnswer User=\"u1\" Question=\"Colour\" Answer=\"red\" Service=\"s1\"/>\n\
         <UserServiceProfileAnswer User=\"u1\" UserPackage=\"p\" UserService=\"s1\" Question=\"Speed\" Answer=\"fast\"/>\n\
         <UserServiceProfileAnswer User=\"u1\" UserPackage=\"p\" UserService=\"s1\" Question=\"Colour\" Answer=\"red\"/>\n"
    );
    let (r, f) = import(d, "a.xml", &body, &[]);
    assert_eq!(r.code, 1);
    let unknown: Vec<(u64, &str, &str)> = f
        .iter()
        .filter(|f| f["code"] == "reference.unknown")
        .map(|f| {
            (
                f["row"].as_u64().unwrap(),
                f["value"].as_str().unwrap(),
                f["hint"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        unknown,
        [
            (15, "Size", ""),
            (16, "colour", "did you mean \"Colour\"?"),
            (17, "Badge", ""),
            (19, "Colour", ""),
            (21, "Colour", ""),
        ],
        "{f:#?}"
    );
    assert_eq!(f.len(), 5, "{f:#?}");
    let role = f.iter().find(|f| f["row"] == 17).unwrap();
    assert_eq!(role["field"], "Question");
    assert!(role["message"]
        .as_str()
        .unwrap()
        .contains("role \"Customer\""));
    // --fold-case takes the question's own spelling, with a warning.
    let (r, f) = import(
        d,
        "b.xml",
        "<ProfileAnswer User=\"u1\" Question=\"COLOUR\" Answer=\"blue\"/>",
        &["--fold-case"],
    );
    assert_eq!(r.code, 0, "{f:#?}");
    assert_eq!(codes(&f), ["reference.case_folded"]);
    assert_eq!(
        query(
            &d.join("ferry.db"),
            "SELECT question FROM profile_answer WHERE answer = 'blue'"
        ),
        [["Colour"]]
    );
}
