//! Web logins made by an import (SPEC §8): with `CreateAccounts`, each account accepted in the
//! run gets a login named by its primary e-mail, lower-cased, written in the chunk that accepts
//! the account — or, when the e-mail comes from a ContactEmail, in the chunk that accepts that
//! e-mail. A source `Password` is hashed with Argon2id on every core by the phase's producer
//! (a well-formed legacy hash is kept as given, a malformed one rejects the record); without
//! one the login has no usable password and must reset.

use crate::log_sink::FindingSink;
use crate::RunError;
use ferry_catalogue::Known;
use ferry_findings::{Code, Finding, Location};
use ferry_logins::password::{self, FormError, SourcePassword, UNUSABLE};
use ferry_store::Target;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

/// What becomes of a `User` record's Password when logins are made.
#[derive(Debug)]
pub(crate) enum LoginPassword {
    /// A plain password not hashed yet.
    Plain,
    /// What the login stores: Ferry's Argon2id hash, or a legacy hash as given.
    Ready(String),
    Failed(String),
}

/// Judges a `User` record's Password for its login: a finding when it carries a hash marker
/// but is not a well-formed hash of a supported scheme (the message and the value never show
/// it), else what to store.
pub(crate) fn judge(rec: &ferry_validate::Record) -> Result<Option<LoginPassword>, Box<Finding>> {
    let Some(ferry_validate::Value::Secret(p)) = rec.get("Password") else {
        return Ok(None);
    };
    match password::classify(p) {
        Ok(SourcePassword::Plain) => Ok(Some(LoginPassword::Plain)),
        Ok(SourcePassword::Hash(_)) => Ok(Some(LoginPassword::Ready(p.clone()))),
        Err(e) => {
            let code = match e {
                FormError::Malformed { .. } => Code::PasswordHashInvalid,
                FormError::Unsupported(_) => Code::PasswordHashUnsupported,
            };
            let mut message = e.to_string();
            if let Some(first) = message.get(..1) {
                message = format!("{}{}.", first.to_uppercase(), &message[1..]);
            }
            Err(Box::new(rec.finding(code, Some("Password"), message)))
        }
    }
}

/// The thread pool that hashes passwords (one thread per core unless `RAYON_NUM_THREADS` says
/// otherwise), and what it did.
pub(crate) struct Hasher {
    pool: rayon::ThreadPool,
    hashed: AtomicU64,
    /// Bit i: pool thread i hashed at least one password.
    threads: AtomicU64,
}

impl Hasher {
    pub fn new() -> Result<Hasher, RunError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("ferry-hash-{i}"))
            .build()
            .map_err(|e| RunError::Io(std::io::Error::other(e.to_string())))?;
        Ok(Hasher {
            pool,
            hashed: AtomicU64::new(0),
            threads: AtomicU64::new(0),
        })
    }

    /// Hashes every plain password of a batch, on all threads of the pool at once.
    pub fn hash_all<'a>(&self, work: Vec<(&'a str, &'a mut Option<LoginPassword>)>) {
        use rayon::prelude::*;
        if work.is_empty() {
            return;
        }
        self.pool.install(|| {
            work.into_par_iter().for_each(|(plain, slot)| {
                *slot = Some(self.hash_one(plain));
            })
        });
    }

    /// One password (on the calling thread when it is not one of the pool's).
    pub fn hash_one(&self, plain: &str) -> LoginPassword {
        let i = rayon::current_thread_index().unwrap_or(63) % 64;
        self.threads.fetch_or(1 << i, Ordering::Relaxed);
        self.hashed.fetch_add(1, Ordering::Relaxed);
        match password::hash(plain) {
            Ok(h) => LoginPassword::Ready(h),
            Err(e) => LoginPassword::Failed(e.to_string()),
        }
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

/// What the run did with logins (in this process: a resumed run counts its own part).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoginSummary {
    pub created: u64,
    /// Plain passwords hashed with Argon2id.
    pub passwords_hashed: u64,
    /// Legacy hashes stored as given (upgraded at first sign-in).
    pub legacy_hashes: u64,
    /// Threads in the hashing pool, and how many of them hashed.
    pub hash_threads: usize,
    pub hash_threads_used: u32,
    /// Argon2id parameters (memory KiB, passes, lanes).
    pub argon2: (u32, u32, u32),
}

/// The logins of the run: usernames taken, accounts waiting for a ContactEmail.
pub(crate) struct Logins {
    taken: HashMap<String, String>,
    has_login: HashSet<String>,
    /// Accounts accepted in this run with no e-mail of their own yet → whether a password hash
    /// waits with them in `pending_login`.
    waiting: HashMap<String, bool>,
    next_id: i64,
    pub summary: LoginSummary,
    pub hasher: std::sync::Arc<Hasher>,
}

impl Logins {
    /// The logins of the target; on resume, the accounts of this run still waiting.
    pub fn load(target: &Target, run: i64) -> Result<Logins, RunError> {
        let mut taken = HashMap::new();
        let mut has_login = HashSet::new();
        target.each("SELECT username, \"user\" FROM login", &[], |r| {
            has_login.insert(r.text(1));
            taken.insert(r.text(0), r.text(1));
            Ok(())
        })?;
        let mut waiting = HashMap::new();
        target.each(
            "SELECT p.\"user\", p.password_hash FROM pending_login p WHERE p.run_id = ?1",
            ferry_store::params![run],
            |r| {
                waiting.insert(r.text(0), r.opt_text(1).is_some());
                Ok(())
            },
        )?;
        waiting.retain(|u, _| !has_login.contains(u));
        let next_id = target.int("SELECT coalesce(max(id), 0) + 1 FROM login", &[])?;
        let hasher = std::sync::Arc::new(Hasher::new()?);
        let summary = LoginSummary {
            hash_threads: hasher.threads(),
            argon2: (
                password::ARGON2_M_KIB,
                password::ARGON2_T,
                password::ARGON2_P,
            ),
            ..Default::default()
        };
        Ok(Logins {
            taken,
            has_login,
            waiting,
            next_id,
            summary,
            hasher,
        })
    }

