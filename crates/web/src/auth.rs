//! Staff sign-in (SPEC §14, §8): Argon2id password hashes, server-side sessions named by a random
//! token that is stored only as its hash, a CSRF token per session and roles (the
//! sign-in throttle is `throttle.rs`).

use argon2::password_hash::rand_core::RngCore;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use base64::Engine as _;
use ferry_store::{params, Target};
use sha2::{Digest, Sha256};

/// How long a session lasts without being used.
pub const SESSION_HOURS: i64 = 12;
/// Shortest password a staff member may have.
pub const MIN_PASSWORD: usize = 12;

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// Read-only.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A signed-in staff member, as the pages see them.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// The session's CSRF token: every form that changes something carries it.
    pub csrf: String,
}

impl Staff {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A fresh random token (256 bits, URL-safe).
pub fn token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What is stored of a session token: its SHA-256 (a stolen database does not give sessions).
pub fn token_hash(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches `hash` (constant-time in the hash comparison).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash no password matches, verified when the e-mail is unknown so that the answer takes
/// as long as for a known one.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&token()).unwrap_or_default())
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Creates a staff member, or sets the password and role of an existing one (by e-mail).
pub fn upsert_staff(t: &Target, email: &str, password: &str, role: Role) -> Result<(), String> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(format!("\"{email}\" is not an e-mail address"));
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD} characters"
        ));
    }
    let hash = hash_password(password)?;
    t.exec(
        "INSERT INTO staff_user (email, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role",
        params![email.clone(), hash, role.as_str(), stamp(now())],
    )
    .map_err(|e| e.to_string())?;
    // A new password ends every session of that staff member, and forgets their devices.
    t.exec(
        "DELETE FROM staff_session WHERE staff_id = (SELECT id FROM staff_user WHERE email = ?1)",
        params![email.clone()],
    )
    .map_err(|e| e.to_string())?;
    crate::devices::forget_all(t, &email)
}

/// A right password: the new session's token and who it is.
#[derive(Debug)]
pub struct SignedIn {
    pub session: String,
    pub staff_id: i64,
}

/// Checks an e-mail and password; on success starts a new session (a new token every time, so a
/// token known before signing in is worth nothing after) and returns its token.
pub fn sign_in(t: &Target, email: &str, password: &str) -> Result<Option<SignedIn>, String> {
    let email = crate::throttle::normal_email(email);
    let row = t
        .first(
            "SELECT id, password_hash FROM staff_user WHERE email = ?1 AND disabled = 0",
            params![email],
        )
        .map_err(|e| e.to_string())?;
    let Some(row) = row else {
        verify_password(password, dummy_hash());
        return Ok(None);
    };
    if !verify_password(password, &row.text(1)) {
        return Ok(None);
    }
    let tok = token();
    let expires = now() + chrono::Duration::hours(SESSION_HOURS);
    t.exec(
        "INSERT INTO staff_session (token_hash, staff_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash(&tok), row.int(0), token(), stamp(now()), stamp(expires)],
    )
    .map_err(|e| e.to_string())?;
    t.exec(
        "DELETE FROM staff_session WHERE expires_at < ?1",
        params![stamp(now())],
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(SignedIn {
        session: tok,
        staff_id: row.int(0),
    }))
}

/// The staff member a session token belongs to, if the session is live.
pub fn session(t: &Target, token: &str) -> Result<Option<Staff>, String> {
    let row = t
        .first(
            "SELECT u.id, u.email, u.role, s.csrf FROM staff_session s JOIN staff_user u ON u.id = s.staff_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
            params![token_hash(token), stamp(now())],
        )
        .map_err(|e| e.to_string())?;
    Ok(row.and_then(|r| {
        Some(Staff {
            id: r.int(0),
            email: r.text(1),
            role: Role::parse(&r.text(2))?,
            csrf: r.text(3),
        })
    }))
}

pub fn sign_out(t: &Target, token: &str) -> Result<(), String> {
    t.exec(
        "DELETE FROM staff_session WHERE token_hash = ?1",
        params![token_hash(token)],
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Compares two tokens without leaking where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_and_verified() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (token(), token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert!(same_token(&a, &a.clone()) && !same_token(&a, &b));
    }
}
