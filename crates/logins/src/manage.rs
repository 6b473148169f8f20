//! Staff and member operations on one login: list logins (never their hashes), assign a
//! username (creating the login of an account that has none, as seed 000's staff do), set a
//! temporary or chosen password, check a password at sign-in (upgrading a legacy hash), and
//! change a password. Every change is journaled.

use crate::events::{self, Actor};
use crate::password::{self, Verdict};
use crate::{in_transaction, LoginError};
use ferry_store::{params, Target};

/// Which logins [`list`] shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only logins without a usable password (they must reset it).
    pub must_reset: bool,
    /// Only logins whose temporary password must be changed at the next sign-in.
    pub must_change: bool,
    /// Only logins whose stored hash is a legacy one (upgraded at the next sign-in).
    pub legacy: bool,
    /// Part of the account name or username (case-insensitive).
    pub search: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

/// One login as staff see it: never its hash.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoginRow {
    pub user: String,
    pub username: String,
    /// `none` (must reset), `argon2id`, or the legacy scheme (bcrypt, …).
    pub password: &'static str,
    pub must_reset: bool,
    pub must_change: bool,
    pub password_changed_at: Option<String>,
    /// The import run that created it (none: created by staff).
    pub run: Option<i64>,
    /// Reset tokens issued and still open (not used, replaced or expired).
    pub open_tokens: i64,
}

