//! The logins journal (`login_event`): who changed which login — a member's, or (as `staff.*`)
//! a console staff account — when, how; never a password, hash or token.

use ferry_store::{params, Target};

/// Who makes a change: `cli:<os user>@<host>` (or a name given with `--by`), `console:<staff
/// e-mail>`, or whatever a member site calls itself (`site`, `member:<username>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    /// The person at this terminal, as the operating system names them.
    pub fn cli(by: Option<&str>) -> Actor {
        if let Some(b) = by {
            return Actor(format!("cli:{}", b.trim()));
        }
        let user = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        if host.is_empty() {
            Actor(format!("cli:{user}"))
        } else {
            Actor(format!("cli:{user}@{host}"))
        }
    }
}

/// One journaled change.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    pub at: String,
    pub user: String,
    pub username: String,
    pub action: String,
    pub actor: String,
    pub detail: String,
}

/// Appends an event (inside the caller's transaction, if any).
pub(crate) fn record(
    t: &Target,
    login: (i64, &str, &str),
    action: &str,
    actor: &Actor,
    detail: &str,
) -> Result<(), ferry_store::StoreError> {
    let (id, user, username) = login;
    t.exec(
        "INSERT INTO login_event (at, login_id, \"user\", username, action, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![crate::now(), id, user, username, action, actor.0.as_str(), detail],
    )?;
    Ok(())
}

/// Appends a change to the console's staff account `email` (action `staff.*`; no login, no
/// member account), inside the caller's transaction.
pub(crate) fn record_staff(
    t: &Target,
    email: &str,
    action: &str,
    actor: &Actor,
    detail: &str,
) -> Result<(), ferry_store::StoreError> {
    t.exec(
        "INSERT INTO login_event (at, login_id, \"user\", username, action, actor, detail) VALUES (?1, NULL, NULL, ?2, ?3, ?4, ?5)",
        params![crate::now(), email, action, actor.0.as_str(), detail],
    )?;
    Ok(())
}

/// The newest changes to the console's staff accounts first, at most `limit` (`username` is
/// the staff e-mail).
pub fn recent_staff(t: &Target, limit: usize) -> Result<Vec<Event>, ferry_store::StoreError> {
    let rows = t.rows(
        "SELECT at, coalesce(username, ''), action, actor, coalesce(detail, '') FROM login_event
         WHERE action LIKE 'staff.%' ORDER BY id DESC LIMIT ?1",
        params![limit as i64],
    )?;
    Ok(rows
        .iter()
        .map(|r| Event {
            at: r.text(0),
            user: String::new(),
            username: r.text(1),
            action: r.text(2),
            actor: r.text(3),
            detail: r.text(4),
        })
        .collect())
}

/// The newest events of members' logins first (not the staff's), of one account or of all, at
/// most `limit`.
pub fn recent(
    t: &Target,
    account: Option<&str>,
    limit: usize,
) -> Result<Vec<Event>, ferry_store::StoreError> {
    let rows = t.rows(
        "SELECT at, coalesce(\"user\", ''), coalesce(username, ''), action, actor, coalesce(detail, '') FROM login_event
         WHERE (?1 = '' OR \"user\" = ?1) AND action NOT LIKE 'staff.%' ORDER BY id DESC LIMIT ?2",
        params![account.unwrap_or(""), limit as i64],
    )?;
    Ok(rows
        .iter()
        .map(|r| Event {
            at: r.text(0),
            user: r.text(1),
            username: r.text(2),
            action: r.text(3),
            actor: r.text(4),
            detail: r.text(5),
        })
        .collect())
}