    /// Whether the account has a login (stored, or made in this run).
    pub fn has_login(&self, user: &str) -> bool {
        self.has_login.contains(user)
    }

    /// An accepted `User`: its login now when it has an e-mail, else it waits for a ContactEmail.
    #[allow(clippy::too_many_arguments)]
    pub fn user(
        &mut self,
        target: &Target,
        run: i64,
        user: &str,
        location: &Location,
        email: Option<(String, Location)>,
        password: Option<LoginPassword>,
        log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        if self.has_login.contains(user) {
            if password.is_some() {
                log.push(
                    &Finding::new(Code::LoginExists, location.clone(), format!("Account \"{user}\" already has a login; the Password given here is not applied (use `ferry logins set-password`)."))
                        .entity(Known::User.name())
                        .key(Some(user.to_string()))
                        .field("Password"),
                )?;
            }
            return Ok(());
        }
        let hash = match password {
            None => None,
            Some(LoginPassword::Ready(h)) => {
                if !password::is_current(&h) {
                    self.summary.legacy_hashes += 1;
                }
                Some(h)
            }
            Some(LoginPassword::Failed(e)) => return Err(std::io::Error::other(e).into()),
            // (The caller hashes a plain password first.)
            Some(LoginPassword::Plain) => {
                return Err(std::io::Error::other("internal: a password was not hashed").into())
            }
        };
        match email {
            Some((email, at)) => self.create(target, run, user, &email, at, hash, log),
            None => {
                target.append(
                    "pending_login",
                    &["run_id", "user", "file", "sheet", "row", "password_hash"],
                    ferry_store::params![
                        &run,
                        &user,
                        &&*location.file,
                        &location.sheet.as_deref(),
                        &(location.row as i64),
                        &hash
                    ]
                    .to_vec(),
                )?;
                self.waiting.insert(user.to_string(), hash.is_some());
                Ok(())
            }
        }
    }

    /// An accepted `ContactEmail`: the first one of an account that waits gives its login.
    pub fn contact_email(
        &mut self,
        target: &Target,
        run: i64,
        user: &str,
        email: &str,
        at: Location,
        log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        let Some(has_hash) = self.waiting.remove(user) else {
            return Ok(());
        };
        let hash = if has_hash {
            target
                .first(
                    "SELECT password_hash FROM pending_login WHERE run_id = ?1 AND \"user\" = ?2",
                    ferry_store::params![&run, &user],
                )?
                .and_then(|r| r.opt_text(0))
        } else {
            None
        };
        self.create(target, run, user, email, at, hash, log)
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        target: &Target,
        run: i64,
        user: &str,
        email: &str,
        at: Location,
        hash: Option<String>,
        log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        let username = email.to_lowercase();
        if let Some(holder) = self.taken.get(&username) {
            log.push(
                &Finding::new(Code::LoginDuplicateEmail, at, format!("\"{username}\" is already the login of account \"{holder}\", so account \"{user}\" gets no login."))
                    .entity(Known::User.name())
                    .key(Some(user.to_string()))
                    .field("Email")
                    .value(email),
            )?;
            return Ok(());
        }
        let must_reset = hash.is_none();
        let hash = hash.unwrap_or_else(|| UNUSABLE.to_string());
        target.append(
            "login",
            &[
                "id",
                "run_id",
                "user",
                "username",
                "password_hash",
                "must_reset",
            ],
            ferry_store::params![&self.next_id, &run, &user, &username, &hash, &must_reset]
                .to_vec(),
        )?;
        self.next_id += 1;
        self.summary.created += 1;
        self.has_login.insert(user.to_string());
        self.taken.insert(username, user.to_string());
        Ok(())
    }

    /// The end of the run: accounts that never got an e-mail are told so; the waiting list goes.
    pub fn finish(
        mut self,
        target: &Target,
        run: i64,
        log: &mut dyn FindingSink,
    ) -> Result<LoginSummary, RunError> {
        let mut rows = vec![];
        target.each(
            "SELECT \"user\", file, sheet, row FROM pending_login WHERE run_id = ?1 ORDER BY id",
            ferry_store::params![run],
            |r| {
                rows.push((r.text(0), r.text(1), r.opt_text(2), r.int(3)));
                Ok(())
            },
        )?;
        for (user, file, sheet, row) in rows {
            if !self.waiting.contains_key(&user) {
                continue;
            }
            let at = Location {
                file: file.into(),
                sheet: sheet.map(Into::into),
                row: row as u64,
                column: None,
            };
            log.push(
                &Finding::new(Code::LoginNoEmail, at, format!("Account \"{user}\" has no e-mail (User Email or ContactEmail), so it gets no login."))
                    .entity(Known::User.name())
                    .key(Some(user.clone())),
            )?;
        }
        target.exec(
            "DELETE FROM pending_login WHERE run_id = ?1",
            ferry_store::params![&run],
        )?;
        self.summary.passwords_hashed = self.hasher.hashed.load(Ordering::Relaxed);
        self.summary.hash_threads_used = self.hasher.threads.load(Ordering::Relaxed).count_ones();
        Ok(self.summary)
    }
}