/// Logins in account order, filtered, one page. The hash is read only to name its scheme.
pub fn list(t: &Target, f: &Filter) -> Result<Vec<LoginRow>, LoginError> {
    let pattern = f
        .search
        .as_deref()
        .map(|s| format!("%{}%", like_literal(&s.trim().to_lowercase())))
        .unwrap_or_else(|| "%".into());
    let now = crate::now();
    let limit = if f.limit == 0 { 100 } else { f.limit };
    let mut out = vec![];
    let mut skipped = 0usize;
    // The legacy filter is decided here (the scheme is read from the hash), so rows are read
    // in account order until the page is full.
    t.each(
        "SELECT l.\"user\", l.username, l.password_hash, l.must_reset, l.must_change, l.password_changed_at, l.run_id,
           (SELECT count(*) FROM reset_token r WHERE r.login_id = l.id AND r.used_at IS NULL AND r.expires_at > ?2)
         FROM login l
         WHERE (lower(l.\"user\") LIKE ?1 ESCAPE '\\' OR l.username LIKE ?1 ESCAPE '\\') AND (?3 = 0 OR l.must_reset = 1) AND (?4 = 0 OR l.must_change = 1)
         ORDER BY l.\"user\"",
        params![pattern.as_str(), now.as_str(), f.must_reset, f.must_change],
        |r| {
            if out.len() >= limit {
                return Ok(());
            }
            let scheme = password::describe(&r.text(2));
            if f.legacy && (scheme == "argon2id" || scheme == "none") {
                return Ok(());
            }
            if skipped < f.offset {
                skipped += 1;
                return Ok(());
            }
            out.push(LoginRow {
                user: r.text(0),
                username: r.text(1),
                password: scheme,
                must_reset: r.int(3) != 0,
                must_change: r.int(4) != 0,
                password_changed_at: r.opt_text(5),
                run: r.opt_int(6),
                open_tokens: r.int(7),
            });
            Ok(())
        },
    )?;
    Ok(out)
}

/// Accounts that have no login yet (staff assign them a username), in account order.
pub fn without_login(t: &Target, limit: usize) -> Result<Vec<String>, LoginError> {
    Ok(t
        .rows(
            "SELECT u.name FROM \"user\" u WHERE NOT EXISTS (SELECT 1 FROM login l WHERE l.\"user\" = u.name) ORDER BY u.name LIMIT ?1",
            params![limit as i64],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect())
}

/// A username as Ferry keeps it: trimmed and lower-cased (sign-in is case-insensitive, as for
/// the e-mails an import makes usernames of); 1 to 254 characters, no white space or control
/// characters. An e-mail address is the usual choice, but not required (seed 000's staff may
/// assign any username).
pub fn normalize_username(name: &str) -> Result<String, LoginError> {
    let u = name.trim().to_lowercase();
    let bad = |why| Err(LoginError::BadUsername(name.trim().to_string(), why));
    if u.is_empty() {
        return bad("it is empty");
    }
    if u.chars().count() > 254 {
        return bad("it is longer than 254 characters");
    }
    if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains white space or control characters");
    }
    Ok(u)
}

/// (login id, username) of an account's login.
fn login_of(t: &Target, account: &str) -> Result<Option<(i64, String)>, LoginError> {
    Ok(t.first(
        "SELECT id, username FROM login WHERE \"user\" = ?1",
        params![account],
    )?
    .map(|r| (r.int(0), r.text(1))))
}

/// Gives an account the username `new`. An account without a login gets one (no usable
/// password: it must reset, or staff set a temporary one). Returns the previous username.
pub fn set_username(
    t: &Target,
    account: &str,
    new: &str,
    actor: &Actor,
) -> Result<Option<String>, LoginError> {
    let username = normalize_username(new)?;
    in_transaction(t, || {
        if t.first("SELECT 1 FROM \"user\" WHERE name = ?1", params![account])?
            .is_none()
        {
            return Err(LoginError::NoAccount(account.to_string()));
        }
        if let Some(r) = t.first(
            "SELECT \"user\" FROM login WHERE username = ?1",
            params![username.as_str()],
        )? {
            let holder = r.text(0);
            if holder != account {
                return Err(LoginError::UsernameTaken { username, holder });
            }
        }
        match login_of(t, account)? {
            Some((id, old)) => {
                t.exec(
                    "UPDATE login SET username = ?2 WHERE id = ?1",
                    params![id, username.as_str()],
                )?;
                events::record(
                    t,
                    (id, account, &username),
                    "username_set",
                    actor,
                    &format!("was {old}"),
                )?;
                Ok(Some(old))
            }
            None => {
                let id = t.int("SELECT coalesce(max(id), 0) + 1 FROM login", &[])?;
                t.exec(
                    "INSERT INTO login (id, run_id, \"user\", username, password_hash, must_reset) VALUES (?1, NULL, ?2, ?3, ?4, 1)",
                    params![id, account, username.as_str(), password::UNUSABLE],
                )?;
                events::record(
                    t,
                    (id, account, &username),
                    "login_created",
                    actor,
                    "no password yet: it must be reset",
                )?;
                Ok(None)
            }
        }
    })
}

/// Where a password set by staff comes from.
pub enum NewPassword<'a> {
    /// Ferry makes a strong one ([`password::temporary`]) and returns it (show it once).
    Temporary,
    /// Staff chose it (read from standard input, never from the command line).
    Given(&'a str),
}

/// Sets an account's password. `must_change`: the member must choose their own at the next
/// sign-in (always for a generated temporary password). Open reset tokens stop working.
/// Returns the generated temporary password, which exists nowhere else.
pub fn set_password(
    t: &Target,
    account: &str,
    new: NewPassword<'_>,
    must_change: bool,
    actor: &Actor,
) -> Result<Option<String>, LoginError> {
    let (id, username) =
        login_of(t, account)?.ok_or_else(|| LoginError::NoLogin(account.to_string()))?;
    let (clear, generated, must_change) = match new {
        NewPassword::Temporary => (password::temporary(), true, true),
        NewPassword::Given(p) => {
            password::check_new(p, &username)?;
            (p.to_string(), false, must_change)
        }
    };
    let hash = password::hash(&clear)?;
    in_transaction(t, || {
        store_password(t, id, &hash, must_change)?;
        let detail = match (generated, must_change) {
            (true, _) => "a generated temporary password, to be changed at the next sign-in",
            (false, true) => "a password chosen by staff, to be changed at the next sign-in",
            (false, false) => "a password chosen by staff",
        };
        let action = if must_change {
            "temporary_password_set"
        } else {
            "password_set"
        };
        events::record(t, (id, account, &username), action, actor, detail)?;
        Ok(())
    })?;
    Ok(generated.then_some(clear))
}

/// Writes a new hash: the login no longer must reset; `must_change` as given; every open
/// reset token of the login stops working.
pub(crate) fn store_password(
    t: &Target,
    login: i64,
    hash: &str,
    must_change: bool,
) -> Result<(), LoginError> {
    let now = crate::now();
    t.exec(
        "UPDATE login SET password_hash = ?2, must_reset = 0, must_change = ?3, password_changed_at = ?4 WHERE id = ?1",
        params![login, hash, must_change, now.as_str()],
    )?;
    t.exec(
        "UPDATE reset_token SET used_at = ?2 WHERE login_id = ?1 AND used_at IS NULL",
        params![login, now.as_str()],
    )?;
    Ok(())
}

/// The answer to a sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SignIn {
    /// The password is right. `must_change`: send the member to choose a new password first.
    /// `upgraded`: the legacy hash (of that scheme) was replaced by Argon2id just now.
    Ok {
        user: String,
        username: String,
        must_change: bool,
        upgraded: Option<&'static str>,
    },
    /// Unknown username, wrong password, or a login without a usable password: the same
    /// answer for all three (a caller must not tell them apart to the person signing in).
    Refused,
}

/// Checks a member's username and password. A legacy hash that matches is replaced by Ferry's
/// Argon2id of the password (journaled as `password_upgraded`); so is an Argon2id hash with
/// other parameters. Costs about the same whether or not the username exists.
pub fn sign_in(
    t: &Target,
    username: &str,
    pass: &str,
    actor: &Actor,
) -> Result<SignIn, LoginError> {
    let name = username.trim().to_lowercase();
    let row = t.first(
        "SELECT id, \"user\", password_hash, must_change FROM login WHERE username = ?1",
        params![name.as_str()],
    )?;
    let Some(row) = row else {
        password::verify(pass, password::UNUSABLE);
        return Ok(SignIn::Refused);
    };
    let (id, user, stored) = (row.int(0), row.text(1), row.text(2));
    let Verdict::Match { upgrade } = password::verify(pass, &stored) else {
        return Ok(SignIn::Refused);
    };
    let mut upgraded = None;
    if upgrade {
        let scheme = password::describe(&stored);
        let hash = password::hash(pass)?;
        in_transaction(t, || {
            // Only if the hash is still the one checked (a concurrent change wins).
            let n = t.exec(
                "UPDATE login SET password_hash = ?2 WHERE id = ?1 AND password_hash = ?3",
                params![id, hash.as_str(), stored.as_str()],
            )?;
            if n == 1 {
                events::record(
                    t,
                    (id, &user, &name),
                    "password_upgraded",
                    actor,
                    &format!("{scheme} hash replaced by Argon2id at sign-in"),
                )?;
            }
            Ok(())
        })?;
        upgraded = Some(scheme);
    }
    Ok(SignIn::Ok {
        user,
        username: name,
        must_change: row.int(3) != 0,
        upgraded,
    })
}

/// A member changes their password (after a sign-in with a temporary one, say): the current
/// password must match. Clears `must_change`. Refused when it does not match.
pub fn change_password(
    t: &Target,
    username: &str,
    current: &str,
    new: &str,
    actor: &Actor,
) -> Result<(), LoginError> {
    let SignIn::Ok { user, username, .. } = sign_in(t, username, current, actor)? else {
        return Err(LoginError::WeakPassword(
            "the username and current password do not match".into(),
        ));
    };
    password::check_new(new, &username)?;
    if new == current {
        return Err(LoginError::WeakPassword(
            "the new password must differ from the current one".into(),
        ));
    }
    let hash = password::hash(new)?;
    let (id, _) = login_of(t, &user)?.ok_or_else(|| LoginError::NoLogin(user.clone()))?;
    in_transaction(t, || {
        store_password(t, id, &hash, false)?;
        events::record(
            t,
            (id, &user, &username),
            "password_changed",
            actor,
            "changed by the member",
        )
        .map_err(Into::into)
    })
}

/// `s` matched literally by LIKE … ESCAPE '\': `%`, `_` and `\` lose their meaning.
fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The username of account `account`'s login (empty if the login has none), or `None` if the
/// account has no login.
pub fn username_of(t: &Target, account: &str) -> Result<Option<String>, LoginError> {
    Ok(t.first(
        "SELECT username FROM login WHERE \"user\" = ?1",
        params![account],
    )?
    .map(|r| r.text(0)))
}
