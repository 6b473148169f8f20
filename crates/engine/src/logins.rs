//! Web logins for imported accounts (SPEC §8): with `CreateAccounts`, each account gets a login
//! named by its primary e-mail, lower-cased; a source `Password` becomes its Argon2id hash (an
//! existing `$argon2id$` or `$2b$` hash is kept); otherwise the login has an unusable password
//! and must be reset, through one-time tokens stored only as hashes.

use crate::run::FindingLog;
use crate::RunError;
use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use ferry_findings::{Code, Finding, Location};
use ferry_store::Target;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// The stored password of a login that no password matches (never a hash of random bytes,
/// which would cost hours at a million accounts).
pub const UNUSABLE_PASSWORD: &str = "!";

/// A source password, stored only as an Argon2id hash; an existing Argon2id or bcrypt hash is
/// kept as it is.
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.starts_with("$argon2id$") || password.starts_with("$2b$") {
        return Ok(password.to_string());
    }
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Accounts accepted in this run wait for their logins in `pending_login`, written with their
/// chunk, so that a resumed run still creates them; the logins are made at the end of the run.
pub(crate) struct Logins;

impl Logins {
    pub fn new() -> Logins {
        Logins
    }

    /// An accepted `User`, with its own e-mail (and where it stands) and its password's hash.
    pub fn user(
        &mut self,
        target: &Target,
        run: i64,
        user: &str,
        location: &Location,
        email: Option<(String, Location)>,
        password_hash: Option<String>,
    ) -> Result<(), RunError> {
        let (email, at) = match email {
            Some((e, at)) => (Some(e), at),
            None => (None, location.clone()),
        };
        target.append(
            "pending_login",
            &[
                "run_id",
                "user",
                "email",
                "file",
                "sheet",
                "row",
                "col",
                "password_hash",
            ],
            ferry_store::params![
                &run,
                &user,
                &email,
                &&*at.file,
                &at.sheet.as_deref(),
                &(at.row as i64),
                &at.column.map(|c| c.render()),
                &password_hash
            ]
            .to_vec(),
        )?;
        Ok(())
    }

    /// Creates the logins, in the order the accounts came, inside the run's data transaction.
    pub fn create(self, target: &Target, run: i64, log: &mut FindingLog) -> Result<(), RunError> {
        let mut taken: HashMap<String, String> = HashMap::new();
        let mut has_login: HashSet<String> = HashSet::new();
        target.each("SELECT username, \"user\" FROM login", &[], |r| {
            has_login.insert(r.text(1));
            taken.insert(r.text(0), r.text(1));
            Ok(())
        })?;
        type Pending = (
            String,
            Option<String>,
            String,
            Option<String>,
            i64,
            Option<String>,
            Option<String>,
        );
        let mut pending: Vec<Pending> = vec![];
        target.each(
            "SELECT \"user\", email, file, sheet, row, col, password_hash FROM pending_login WHERE run_id = ?1 ORDER BY id",
            ferry_store::params![run],
            |r| {
                pending.push((r.text(0), r.opt_text(1), r.text(2), r.opt_text(3), r.int(4), r.opt_text(5), r.opt_text(6)));
                Ok(())
            },
        )?;
        let mut next_id = target.int("SELECT coalesce(max(id), 0) + 1 FROM login", &[])?;
        for (user, own_email, file, sheet, row, col, password_hash) in pending {
            if has_login.contains(&user) {
                continue;
            }
            let user_at = Location {
                file: file.clone().into(),
                sheet: sheet.clone().map(Into::into),
                row: row as u64,
                column: None,
            };
            let email = match own_email {
                Some(e) => {
                    let column = col.map(|c| {
                        if sheet.is_some() {
                            ferry_findings::Column::Letter(letters_to_index(&c))
                        } else {
                            ferry_findings::Column::Number(c.parse().unwrap_or(0))
                        }
                    });
                    Some((
                        e,
                        Location {
                            column,
                            ..user_at.clone()
                        },
                    ))
                }
                None => target
                    .first("SELECT email, src_file, src_sheet, src_row FROM contact_email WHERE \"user\" = ?1 ORDER BY id LIMIT 1", ferry_store::params![&user])?
                    .map(|r| (r.text(0), Location { file: r.text(1).into(), sheet: r.opt_text(2).map(Into::into), row: r.int(3) as u64, column: None })),
            };
            let Some((email, at)) = email else {
                log.push(
                    &Finding::new(Code::LoginNoEmail, user_at, format!("Account \"{user}\" has no e-mail (User Email or ContactEmail), so it gets no login."))
                        .entity("User")
                        .key(Some(user.clone())),
                )?;
                continue;
            };
            let username = email.to_lowercase();
            if let Some(holder) = taken.get(&username) {
                log.push(
                    &Finding::new(Code::LoginDuplicateEmail, at, format!("\"{username}\" is already the login of account \"{holder}\", so account \"{user}\" gets no login."))
                        .entity("User")
                        .key(Some(user.clone()))
                        .field("Email")
                        .value(&email),
                )?;
                continue;
            }
            let (hash, must_reset) = match password_hash {
                Some(h) => (h, false),
                None => (UNUSABLE_PASSWORD.to_string(), true),
            };
            target.exec(
                "INSERT INTO login (id, run_id, \"user\", username, password_hash, must_reset) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                ferry_store::params![&next_id, &run, &user, &username, &hash, &(must_reset as i64)],
            )?;
            next_id += 1;
            taken.insert(username, user);
        }
        target.exec(
            "DELETE FROM pending_login WHERE run_id = ?1",
            ferry_store::params![&run],
        )?;
        Ok(())
    }
}

