//! Staff sign-in (SPEC §14, §8): Argon2id password hashes, server-side sessions named by a random
//! token that is stored only as its hash, a CSRF token per session and roles (the
//! sign-in throttle is `throttle.rs`).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use ferry_logins::{password, staff, Verdict};
use ferry_store::{StoreError, Target};
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
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Why a staff member could not be created, signed in or out.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("\"{0}\" is not an e-mail address")]
    NotEmail(String),
    #[error("the password must have at least {MIN_PASSWORD} characters")]
    ShortPassword,
    #[error(transparent)]
    Hash(#[from] ferry_logins::LoginError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `password` matches `hash` (constant-time in the hash comparison).
pub fn verify_password(password: &str, hash: &str) -> bool {
    matches!(password::verify(password, hash), Verdict::Match { .. })
}

/// A hash no password matches, verified when the e-mail is unknown so that the answer takes
/// as long as for a known one.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| password::hash(&token()).unwrap_or_default())
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Creates a staff member, or sets the password and role of an existing one (by e-mail). A new
/// password ends every session of that staff member, and forgets their devices.
pub fn upsert_staff(t: &Target, email: &str, pass: &str, role: Role) -> Result<(), AuthError> {
    let email = staff_email(email)?;
    let hash = staff_password_hash(pass)?;
    staff::set(t, &email, &hash, role.as_str(), &stamp(now()))?;
    Ok(())
}

/// A staff e-mail as stored (trimmed, lower case), or why it cannot be one.
pub fn staff_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(AuthError::NotEmail(email));
    }
    Ok(email)
}

/// The Argon2id hash of a new staff password, if it is long enough ([`MIN_PASSWORD`]).
pub fn staff_password_hash(pass: &str) -> Result<String, AuthError> {
    if pass.chars().count() < MIN_PASSWORD {
        return Err(AuthError::ShortPassword);
    }
    Ok(password::hash(pass)?)
}

/// A new random staff password (20 characters, 120 bits), to be shown once.
pub fn generated_password() -> String {
    token().chars().take(20).collect()
}

/// A right password: the new session's token and who it is.
#[derive(Debug)]
pub struct SignedIn {
    pub session: String,
    pub staff_id: i64,
}

/// Checks an e-mail and password; on success starts a new session (a new token every time, so a
/// token known before signing in is worth nothing after) and returns its token.
pub fn sign_in(t: &Target, email: &str, password: &str) -> Result<Option<SignedIn>, AuthError> {
    let email = crate::throttle::normal_email(email);
    let Some((staff_id, hash)) = staff::password_of(t, &email)? else {
        verify_password(password, dummy_hash());
        return Ok(None);
    };
    if !verify_password(password, &hash) {
        return Ok(None);
    }
    let tok = token();
    let expires = now() + chrono::Duration::hours(SESSION_HOURS);
    staff::start_session(
        t,
        &staff::NewSession {
            token_hash: &token_hash(&tok),
            staff_id,
            csrf: &token(),
            created_at: &stamp(now()),
            expires_at: &stamp(expires),
        },
    )?;
    Ok(Some(SignedIn {
        session: tok,
        staff_id,
    }))
}

/// The staff member a session token belongs to, if the session is live.
pub fn session(t: &Target, token: &str) -> Result<Option<Staff>, AuthError> {
    let row = staff::session(t, &token_hash(token), &stamp(now()))?;
    Ok(row.and_then(|r| {
        Some(Staff {
            id: r.staff_id,
            email: r.email,
            role: Role::parse(&r.role)?,
            csrf: r.csrf,
        })
    }))
}

pub fn sign_out(t: &Target, token: &str) -> Result<(), AuthError> {
    Ok(staff::end_session(t, &token_hash(token))?)
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
        let h = password::hash("correct horse battery").unwrap();
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
