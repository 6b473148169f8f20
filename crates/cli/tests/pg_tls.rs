//! PostgreSQL over TLS (the URL's `sslmode` and `sslrootcert`), against the local server with a
//! CA and a server certificate this test makes (rcgen): `require` encrypts, `verify-ca` checks
//! the chain, `verify-full` the chain and the host name; a wrong CA or host is refused (exit 2)
//! with a clear message, and the server's own statistics show ferry's session encrypted.
//!
//! Runs in the PostgreSQL pass (`FERRY_TEST_BACKEND=postgres`). It points the server's TLS at
//! its certificate (ALTER SYSTEM, as the superuser over trust auth; the files are written by the
//! server itself with `lo_export`, so they belong to its OS user with its private mode) and puts
//! the server's settings back afterwards. Non-TLS connections keep working throughout.

mod common;
use common::*;
use postgres::{Client, NoTls};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::path::Path;
use std::time::{Duration, Instant};

/// Serializes runs of this test against one server (another checkout's, say): the server's TLS
/// settings are global.
const TLS_TEST_LOCK: i64 = 0x4645_5252_5954_4c53;

fn superuser() -> Client {
    Client::connect(&format!("{PG_SERVER}/postgres"), NoTls).expect("the PostgreSQL server")
}

/// A CA: its certificate (PEM) and the issuer that signs with it.
fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// A server certificate for the host name `localhost` only (no IP address), and its key (PEM).
fn server_cert(ca: &CertifiedIssuer<'static, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "localhost");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = p.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Writes a file as the server's OS user, readable by it alone (mode 0600: the server refuses a
/// private key with group or world access, and `lo_export` makes files world-readable).
fn server_write(c: &mut Client, path: &str, bytes: &[u8]) {
    let oid: u32 = c
        .query_one("SELECT lo_from_bytea(0, $1)", &[&bytes])
        .unwrap()
        .get(0);
    c.execute("SELECT lo_export($1, $2)", &[&oid, &path])
        .unwrap();
    c.execute("SELECT lo_unlink($1)", &[&oid]).unwrap();
    c.batch_execute(&format!("COPY (SELECT 1) TO PROGRAM 'chmod 600 {path}'"))
        .unwrap();
}

fn setting(name: &str) -> String {
    superuser()
        .query_one(&format!("SHOW {name}"), &[])
        .unwrap()
        .get(0)
}

/// Reloads the server's configuration and waits until new sessions see `ssl_cert_file` = `want`.
fn reload_until(c: &mut Client, want: &str) {
    c.batch_execute("SELECT pg_reload_conf()").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while setting("ssl_cert_file") != want {
        assert!(
            Instant::now() < deadline,
            "the server did not reload its TLS settings"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The server's TLS pointed at the test's certificate while it lives; its own settings back after.
struct ServerTls {
    admin: Client,
    files: [String; 2],
    was: String,
}

impl ServerTls {
    fn with(cert_pem: &str, key_pem: &str) -> ServerTls {
        let mut admin = superuser();
        admin
            .execute("SELECT pg_advisory_lock($1)", &[&TLS_TEST_LOCK])
            .unwrap();
        let data: String = admin.query_one("SHOW data_directory", &[]).unwrap().get(0);
        let files = [
            format!("{data}/ferry_test_tls_server.crt"),
            format!("{data}/ferry_test_tls_server.key"),
        ];
        server_write(&mut admin, &files[0], cert_pem.as_bytes());
        server_write(&mut admin, &files[1], key_pem.as_bytes());
        let was = setting("ssl_cert_file");
        let guard = ServerTls { admin, files, was };
        let mut a = superuser();
        for (k, v) in [
            ("ssl_cert_file", guard.files[0].as_str()),
            ("ssl_key_file", guard.files[1].as_str()),
            ("ssl", "on"),
        ] {
            a.batch_execute(&format!("ALTER SYSTEM SET {k} = '{v}'"))
                .unwrap();
        }
        reload_until(&mut a, &guard.files[0]);
        guard
    }
}

impl Drop for ServerTls {
    fn drop(&mut self) {
        let mut a = superuser();
        for k in ["ssl_cert_file", "ssl_key_file", "ssl"] {
            let _ = a.batch_execute(&format!("ALTER SYSTEM RESET {k}"));
        }
        let _ = a.batch_execute("SELECT pg_reload_conf()");
        let deadline = Instant::now() + Duration::from_secs(15);
        while setting("ssl_cert_file") != self.was && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        // The files are no longer used: the server's user removes them.
        let _ = a.batch_execute(&format!(
            "COPY (SELECT 1) TO PROGRAM 'rm -f {} {}'",
            self.files[0], self.files[1]
        ));
        let _ = self
            .admin
            .execute("SELECT pg_advisory_unlock($1)", &[&TLS_TEST_LOCK]);
    }
}

/// The test database's URL with another host and these parameters.
fn url(base: &str, host: &str, params: &str) -> String {
    let with_host = base.replacen("@127.0.0.1:", &format!("@{host}:"), 1);
    format!("{with_host}?{params}")
}

/// Whether the session of a held `ferry import` (FERRY_TEST_HOLD_MS) is encrypted, as the
/// server sees it (`pg_stat_ssl`, found by ferry's session name `ferry <pid>@<host>`).
fn session_encrypted(dir: &Path, db: &str) -> bool {
    std::fs::write(
        dir.join("one.xml"),
        "<Import><User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/></Import>",
    )
    .unwrap();
    let mut child = command(dir, &["import", "one.xml", "--test-only", "--db", db])
        .env("FERRY_TEST_HOLD_MS", "3000")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let name = format!("ferry {}@%", child.id());
    let mut c = superuser();
    let deadline = Instant::now() + Duration::from_secs(20);
    let found = loop {
        let rows = c
            .query(
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.application_name LIKE $1 AND a.datname = $2",
                &[&name, &db.split('?').next().unwrap().rsplit('/').next().unwrap()],
            )
            .unwrap();
        if let Some(r) = rows.first() {
            break r.get::<_, bool>(0);
        }
        if let Ok(Some(_)) = child.try_wait() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "ferry ended before its session was seen: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(Instant::now() < deadline, "ferry's session never showed up");
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    found
}

#[test]
fn postgres_over_tls_encrypts_and_verifies_as_sslmode_says() {
    if !pg() {
        eprintln!("pg_tls: runs in the PostgreSQL pass (FERRY_TEST_BACKEND=postgres)");
        return;
    }
    let s = scratch();
    let d = s.path();
    let trusted = ca("Ferry test CA");
    let other = ca("Some other CA");
    std::fs::write(d.join("ca.pem"), trusted.pem()).unwrap();
    std::fs::write(d.join("other-ca.pem"), other.pem()).unwrap();
    let (cert, key) = server_cert(&trusted);
    let _tls = ServerTls::with(&cert, &key);
    let base = db(d, "tls.db");
    let ca_file = d.join("ca.pem").display().to_string();
    let other_file = d.join("other-ca.pem").display().to_string();

    // require: encrypted, the certificate not checked (as libpq).
    let require = url(&base, "127.0.0.1", "sslmode=require");
    let r = ferry(d, &["init", "--db", &require]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(session_encrypted(d, &require), "sslmode=require encrypts");
    // verify-ca: the chain is checked, not the host name (the certificate names localhost only).
    let verify_ca = url(
        &base,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca_file}"),
    );
    let r = ferry(d, &["runs", "--db", &verify_ca]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // verify-full by the name in the certificate (hostaddr: connect to 127.0.0.1 whatever
    // localhost resolves to).
    let full = url(
        &base,
        "localhost",
        &format!("hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca_file}"),
    );
    let r = ferry(d, &["runs", "--db", &full]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(session_encrypted(d, &full), "sslmode=verify-full encrypts");
    // sslmode=disable: the same server, not encrypted (the check above means something).
    let plain = url(&base, "127.0.0.1", "sslmode=disable");
    assert!(!session_encrypted(d, &plain));
    // The default (prefer, as libpq): encrypted when the server offers TLS.
    assert!(session_encrypted(d, &base));

    // verify-full with a host name the certificate does not give: refused.
    let wrong_host = url(
        &base,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca_file}"),
    );
    let r = ferry(d, &["runs", "--db", &wrong_host]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot connect securely")
            && r.stderr.contains("not valid for the host name")
            && r.stderr.contains("127.0.0.1"),
        "{}",
        r.stderr
    );
    // verify-ca against another CA, and against the system's CAs: refused; the password in the
    // URL stays masked with the TLS parameters around it.
    let wrong_ca = url(
        &base.replacen("postgres@", "postgres:s3cret-pw@", 1),
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={other_file}"),
    );
    let r = ferry(d, &["runs", "--db", &wrong_ca]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not signed by a trusted CA") && r.stderr.contains("postgres:***@"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("s3cret-pw"), "{}", r.stderr);
    // Naming a CA file without sslmode (or with prefer/require) checks the server: refused
    // against another CA, accepted against the right one.
    for params in ["", "sslmode=prefer&", "sslmode=require&"] {
        let r = ferry(
            d,
            &[
                "runs",
                "--db",
                &url(
                    &base,
                    "127.0.0.1",
                    &format!("{params}sslrootcert={other_file}"),
                ),
            ],
        );
        assert_eq!(r.code, 2, "{params}: {}", r.stderr);
        assert!(
            r.stderr.contains("not signed by a trusted CA"),
            "{}",
            r.stderr
        );
    }
    let r = ferry(
        d,
        &[
            "runs",
            "--db",
            &url(&base, "127.0.0.1", &format!("sslrootcert={ca_file}")),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // sslrootcert=system: verify-full unless a weaker mode is named, which is refused.
    let r = ferry(
        d,
        &[
            "runs",
            "--db",
            &url(&base, "127.0.0.1", "sslrootcert=system"),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot connect securely"), "{}", r.stderr);
    let r = ferry(
        d,
        &[
            "runs",
            "--db",
            &url(&base, "127.0.0.1", "sslmode=require&sslrootcert=system"),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("needs sslmode=verify-full"),
        "{}",
        r.stderr
    );
    let system = url(&base, "127.0.0.1", "sslmode=verify-ca");
    let r = ferry(d, &["runs", "--db", &system]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot connect securely"), "{}", r.stderr);
    // A CA file that is not there, and an sslmode libpq does not have: said plainly.
    let r = ferry(
        d,
        &[
            "runs",
            "--db",
            &url(
                &base,
                "127.0.0.1",
                "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
            ),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("/nonexistent/ca.pem"), "{}", r.stderr);
    let r = ferry(
        d,
        &[
            "runs",
            "--db",
            &url(&base, "127.0.0.1", "sslmode=sometimes"),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("sslmode=sometimes is not one of"),
        "{}",
        r.stderr
    );
}
