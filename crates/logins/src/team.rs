//! The console's staff managed by an admin (SPEC §14): add an account, disable or enable it,
//! set its password, change its role — each in one transaction, the last enabled admin never
//! disabled nor demoted, every change journaled in `login_event` as `staff.*` (never a
//! password or hash). A new password or a disabled account ends the account's sessions.

use crate::events::{self, Actor};
use crate::staff::{self, Member};
use ferry_store::{StoreError, Target};

/// The role that may change anything (the console's `admin`).
pub const ADMIN: &str = "admin";
/// The roles a staff account may have.
pub const ROLES: [&str; 2] = [ADMIN, "viewer"];

/// Why a change to the staff was refused or could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TeamError {
    #[error("there is no staff account {0}")]
    NoMember(i64),
    #[error("{0} already has a staff account")]
    Taken(String),
    #[error("\"{0}\" is not a role: a staff member is an admin or a viewer")]
    BadRole(String),
    #[error("{0} is the last enabled admin: make another staff member an admin first, or the console would have nobody to manage it")]
    LastAdmin(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TeamError {
    /// Whether the request was refused (the staff member can fix it), rather than failed.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, TeamError::Store(_))
    }
}

/// A change to one staff account.
#[derive(Debug, Clone)]
pub enum Change {
    Disable,
    Enable,
    Role(String),
    /// A new password, as its hash.
    Password(String),
}

impl Change {
    fn action(&self) -> &'static str {
        match self {
            Change::Disable => "staff.disable",
            Change::Enable => "staff.enable",
            Change::Role(_) => "staff.role",
            Change::Password(_) => "staff.password",
        }
    }
}

fn journal(
    t: &Target,
    m: &Member,
    action: &str,
    actor: &Actor,
    detail: &str,
) -> Result<(), StoreError> {
    events::record_staff(t, &m.email, action, actor, detail)
}

fn role_checked(role: &str) -> Result<&str, TeamError> {
    ROLES
        .iter()
        .find(|r| **r == role)
        .copied()
        .ok_or_else(|| TeamError::BadRole(role.to_string()))
}

/// Adds staff account `email` (trimmed, lower case, checked by the caller) with `role` and a
/// password's hash; returns it.
pub fn add(
    t: &Target,
    email: &str,
    password_hash: &str,
    role: &str,
    actor: &Actor,
) -> Result<Member, TeamError> {
    let role = role_checked(role)?;
    let tx = t.transaction()?;
    if staff::member_by_email(t, email)?.is_some() {
        return Err(TeamError::Taken(email.to_string()));
    }
    let id = staff::insert(t, email, password_hash, role, &crate::now())?;
    let m = staff::member_by_id(t, id)?.ok_or(TeamError::NoMember(id))?;
    journal(t, &m, "staff.add", actor, &format!("role {role}"))?;
    tx.commit()?;
    Ok(m)
}

/// Whether `m` is the last enabled admin (a change that takes its admin rights away is refused).
fn last_admin(t: &Target, m: &Member) -> Result<bool, StoreError> {
    Ok(m.role == ADMIN && !m.disabled && staff::enabled_with_role(t, ADMIN)? <= 1)
}

/// Makes `change` to staff account `id`; returns the account as it was before.
pub fn change(t: &Target, id: i64, change: &Change, actor: &Actor) -> Result<Member, TeamError> {
    let tx = t.transaction()?;
    let m = staff::member_by_id(t, id)?.ok_or(TeamError::NoMember(id))?;
    let detail = match change {
        Change::Disable => {
            if last_admin(t, &m)? {
                return Err(TeamError::LastAdmin(m.email));
            }
            staff::set_disabled(t, id, true)?;
            staff::end_sessions_of(t, id)?;
            "sessions ended".to_string()
        }
        Change::Enable => {
            staff::set_disabled(t, id, false)?;
            String::new()
        }
        Change::Role(role) => {
            let role = role_checked(role)?;
            if role != ADMIN && last_admin(t, &m)? {
                return Err(TeamError::LastAdmin(m.email));
            }
            staff::set_role(t, id, role)?;
            format!("{} → {role}", m.role)
        }
        Change::Password(hash) => {
            staff::set_password_hash(t, id, hash)?;
            staff::end_sessions_of(t, id)?;
            "sessions ended".to_string()
        }
    };
    journal(t, &m, change.action(), actor, &detail)?;
    tx.commit()?;
    Ok(m)
}
