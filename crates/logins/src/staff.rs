//! The console's staff accounts as stored: staff users (e-mail, Argon2id hash, role, disabled,
//! last sign-in), their sessions and remembered devices, each named only by the hash of its
//! token. Policy (how long
//! a session or device lasts, what a token is) is the console's; this is the storage.

use ferry_store::{params, StoreError, Target};

/// How many staff accounts the target holds.
pub fn count(t: &Target) -> Result<i64, StoreError> {
    t.int("SELECT count(*) FROM staff_user", &[])
}

/// Creates the staff member `email`, or sets the password hash and role of the existing one
/// and enables it (`ferry serve --create-admin` is also the way back in); either way ends their
/// sessions and forgets their devices (a new password).
pub fn set(
    t: &Target,
    email: &str,
    password_hash: &str,
    role: &str,
    now: &str,
) -> Result<(), StoreError> {
    t.exec(
        "INSERT INTO staff_user (email, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role, disabled = 0",
        params![email, password_hash, role, now],
    )?;
    t.exec(
        "DELETE FROM staff_session WHERE staff_id = (SELECT id FROM staff_user WHERE email = ?1)",
        params![email],
    )?;
    t.exec(
        "DELETE FROM staff_device WHERE staff_id = (SELECT id FROM staff_user WHERE email = ?1)",
        params![email],
    )?;
    Ok(())
}

/// The id and password hash of the enabled staff member `email`.
pub fn password_of(t: &Target, email: &str) -> Result<Option<(i64, String)>, StoreError> {
    Ok(t.first(
        "SELECT id, password_hash FROM staff_user WHERE email = ?1 AND disabled = 0",
        params![email],
    )?
    .map(|r| (r.int(0), r.text(1))))
}

/// A session to record.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub staff_id: i64,
    pub csrf: &'a str,
    pub created_at: &'a str,
    pub expires_at: &'a str,
}

/// Records a new session, and forgets the sessions expired before its creation.
pub fn start_session(t: &Target, s: &NewSession) -> Result<(), StoreError> {
    t.exec(
        "INSERT INTO staff_session (token_hash, staff_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.token_hash, s.staff_id, s.csrf, s.created_at, s.expires_at],
    )?;
    t.exec(
        "DELETE FROM staff_session WHERE expires_at < ?1",
        params![s.created_at],
    )?;
    t.exec(
        "UPDATE staff_user SET last_sign_in_at = ?1 WHERE id = ?2",
        params![s.created_at, s.staff_id],
    )?;
    Ok(())
}

/// The staff member of a live session, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOf {
    pub staff_id: i64,
    pub email: String,
    /// As stored (`admin`, `viewer`).
    pub role: String,
    pub csrf: String,
}

/// The enabled staff member whose session's token hashes to `token_hash`, if it has not expired
/// at `now`.
pub fn session(t: &Target, token_hash: &str, now: &str) -> Result<Option<SessionOf>, StoreError> {
    Ok(t.first(
        "SELECT u.id, u.email, u.role, s.csrf FROM staff_session s JOIN staff_user u ON u.id = s.staff_id
         WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
        params![token_hash, now],
    )?
    .map(|r| SessionOf {
        staff_id: r.int(0),
        email: r.text(1),
        role: r.text(2),
        csrf: r.text(3),
    }))
}

/// Ends the session whose token hashes to `token_hash`.
pub fn end_session(t: &Target, token_hash: &str) -> Result<(), StoreError> {
    t.exec(
        "DELETE FROM staff_session WHERE token_hash = ?1",
        params![token_hash],
    )?;
    Ok(())
}

/// The device whose token hashes to `token_hash`, if it belongs to the enabled staff member
/// `email` and was used after `since`.
pub fn device(
    t: &Target,
    token_hash: &str,
    email: &str,
    since: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(t.first(
        "SELECT d.id FROM staff_device d JOIN staff_user u ON u.id = d.staff_id
         WHERE d.token_hash = ?1 AND u.email = ?2 AND u.disabled = 0 AND d.last_used_at > ?3",
        params![token_hash, email, since],
    )?
    .map(|r| r.int(0)))
}

/// Marks device `id` used at `now`.
pub fn touch_device(t: &Target, id: i64, now: &str) -> Result<(), StoreError> {
    t.exec(
        "UPDATE staff_device SET last_used_at = ?1 WHERE id = ?2",
        params![now, id],
    )?;
    Ok(())
}

