//! Device cookies (OWASP, "Slow down online guessing attacks with device cookies"): a browser a
//! staff member signed in from gets a random token, stored only as its hash, that later lets
//! its sign-ins for that staff member skip the throttle's e-mail-wide and per-client limits (it
//! has its own small one), so that nobody can lock a staff member out by failing on their
//! e-mail from many addresses.

use crate::auth::{token, token_hash};
use ferry_logins::staff;
use ferry_store::{StoreError, Target};

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
pub fn known(t: &Target, token: &str, email: &str) -> Result<Option<i64>, StoreError> {
    if !well_formed(token) {
        return Ok(None);
    }
    let since = stamp(chrono::Utc::now() - chrono::Duration::days(DEVICE_DAYS));
    staff::device(
        t,
        &token_hash(token),
        &crate::throttle::normal_email(email),
        &since,
    )
}

/// After a right password: marks the known `device` used and returns its `token` again, or
/// remembers a new device and returns its new token. Forgets the staff member's devices unused
/// for [`DEVICE_DAYS`] and all but the [`PER_STAFF`] used last.
pub fn remember(
    t: &Target,
    staff_id: i64,
    device: Option<(i64, String)>,
) -> Result<String, StoreError> {
    let now = chrono::Utc::now();
    let tok = match device {
        Some((id, tok)) => {
            staff::touch_device(t, id, &stamp(now))?;
            tok
        }
        None => {
            let tok = token();
            staff::add_device(t, &token_hash(&tok), staff_id, &stamp(now))?;
            tok
        }
    };
    let since = stamp(now - chrono::Duration::days(DEVICE_DAYS));
    staff::prune_devices(t, staff_id, &since, PER_STAFF)?;
    Ok(tok)
}
