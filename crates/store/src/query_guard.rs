//! Which saved queries may run: one read-only statement (SELECT or WITH) that names no secret
//! table or column and calls no function that reads outside the target's rows, decided from
//! the statement's words before it runs (the database's own read-only guards come after).

use std::collections::BTreeSet;

/// Why a query is refused before it runs: a sentence for staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Tables no saved query may read: logins, reset tokens and staff accounts hold password and
/// token hashes; the payment-method detail tables hold the fingerprints of card and account
/// numbers (and a whole-row reference such as `row_to_json(t)` would show them without naming
/// the column); `ferry_meta` holds the target's own settings.
pub const SECRET_TABLES: &[&str] = &[
    "login",
    "pending_login",
    "reset_token",
    "staff_user",
    "staff_session",
    "staff_device",
    "user_payment_method_credit_card",
    "user_payment_method_ach",
    "ferry_meta",
];

/// Stored columns that hold secrets or what is derived from them, besides the catalogue's
/// secret fields (passwords, card and account numbers: `Field::is_secret`).
const SECRET_COLUMNS: &[&str] = &[
    "password_hash",
    "token_hash",
    "csrf",
    "card_fingerprint",
    "account_fingerprint",
    "fingerprint_key",
];

/// Words that change something or reach outside one query's rows; refused when written as a
/// keyword (unquoted), whatever the database would say.
const WRITES: &[&str] = &[
    "insert",
    "update",
    "delete",
    "merge",
    "upsert",
    "drop",
    "create",
    "alter",
    "truncate",
    "grant",
    "revoke",
    "attach",
    "detach",
    "pragma",
    "vacuum",
    "reindex",
    "analyze",
    "copy",
    "call",
    "do",
    "lock",
    "set",
    "reset",
    "listen",
    "notify",
    "begin",
    "commit",
    "rollback",
    "savepoint",
    "release",
    "into",
    "execute",
    "prepare",
    "declare",
    "refresh",
    "cluster",
    "comment",
    "security",
    "load",
];

/// Function names (and prefixes) that read files, run text as SQL, or read server settings.
/// (`ts_stat` and `ts_rewrite` run a query given as text, which could be built with `chr()`.)
const FUNCTION_PREFIXES: &[&str] = &[
    "pg_",
    "lo_",
    "dblink",
    "load_extension",
    "readfile",
    "ts_stat",
    "ts_rewrite",
    "sqlite_dbpage",
];
const FUNCTION_PARTS: &[&str] = &["xml", "query_to", "current_setting", "set_config"];

/// The secret names as lowercase words.
fn secret_names() -> BTreeSet<String> {
    let mut out: BTreeSet<String> = SECRET_TABLES
        .iter()
        .chain(SECRET_COLUMNS)
        .map(|s| s.to_string())
        .collect();
    for e in ferry_catalogue::ENTITIES {
        for f in e.fields.iter().filter(|f| f.is_secret()) {
            out.insert(f.column());
        }
    }
    out
}

/// A word of a statement: an identifier or keyword (quoted or not), or one word inside a
/// string literal.
#[derive(Debug, PartialEq, Eq)]
enum Word {
    Bare(String),
    Quoted(String),
    InString(String),
}

/// The statement to run (without a trailing `;`), or why it is refused.
pub fn check(sql: &str) -> Result<String, Refused> {
    let (words, body) = words(sql)?;
    let secrets = secret_names();
    for w in &words {
        let (Word::Bare(s) | Word::Quoted(s) | Word::InString(s)) = w;
        if secrets.contains(s) {
            return Err(Refused(format!(
                "The query names \"{s}\", which holds passwords, tokens or card and bank numbers: saved queries may not read it."
            )));
        }
        if let Word::Bare(b) = w {
            if WRITES.contains(&b.as_str()) {
                return Err(Refused(format!(
                    "The query says {}: saved queries only read (SELECT), they never change the target.",
                    b.to_uppercase()
                )));
            }
        }
        if let Word::Bare(b) | Word::Quoted(b) = w {
            if FUNCTION_PREFIXES.iter().any(|p| b.starts_with(p))
                || FUNCTION_PARTS.iter().any(|p| b.contains(p))
            {
                return Err(Refused(format!(
                    "The query calls or names \"{b}\", which reads outside the target's records: saved queries may not use it."
                )));
            }
        }
    }
    let first = words.iter().find_map(|w| match w {
        Word::Bare(b) => Some(b.as_str()),
        _ => None,
    });
    if !matches!(first, Some("select" | "with")) {
        return Err(Refused(
            "Only a single SELECT (or WITH … SELECT) statement may run as a saved query.".into(),
        ));
    }
    Ok(body)
}