/// Remembers a new device of staff member `staff_id`, used at `now`.
pub fn add_device(
    t: &Target,
    token_hash: &str,
    staff_id: i64,
    now: &str,
) -> Result<(), StoreError> {
    t.exec(
        "INSERT INTO staff_device (token_hash, staff_id, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3)",
        params![token_hash, staff_id, now],
    )?;
    Ok(())
}

/// Forgets the devices of staff member `staff_id` unused since `since` and all but the `keep`
/// used last.
pub fn prune_devices(t: &Target, staff_id: i64, since: &str, keep: i64) -> Result<(), StoreError> {
    t.exec(
        "DELETE FROM staff_device WHERE staff_id = ?1 AND (last_used_at <= ?2 OR id NOT IN
           (SELECT id FROM staff_device WHERE staff_id = ?1 ORDER BY last_used_at DESC, id DESC LIMIT ?3))",
        params![staff_id, since, keep],
    )?;
    Ok(())
}

/// A staff account as listed (never its hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    pub id: i64,
    pub email: String,
    /// As stored (`admin`, `viewer`).
    pub role: String,
    pub created_at: String,
    pub last_sign_in_at: Option<String>,
    pub disabled: bool,
}

const MEMBER_COLS: &str = "id, email, role, created_at, last_sign_in_at, disabled";

fn member(r: &ferry_store::Row) -> Member {
    Member {
        id: r.int(0),
        email: r.text(1),
        role: r.text(2),
        created_at: r.text(3),
        last_sign_in_at: r.opt_text(4),
        disabled: r.int(5) != 0,
    }
}

/// Every staff account, by e-mail.
pub fn members(t: &Target) -> Result<Vec<Member>, StoreError> {
    let rows = t.rows(
        &format!("SELECT {MEMBER_COLS} FROM staff_user ORDER BY email"),
        &[],
    )?;
    Ok(rows.iter().map(member).collect())
}

/// Staff account `id`, if there is one.
pub fn member_by_id(t: &Target, id: i64) -> Result<Option<Member>, StoreError> {
    Ok(t.first(
        &format!("SELECT {MEMBER_COLS} FROM staff_user WHERE id = ?1"),
        params![id],
    )?
    .map(|r| member(&r)))
}

/// Staff account `email` (as stored: trimmed, lower case), if there is one.
pub fn member_by_email(t: &Target, email: &str) -> Result<Option<Member>, StoreError> {
    Ok(t.first(
        &format!("SELECT {MEMBER_COLS} FROM staff_user WHERE email = ?1"),
        params![email],
    )?
    .map(|r| member(&r)))
}

/// How many enabled staff accounts have `role`.
pub fn enabled_with_role(t: &Target, role: &str) -> Result<i64, StoreError> {
    t.int(
        "SELECT count(*) FROM staff_user WHERE role = ?1 AND disabled = 0",
        params![role],
    )
}

/// Adds staff account `email` (none may have it yet); returns its id.
pub fn insert(
    t: &Target,
    email: &str,
    password_hash: &str,
    role: &str,
    now: &str,
) -> Result<i64, StoreError> {
    let row = t.first(
        "INSERT INTO staff_user (email, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params![email, password_hash, role, now],
    )?;
    row.map(|r| r.int(0))
        .ok_or_else(|| StoreError::Other("the new staff account got no id".into()))
}

/// Ends every session of staff account `id` and forgets its devices.
pub fn end_sessions_of(t: &Target, id: i64) -> Result<(), StoreError> {
    t.exec("DELETE FROM staff_session WHERE staff_id = ?1", params![id])?;
    t.exec("DELETE FROM staff_device WHERE staff_id = ?1", params![id])?;
    Ok(())
}

/// Disables (or enables) staff account `id`.
pub fn set_disabled(t: &Target, id: i64, disabled: bool) -> Result<(), StoreError> {
    t.exec(
        "UPDATE staff_user SET disabled = ?1 WHERE id = ?2",
        params![i64::from(disabled), id],
    )?;
    Ok(())
}

/// Sets the role of staff account `id`.
pub fn set_role(t: &Target, id: i64, role: &str) -> Result<(), StoreError> {
    t.exec(
        "UPDATE staff_user SET role = ?1 WHERE id = ?2",
        params![role, id],
    )?;
    Ok(())
}

/// Sets the password hash of staff account `id`.
pub fn set_password_hash(t: &Target, id: i64, password_hash: &str) -> Result<(), StoreError> {
    t.exec(
        "UPDATE staff_user SET password_hash = ?1 WHERE id = ?2",
        params![password_hash, id],
    )?;
    Ok(())
}
