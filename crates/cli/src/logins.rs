//! `ferry logins …`: glue over `ferry_logins` — staff assign usernames and temporary passwords,
//! issue reset tokens, and check passwords and tokens the way a member site would. Secrets are
//! read from standard input (or the terminal, without echo), never from the command line; a
//! generated temporary password is printed once, on standard output, and kept only as a hash.

use crate::{DbArg, Failure};
use anyhow::anyhow;
use clap::Subcommand;
use ferry_logins::{Actor, LoginError, NewPassword, SignIn, TokenState};
use ferry_store::Target;
use std::io::IsTerminal;
use std::path::PathBuf;

fn say(s: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{s}");
}

fn out(s: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{s}");
}

fn json(v: &impl serde::Serialize) {
    out(&serde_json::to_string_pretty(v).unwrap_or_default());
}

#[derive(Subcommand)]
pub enum LoginsCmd {
    /// List logins (never their password hashes): account, username, password kind, whether it
    /// must be reset or changed, open reset tokens.
    List {
        #[command(flatten)]
        db: DbArg,
        /// Only logins without a usable password (they must reset it).
        #[arg(long)]
        must_reset: bool,
        /// Only logins whose temporary password must be changed at the next sign-in.
        #[arg(long)]
        must_change: bool,
        /// Only logins holding a legacy hash (bcrypt, PBKDF2, …: upgraded at the next sign-in).
        #[arg(long)]
        legacy: bool,
        /// List the accounts that have no login instead (to give them a username).
        #[arg(long, conflicts_with_all = ["must_reset", "must_change", "legacy"])]
        without_login: bool,
        /// Part of the account name or username.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        #[arg(long)]
        json: bool,
    },
    /// Give an account the username USERNAME (lower-cased; any text without spaces, usually an
    /// e-mail). An account without a login gets one, which must reset its password.
    SetUsername {
        #[command(flatten)]
        db: DbArg,
        account: String,
        username: String,
        /// Who does it, for the journal (default: the operating system's user).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Set an account's password: by default a generated temporary one, printed once on
    /// standard output; with --stdin, the line read from standard input. Either way it is
    /// stored only as an Argon2id hash and must be changed at the next sign-in.
    SetPassword {
        #[command(flatten)]
        db: DbArg,
        account: String,
        /// Generate a strong temporary password (the default).
        #[arg(long, conflicts_with = "stdin")]
        temporary: bool,
        /// Read the password from standard input (the terminal asks without echo).
        #[arg(long)]
        stdin: bool,
        /// With --stdin: the member need not change it at the next sign-in.
        #[arg(long, requires = "stdin")]
        no_must_change: bool,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Issue one-time, expiring password-reset tokens for every login that must reset its
    /// password; writes User,Username,Token,ExpiresAt to FILE for a mailing (tokens are stored
    /// only as hashes).
    ResetTokens {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        out: PathBuf,
        /// How many days the tokens stay valid (1 to 365).
        #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(i64).range(1..=365))]
        days: i64,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Say whether the reset token on standard input is valid (and for which login), expired,
    /// used or unknown. Exit status 0 only when valid. Changes nothing.
    VerifyToken {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
    /// Consume a reset token: standard input holds the token on its first line and the new
    /// password on the second. The token then stops working.
    ConsumeToken {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Check USERNAME's password (read from standard input) as a member site would: ok, must
    /// change, or refused; a matching legacy hash is upgraded to Argon2id. Exit 0 when ok.
    VerifyPassword {
        #[command(flatten)]
        db: DbArg,
        username: String,
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Change USERNAME's password as a member would (after signing in with a temporary one):
    /// standard input holds the current password, then the new one. Clears "must change".
    ChangePassword {
        #[command(flatten)]
        db: DbArg,
        username: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// The logins journal, newest first: who changed which login, when, how.
    Events {
        #[command(flatten)]
        db: DbArg,
        /// Only this account's events.
        account: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

fn failed(e: LoginError) -> Failure {
    Failure {
        code: if e.is_refusal() { 1 } else { 2 },
        error: anyhow!("{e}"),
    }
}

/// Lines of standard input (or one line asked on the terminal without echo), without their
/// line ends. Nothing else is trimmed: a password is taken as given.
fn secret_lines(prompts: &[&str]) -> Result<Vec<String>, Failure> {
    if std::io::stdin().is_terminal() {
        return prompts
            .iter()
            .map(|p| rpassword::prompt_password(*p).map_err(|e| anyhow!(e).into()))
            .collect();
    }
    let mut lines = vec![];
    for p in prompts {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if line.is_empty() {
            return Err(anyhow!(
                "standard input ended before the {}",
                p.trim_end_matches([':', ' '])
            )
            .into());
        }
        lines.push(line.trim_end_matches(['\r', '\n']).to_string());
    }
    Ok(lines)
}

pub fn run(cmd: LoginsCmd) -> Result<u8, Failure> {
    match cmd {
        LoginsCmd::List {
            db,
            must_reset,
            must_change,
            legacy,
            without_login,
            search,
            limit,
            offset,
            json: as_json,
        } => {
            let t = Target::open_db(&db.db)?;
            if without_login {
                let names = ferry_logins::manage::without_login(&t, limit).map_err(failed)?;
                if as_json {
                    json(&names);
                } else {
                    names.iter().for_each(|n| out(n));
                }
                return Ok(0);
            }
            let filter = ferry_logins::Filter {
                must_reset,
                must_change,
                legacy,
                search,
                limit,
                offset,
            };
            let rows = ferry_logins::list(&t, &filter).map_err(failed)?;
            if as_json {
                json(&rows);
                return Ok(0);
            }
            out(&format!(
                "{:<24} {:<32} {:<22} {:<12} {:>6}",
                "account", "username", "password", "state", "tokens"
            ));
            for r in rows {
                let state = match (r.must_reset, r.must_change) {
                    (true, _) => "must reset",
                    (_, true) => "must change",
                    _ => "ok",
                };
                out(&format!(
                    "{:<24} {:<32} {:<22} {:<12} {:>6}",
                    r.user, r.username, r.password, state, r.open_tokens
                ));
            }
            Ok(0)
        }
        LoginsCmd::SetUsername {
            db,
            account,
            username,
            by,
        } => {
            let t = Target::open_db(&db.db)?;
            match ferry_logins::set_username(&t, &account, &username, &Actor::cli(by.as_deref())).map_err(failed)? {
                Some(old) => say(&format!("Account {account}: username {old} is now {}.", username.trim().to_lowercase())),
                None => say(&format!("Account {account} has a login now: {}. It has no password yet: issue a reset token (`ferry logins reset-tokens`) or set a temporary password (`ferry logins set-password {account}`).", username.trim().to_lowercase())),
            }
            Ok(0)
        }
        LoginsCmd::SetPassword {
            db,
            account,
            temporary: _,
            stdin,
            no_must_change,
            by,
        } => {
            let t = Target::open_db(&db.db)?;
            let actor = Actor::cli(by.as_deref());
            if stdin {
                let p = secret_lines(&["New password: "])?.remove(0);
                ferry_logins::set_password(
                    &t,
                    &account,
                    NewPassword::Given(&p),
                    !no_must_change,
                    &actor,
                )
                .map_err(failed)?;
                say(&format!(
                    "Account {account}: the password is set{}.",
                    if no_must_change {
                        ""
                    } else {
                        "; it must be changed at the next sign-in"
                    }
                ));
            } else {
                let p =
                    ferry_logins::set_password(&t, &account, NewPassword::Temporary, true, &actor)
                        .map_err(failed)?
                        .ok_or_else(|| anyhow!("internal: no temporary password"))?;
                say(&format!("Account {account}: temporary password set (shown once, below; Ferry keeps only its hash). It must be changed at the next sign-in."));
                out(&p);
            }
            Ok(0)
        }
        LoginsCmd::ResetTokens {
            db,
            out: file,
            days,
            by,
        } => {
            let t = Target::open_db(&db.db)?;
            let n = ferry_logins::issue_reset_tokens(&t, &file, days, &Actor::cli(by.as_deref()))
                .map_err(failed)?;
            say(&format!("Issued {n} reset tokens, valid for {days} days, in {} — send them, then delete the file.", file.display()));
            Ok(0)
        }
        LoginsCmd::VerifyToken { db, json: as_json } => {
            let t = Target::open_db(&db.db)?;
            let token = secret_lines(&["Token: "])?.remove(0);
            let state = ferry_logins::verify_token(&t, &token).map_err(failed)?;
            if as_json {
                json(&state);
            }
            say(&match &state {
                TokenState::Valid {
                    user,
                    username,
                    expires_at,
                } => format!("valid: login {username} (account {user}), until {expires_at}"),
                TokenState::Expired {
                    user,
                    username,
                    expires_at,
                } => format!("expired at {expires_at}: login {username} (account {user})"),
                TokenState::Used { user, username } => {
                    format!("used (or replaced): login {username} (account {user})")
                }
                TokenState::Unknown => "unknown: no such token in this target".to_string(),
            });
            Ok(if matches!(state, TokenState::Valid { .. }) {
                0
            } else {
                1
            })
        }
        LoginsCmd::ConsumeToken {
            db,
            json: as_json,
            by,
        } => {
            let t = Target::open_db(&db.db)?;
            let lines = secret_lines(&["Token: ", "New password: "])?;
            let (user, username) =
                ferry_logins::consume_token(&t, &lines[0], &lines[1], &Actor::cli(by.as_deref()))
                    .map_err(failed)?;
            if as_json {
                json(
                    &serde_json::json!({"result": "password_set", "user": user, "username": username}),
                );
            }
            say(&format!(
                "The password of login {username} (account {user}) is set; the token is used up."
            ));
            Ok(0)
        }
        LoginsCmd::VerifyPassword {
            db,
            username,
            json: as_json,
            by,
        } => {
            let t = Target::open_db(&db.db)?;
            let p = secret_lines(&["Password: "])?.remove(0);
            let r = ferry_logins::sign_in(&t, &username, &p, &Actor::cli(by.as_deref()))
                .map_err(failed)?;
            if as_json {
                json(&r);
            }
            match &r {
                SignIn::Ok {
                    must_change,
                    upgraded,
                    ..
                } => {
                    let mut s = String::from("ok");
                    if *must_change {
                        s.push_str(", must change: the password is temporary");
                    }
                    if let Some(scheme) = upgraded {
                        s.push_str(&format!(", upgraded: the {scheme} hash is now Argon2id"));
                    }
                    say(&s);
                    Ok(0)
                }
                SignIn::Refused => {
                    say("refused: unknown username, wrong password, or no usable password");
                    Ok(1)
                }
            }
        }
        LoginsCmd::ChangePassword { db, username, by } => {
            let t = Target::open_db(&db.db)?;
            let lines = secret_lines(&["Current password: ", "New password: "])?;
            ferry_logins::change_password(
                &t,
                &username,
                &lines[0],
                &lines[1],
                &Actor::cli(by.as_deref()),
            )
            .map_err(failed)?;
            say(&format!(
                "The password of login {} is changed.",
                username.trim().to_lowercase()
            ));
            Ok(0)
        }
        LoginsCmd::Events {
            db,
            account,
            limit,
            json: as_json,
        } => {
            let t = Target::open_db(&db.db)?;
            let ev = ferry_logins::events::recent(&t, account.as_deref(), limit)?;
            if as_json {
                json(&ev);
            } else {
                for e in ev {
                    out(&format!(
                        "{}  {:<24} {:<28} {:<24} {}  ({})",
                        e.at, e.user, e.username, e.action, e.detail, e.actor
                    ));
                }
            }
            Ok(0)
        }
    }
}
