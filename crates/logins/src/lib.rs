//! Web logins of member accounts (SPEC §8, seed 000 "usernames and passwords"): what staff do
//! after a migration (assign usernames, set temporary passwords, issue reset tokens) and what a
//! member site needs to build on it (check a password, upgrading a legacy hash; verify and
//! consume a reset token; change a password), each change journaled in `login_event` without
//! secrets. The command line (`ferry logins …`) and the console's Logins page are thin callers
//! of this crate; a member site can call it directly on the same target. `staff.rs` stores the
//! console's own staff accounts, sessions and devices; `team.rs` is how an admin manages them.

pub mod events;
pub mod manage;
pub mod password;
pub mod staff;
pub mod team;
pub mod tokens;

pub use events::{Actor, Event};
pub use manage::{
    change_password, list, set_password, set_username, sign_in, Filter, LoginRow, NewPassword,
    SignIn,
};
pub use password::{Scheme, SourcePassword, Verdict};
pub use tokens::{consume_token, issue_reset_tokens, verify_token, TokenState};

use ferry_store::StoreError;

/// Why a login operation could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("there is no account \"{0}\" in the target")]
    NoAccount(String),
    #[error(
        "account \"{0}\" has no login yet: give it a username first (`ferry logins set-username`)"
    )]
    NoLogin(String),
    #[error("\"{username}\" is already the username of account \"{holder}\"")]
    UsernameTaken { username: String, holder: String },
    #[error("\"{0}\" cannot be a username: {1}")]
    BadUsername(String, &'static str),
    #[error("{0}")]
    WeakPassword(String),
    #[error("the reset token is {0}")]
    Token(&'static str),
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

impl LoginError {
    /// Whether the request was refused (exit 1) rather than impossible to carry out (exit 2).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            LoginError::UsernameTaken { .. } | LoginError::WeakPassword(_) | LoginError::Token(_)
        )
    }
}

/// Now, as the journal writes times (UTC, seconds).
pub(crate) fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Runs `f` in a transaction of its own: committed when it succeeds, rolled back otherwise.
pub(crate) fn in_transaction<T>(
    t: &ferry_store::Target,
    f: impl FnOnce() -> Result<T, LoginError>,
) -> Result<T, LoginError> {
    let tx = t.transaction()?;
    let v = f()?;
    tx.commit()?;
    Ok(v)
}
