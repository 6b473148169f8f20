//! PostgreSQL URLs and session names: which `--db` is a server, the URL as shown (no password),
//! another database of the same server, and the name a Ferry session gives itself.

use crate::StoreError;

/// This machine's name.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The session name of this process: `ferry <pid>@<host>`.
pub fn session_name() -> String {
    format!("ferry {}@{}", std::process::id(), host())
}

/// The (pid, host) of a session name made by [`session_name`].
pub fn parse_session_name(name: &str) -> Option<(i64, String)> {
    let rest = name.strip_prefix("ferry ")?;
    let (pid, host) = rest.split_once('@')?;
    Some((pid.parse().ok()?, host.to_string()))
}

/// Whether a `--db` value names a PostgreSQL target.
pub fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL as shown in messages: a password in it — in the user part, even one holding a raw
/// `/`, `?` or `@`, or as any parameter whose name contains `password` — is replaced by `***`;
/// the other parameters (`sslmode`, `sslrootcert`, …) stay. When in doubt it hides too much.
pub fn shown(url: &str) -> String {
    let url = shown_userinfo(url);
    match url.split_once('?') {
        Some((base, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.to_ascii_lowercase().contains("password") => {
                        format!("{k}=***")
                    }
                    _ => p.to_string(),
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => url,
    }
}

/// The URL with the password of its user part replaced by `***`. The user part ends at the
/// last `@` of the URL: a password written without percent-encoding may hold `/`, `?` or `@`,
/// and an `@` further on (in a parameter) only makes more of the URL hidden, never less.
fn shown_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

/// The URL with another database name (the path of the URL; query parameters are kept).
pub fn with_dbname(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[scheme_end..];
    // The user part ends at the first `@`, as the driver reads it (a raw `/` or `?` may be in
    // the password).
    let host_start = rest.find('@').map_or(0, |at| at + 1);
    let authority_end = rest[host_start..]
        .find(['/', '?'])
        .map_or(rest.len(), |i| host_start + i);
    let after = &rest[authority_end..];
    let query = after.find('?').map(|i| &after[i..]).unwrap_or("");
    format!("{}/{name}{query}", &url[..scheme_end + authority_end])
}

/// The database name of a URL (the user's name when the URL names none).
pub fn dbname(url: &str) -> Result<String, StoreError> {
    let (config, _) = super::tls::config(url)?;
    Ok(config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres")
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_every_spelling() {
        for (url, shown_as) in [
            ("postgres://u:s3cret@h/db", "postgres://u:***@h/db"),
            ("postgres://u:pa/ss@h/db", "postgres://u:***@h/db"),
            (
                "postgres://u:pa?ss@h/db?sslmode=require",
                "postgres://u:***@h/db?sslmode=require",
            ),
            ("postgres://u:p@ss@h:5432/db", "postgres://u:***@h:5432/db"),
            (
                "postgres://u@h/db?password=s3cret",
                "postgres://u@h/db?password=***",
            ),
            (
                "postgres://h/db?PassWord=s3cret&x=1",
                "postgres://h/db?PassWord=***&x=1",
            ),
            (
                "postgres://h/db?sslpassword=s3cret",
                "postgres://h/db?sslpassword=***",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
        ] {
            assert_eq!(shown(url), shown_as, "{url}");
        }
        assert_eq!(
            with_dbname("postgres://u:pa/ss@h/old?sslmode=require", "new"),
            "postgres://u:pa/ss@h/new?sslmode=require"
        );
    }

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_dbname("postgres://u:p@h:5432/live?sslmode=disable", "copy"),
            "postgres://u:p@h:5432/copy?sslmode=disable"
        );
        assert_eq!(with_dbname("postgres://h", "copy"), "postgres://h/copy");
        assert_eq!(dbname("postgres://u@h/live").unwrap(), "live");
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            shown("postgres://u:s3cret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(shown("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(shown("postgresql://h/db"), "postgresql://h/db");
        // With the TLS parameters, and a password given as a parameter.
        assert_eq!(
            shown("postgres://u:s3cret@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem"),
            "postgres://u:***@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem"
        );
        assert_eq!(
            shown("postgres://u@h/db?sslmode=require&password=s3cret&application_name=x"),
            "postgres://u@h/db?sslmode=require&password=***&application_name=x"
        );
    }
}