fn letters_to_index(c: &str) -> u32 {
    c.chars()
        .fold(0u32, |n, ch| {
            n * 26 + (ch as u32).saturating_sub('A' as u32 - 1)
        })
        .saturating_sub(1)
}

/// Issues a one-time reset token for every login that must reset its password, valid for
/// `days`; earlier unused tokens of those logins stop working. Writes `User,Username,Token,
/// ExpiresAt` to `out` (the only place the tokens exist in clear) and returns how many.
pub fn reset_tokens(target: &Target, out: &std::path::Path, days: i64) -> Result<u64, RunError> {
    use std::io::Write;
    let expires = (chrono::Local::now() + chrono::Duration::days(days))
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    let now = ferry_store::journal::now();
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    writeln!(file, "User,Username,Token,ExpiresAt")?;
    target.begin()?;
    let result = (|| -> Result<u64, RunError> {
        let mut rows: Vec<(i64, String, String)> = vec![];
        target.each(
            "SELECT id, \"user\", username FROM login WHERE must_reset = 1 ORDER BY \"user\"",
            &[],
            |r| {
                rows.push((r.int(0), r.text(1), r.text(2)));
                Ok(())
            },
        )?;
        let mut n = 0;
        for (id, user, username) in rows {
            let mut bytes = [0u8; 32];
            use argon2::password_hash::rand_core::RngCore;
            OsRng.fill_bytes(&mut bytes);
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let hash = hex(&Sha256::digest(token.as_bytes()));
            target.exec(
                "UPDATE reset_token SET used_at = ?2 WHERE login_id = ?1 AND used_at IS NULL",
                ferry_store::params![&id, &now],
            )?;
            target.exec(
                "INSERT INTO reset_token (login_id, token_hash, expires_at) VALUES (?1, ?2, ?3)",
                ferry_store::params![&id, &hash, &expires],
            )?;
            let q = |s: &str| {
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_string()
                }
            };
            writeln!(file, "{},{},{},{}", q(&user), q(&username), token, expires)?;
            n += 1;
        }
        Ok(n)
    })();
    match result {
        Ok(n) => {
            file.flush()?;
            target.commit()?;
            Ok(n)
        }
        Err(e) => {
            let _ = target.rollback();
            Err(e)
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_and_existing_hashes_kept() {
        let h = hash_password("s3cret!").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("s3cret"));
        let bcrypt = "$2b$12$abcdefghijklmnopqrstuuJ5z3G0q0g3S3V3q3w3e3r3t3y3u3i3o3p";
        assert_eq!(hash_password(bcrypt).unwrap(), bcrypt);
    }
}
