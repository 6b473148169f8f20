//! One-time password-reset tokens: issued for the logins that must reset (for a mailing), stored
//! only as their SHA-256 (a token is 256 random bits, so a fast hash is enough: there is nothing
//! to guess), verified by that hash in constant time with their expiry, and consumed once.

use crate::events::{self, Actor};
use crate::{in_transaction, password, LoginError};
use ferry_store::{params, Target};
use sha2::{Digest, Sha256};
use std::io::Write;
use subtle::ConstantTimeEq;

pub use crate::password::random_hex;

/// What is stored of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// Issues a one-time reset token for every login that must reset its password, valid for
/// `days`; earlier unused tokens of those logins stop working. Writes `User,Username,Token,
/// ExpiresAt` to `out` (the only place the tokens exist in clear) and returns how many.
pub fn issue_reset_tokens(
    t: &Target,
    out: &std::path::Path,
    days: i64,
    actor: &Actor,
) -> Result<u64, LoginError> {
    // In UTC, so that stored times compare as text whatever the machine's time zone.
    let expires = (chrono::Utc::now() + chrono::Duration::days(days.clamp(1, 365)))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    // The only copy of the tokens in clear: readable by its owner only, written under a
    // temporary name and renamed when complete (a reader never sees half a file, and a failed
    // run leaves no file that looks like tokens that work).
    let part = partial_name(out);
    let mut file = std::io::BufWriter::new(private_file(&part)?);
    writeln!(file, "User,Username,Token,ExpiresAt")?;
    let n = in_transaction(t, || {
        let rows = t.rows(
            "SELECT id, \"user\", username FROM login WHERE must_reset = 1 ORDER BY \"user\"",
            &[],
        )?;
        let now = crate::now();
        for r in &rows {
            let (id, user, username) = (r.int(0), r.text(1), r.text(2));
            let token = random_hex(32);
            t.exec(
                "UPDATE reset_token SET used_at = ?2 WHERE login_id = ?1 AND used_at IS NULL",
                params![id, now.as_str()],
            )?;
            t.exec(
                "INSERT INTO reset_token (login_id, token_hash, expires_at) VALUES (?1, ?2, ?3)",
                params![id, token_hash(&token), expires.as_str()],
            )?;
            events::record(
                t,
                (id, &user, &username),
                "reset_token_issued",
                actor,
                &format!("valid until {expires}"),
            )?;
            writeln!(
                file,
                "{},{},{},{}",
                csv(&user),
                csv(&username),
                token,
                expires
            )?;
        }
        file.flush()?;
        Ok(rows.len() as u64)
    });
    let n = n.and_then(|n| {
        let f = file.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&part, out)?;
        Ok(n)
    });
    if n.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    n
}

/// `tokens.csv` → `.tokens.csv.part` beside it.
fn partial_name(out: &std::path::Path) -> std::path::PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tokens.csv".into());
    out.with_file_name(format!(".{name}.part"))
}

fn csv(s: &str) -> String {
    // A value a spreadsheet would run as a formula gets a leading quote, as the logs do.
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// What a reset token is now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum TokenState {
    /// It can be consumed, for this login, until `expires_at`.
    Valid {
        user: String,
        username: String,
        expires_at: String,
    },
    Expired {
        user: String,
        username: String,
        expires_at: String,
    },
    /// Consumed, or replaced by a newer token or a new password.
    Used { user: String, username: String },
    /// No such token (mistyped, or from another target).
    Unknown,
}

impl TokenState {
    pub fn word(&self) -> &'static str {
        match self {
            TokenState::Valid { .. } => "valid",
            TokenState::Expired { .. } => "expired",
            TokenState::Used { .. } => "used",
            TokenState::Unknown => "unknown",
        }
    }
}

/// The token's row: (token id, login id, user, username, expires_at, used_at).
type TokenRow = (i64, i64, String, String, String, Option<String>);

fn find(t: &Target, token: &str) -> Result<Option<TokenRow>, LoginError> {
    let want = token_hash(token);
    let row = t.first(
        "SELECT r.id, r.login_id, l.\"user\", l.username, r.expires_at, r.used_at, r.token_hash
         FROM reset_token r JOIN login l ON l.id = r.login_id WHERE r.token_hash = ?1",
        params![want.as_str()],
    )?;
    // The lookup is by hash (an index); the hash is compared again in constant time, so that
    // nothing about a stored hash leaks through the comparison's timing.
    Ok(row
        .filter(|r| bool::from(r.text(6).as_bytes().ct_eq(want.as_bytes())))
        .map(|r| {
            (
                r.int(0),
                r.int(1),
                r.text(2),
                r.text(3),
                r.text(4),
                r.opt_text(5),
            )
        }))
}

fn expired(expires_at: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(expires_at)
        .map(|e| e <= chrono::Utc::now())
        .unwrap_or(true)
}

/// What a token is: valid (for which login), expired, used or unknown. Changes nothing.
pub fn verify_token(t: &Target, token: &str) -> Result<TokenState, LoginError> {
    let Some((_, _, user, username, expires_at, used)) = find(t, token)? else {
        return Ok(TokenState::Unknown);
    };
    Ok(if used.is_some() {
        TokenState::Used { user, username }
    } else if expired(&expires_at) {
        TokenState::Expired {
            user,
            username,
            expires_at,
        }
    } else {
        TokenState::Valid {
            user,
            username,
            expires_at,
        }
    })
}

/// Consumes a valid token: the login's password becomes `new_password` (checked, stored as
/// Argon2id), it no longer must reset or change its password, this token and every other open
/// token of the login stop working. Returns (account, username). Refused (nothing changes) when
/// the token is not valid or the password too weak. Two requests with the same token: one wins.
pub fn consume_token(
    t: &Target,
    token: &str,
    new_password: &str,
    actor: &Actor,
) -> Result<(String, String), LoginError> {
    let state = verify_token(t, token)?;
    let TokenState::Valid { username, .. } = &state else {
        return Err(LoginError::Token(match state {
            TokenState::Expired { .. } => "expired",
            TokenState::Used { .. } => "already used",
            _ => "unknown",
        }));
    };
    password::check_new(new_password, username)?;
    let hash = password::hash(new_password)?;
    in_transaction(t, || {
        let (token_id, login, user, username, _, _) =
            find(t, token)?.ok_or(LoginError::Token("unknown"))?;
        let now = crate::now();
        // Only one consumer can take the token: the update that finds it unused.
        let taken = t.exec(
            "UPDATE reset_token SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
            params![token_id, now.as_str()],
        )?;
        if taken != 1 {
            return Err(LoginError::Token("already used"));
        }
        crate::manage::store_password(t, login, &hash, false)?;
        events::record(
            t,
            (login, &user, &username),
            "password_reset",
            actor,
            "a new password through a reset token",
        )?;
        Ok((user, username))
    })
}

/// Creates (or truncates) `path` readable and writable by its owner only (0600), also when it
/// existed before with wider permissions.
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(f)
}