/// The words of `sql` and its text up to its end or a final `;`. Refuses a second statement,
/// dollar-quoted text and anything left open (a string, a quoted name, a comment).
fn words(sql: &str) -> Result<(Vec<Word>, String), Refused> {
    let b = sql.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    let mut end = None;
    let open = |what: &str| Refused(format!("The query has {what} that is never closed."));
    while i < b.len() {
        let c = b[i];
        if end.is_some()
            && !c.is_ascii_whitespace()
            && c != b';'
            && !sql[i..].starts_with("--")
            && !sql[i..].starts_with("/*")
        {
            return Err(Refused(
                "The query holds more than one statement (a `;` followed by more): only one SELECT may run.".into(),
            ));
        }
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                // PostgreSQL's block comments nest; SQLite's do not, so a nested opening only
                // makes the check stricter.
                let mut depth = 1;
                i += 2;
                while depth > 0 {
                    if i + 1 >= b.len() {
                        return Err(open("a comment"));
                    }
                    if b[i] == b'/' && b[i + 1] == b'*' {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b[i + 1] == b'/' {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b';' => {
                end.get_or_insert(i);
                i += 1;
            }
            b'$' => {
                return Err(Refused(
                    "The query uses `$` (dollar-quoted text or a parameter): saved queries take neither.".into(),
                ))
            }
            b'\'' | b'"' if i > 0 && b[i - 1] == b'&' => {
                return Err(Refused(
                    "The query uses a Unicode-escaped name or string (U&\"…\"): saved queries take names and strings as written.".into(),
                ));
            }
            b'\'' => {
                let escapes = matches!(out.last(), Some(Word::Bare(w)) if w == "e")
                    && i > 0
                    && matches!(b[i - 1], b'e' | b'E');
                let (text, next) = quoted(sql, i, b'\'', escapes).ok_or_else(|| open("a string"))?;
                if escapes {
                    out.pop();
                }
                for w in text.split(|ch: char| !(ch.is_alphanumeric() || ch == '_')) {
                    if !w.is_empty() {
                        out.push(Word::InString(w.to_lowercase()));
                    }
                }
                i = next;
            }
            b'"' | b'`' | b'[' => {
                let close = match c {
                    b'[' => b']',
                    x => x,
                };
                let (text, next) = quoted(sql, i, close, false).ok_or_else(|| open("a quoted name"))?;
                out.push(Word::Quoted(text.to_lowercase()));
                i = next;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                    i += 1;
                }
                out.push(Word::Bare(sql[start..i].to_lowercase()));
            }
            _ => i += 1,
        }
    }
    let body = sql[..end.unwrap_or(sql.len())].trim().to_string();
    if body.is_empty() {
        return Err(Refused("The query is empty.".into()));
    }
    Ok((out, body))
}

/// The text of a quoted string or name starting at `at` (a doubled closing character stands
/// for itself; with `escapes`, a backslash escapes the next character) and where it ends.
fn quoted(sql: &str, at: usize, close: u8, escapes: bool) -> Option<(String, usize)> {
    let b = sql.as_bytes();
    let mut i = at + 1;
    let mut text = Vec::new();
    loop {
        let c = *b.get(i)?;
        if escapes && c == b'\\' {
            text.push(*b.get(i + 1)?);
            i += 2;
        } else if c == close {
            if close != b']' && b.get(i + 1) == Some(&close) {
                text.push(close);
                i += 2;
            } else {
                return Some((String::from_utf8_lossy(&text).into_owned(), i + 1));
            }
        } else {
            text.push(c);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> bool {
        check(sql).is_err()
    }

    #[test]
    fn plain_selects_run() {
        assert_eq!(
            check("SELECT \"user\", name FROM invoice WHERE closed = 0;  -- open\n").unwrap(),
            "SELECT \"user\", name FROM invoice WHERE closed = 0"
        );
        assert!(check("with r(n) as (select 1) select n from r").is_ok());
        assert!(check("SELECT replace(name, 'a', 'b') FROM \"user\"").is_ok());
    }

    #[test]
    fn writes_and_second_statements_are_refused() {
        for sql in [
            "DELETE FROM \"user\"",
            "SELECT 1; DELETE FROM \"user\"",
            "WITH d AS (DELETE FROM \"user\" RETURNING 1) SELECT * FROM d",
            "SELECT * FROM \"user\" FOR UPDATE",
            "SELECT 1 INTO x",
            "PRAGMA query_only = 0",
            "ATTACH 'x.db' AS x",
            "SELECT $$a$$",
            "SELECT 'open",
            "",
            " ; ",
        ] {
            assert!(refused(sql), "{sql}");
        }
    }

    #[test]
    fn secrets_are_refused_however_they_are_named() {
        for sql in [
            "SELECT password_hash FROM login",
            "SELECT * FROM \"LOGIN\"",
            "SELECT * FROM [staff_user]",
            "SELECT `token_hash` FROM x",
            "SELECT card_fingerprint FROM t",
            "SELECT t FROM user_payment_method_credit_card t",
            "SELECT table_to_xml('login', true, false, '')",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT E'\\'' || password_hash FROM x",
            "SELECT * FROM public.staff_session",
            "SELECT U&\"\\0070assword_hash\" FROM x",
            "SELECT U&'\\006cogin'",
            "SELECT * FROM ts_stat(chr(115) || chr(101))",
            "SELECT * FROM 'login'",
        ] {
            assert!(refused(sql), "{sql}");
        }
    }
}
