//! Device cookies (OWASP, "Slow down online guessing attacks with device cookies"): a browser a
//! staff member signed in from gets a random token, stored only as its hash, that later lets
//! its sign-ins for that staff member skip the throttle's e-mail-wide and per-client limits (it
//! has its own small one), so that nobody can lock a staff member out by failing on their
//! e-mail from many addresses.

use crate::auth::{token, token_hash};
use ferry_store::{params, Target};

/// A device is forgotten this many days after its last sign-in (and its cookie lasts as long).
pub const DEVICE_DAYS: i64 = 180;
/// Devices remembered per staff member: the ones used most recently.
pub const PER_STAFF: i64 = 20;

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Whether `token` is well formed (a cookie's value is whatever the client sent).
pub fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The device `token` names, if it is a live device of the enabled staff member `email`.
pub fn known(t: &Target, token: &str, email: &str) -> Result<Option<i64>, String> {
    if !well_formed(token) {
        return Ok(None);
    }
    let since = stamp(chrono::Utc::now() - chrono::Duration::days(DEVICE_DAYS));
    let row = t
        .first(
            "SELECT d.id FROM staff_device d JOIN staff_user u ON u.id = d.staff_id
             WHERE d.token_hash = ?1 AND u.email = ?2 AND u.disabled = 0 AND d.last_used_at > ?3",
            params![
                token_hash(token),
                crate::throttle::normal_email(email),
                since
            ],
        )
        .map_err(|e| e.to_string())?;
    Ok(row.map(|r| r.int(0)))
}

/// After a right password: marks the known `device` used and returns its `token` again, or
/// remembers a new device and returns its new token. Forgets the staff member's devices unused
/// for [`DEVICE_DAYS`] and all but the [`PER_STAFF`] used last.
pub fn remember(
    t: &Target,
    staff_id: i64,
    device: Option<(i64, String)>,
) -> Result<String, String> {
    let now = chrono::Utc::now();
    let sql = |q: &str, p: &[ferry_store::Cell]| t.exec(q, p).map_err(|e| e.to_string());
    let tok = match device {
        Some((id, tok)) => {
            sql(
                "UPDATE staff_device SET last_used_at = ?1 WHERE id = ?2",
                params![stamp(now), id],
            )?;
            tok
        }
        None => {
            let tok = token();
            sql(
                "INSERT INTO staff_device (token_hash, staff_id, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3)",
                params![token_hash(&tok), staff_id, stamp(now)],
            )?;
            tok
        }
    };
    let since = stamp(now - chrono::Duration::days(DEVICE_DAYS));
    sql(
        "DELETE FROM staff_device WHERE staff_id = ?1 AND (last_used_at <= ?2 OR id NOT IN
           (SELECT id FROM staff_device WHERE staff_id = ?1 ORDER BY last_used_at DESC, id DESC LIMIT ?3))",
        params![staff_id, since, PER_STAFF],
    )?;
    Ok(tok)
}

/// Forgets every device of a staff member (a new password).
pub fn forget_all(t: &Target, email: &str) -> Result<(), String> {
    t.exec(
        "DELETE FROM staff_device WHERE staff_id = (SELECT id FROM staff_user WHERE email = ?1)",
        params![email.to_string()],
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}
