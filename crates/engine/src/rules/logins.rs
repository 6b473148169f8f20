//! `CreateAccounts` (SPEC §4.2): the login of an accepted `User`, or of an account waiting for
//! one, from its first accepted `ContactEmail` (the logins themselves: `crate::logins`).

use super::{Accepted, AcceptedRecord, EntityRule, Env};
use crate::log_sink::FindingSink;
use crate::logins::{LoginPassword, Logins};
use crate::RunError;
use ferry_catalogue::Known;
use ferry_validate::{Record, Value};

/// The login rule: nothing without `CreateAccounts`.
impl EntityRule for Option<Logins> {
    fn accepted(
        &mut self,
        env: &mut Env<'_, '_>,
        acc: &mut AcceptedRecord<'_>,
        log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        let Some(logins) = self.as_mut() else {
            return Ok(());
        };
        // An account already stored and identical gets its login only if it has none (the
        // record is not applied, so its Password changes no login).
        if acc.how == Accepted::Identical && logins.has_login(acc.rec.text("Name").unwrap_or("")) {
            return Ok(());
        }
        login_of(logins, env, acc.rec, acc.password, log)
    }
}

/// The login of an accepted (inserted or updated) `User`, or the first `ContactEmail` of an
/// account waiting for one.
fn login_of(
    logins: &mut Logins,
    env: &Env<'_, '_>,
    rec: &Record,
    login_password: &mut Option<LoginPassword>,
    log: &mut dyn FindingSink,
) -> Result<(), RunError> {
    let email_at = || {
        rec.text("Email").map(|e| {
            (
                e.to_string(),
                rec.location.with_column(rec.column_of("Email")),
            )
        })
    };
    if rec.entity.is(Known::User) {
        let mut password = login_password.take();
        if let (Some(LoginPassword::Plain), Some(Value::Secret(p))) =
            (&password, rec.get("Password"))
        {
            // Not hashed by the producer (parsed here): hash it on this thread.
            password = Some(logins.hasher.hash_one(p));
        }
        let name = rec.text("Name").unwrap_or_default();
        logins.user(
            env.target,
            env.run,
            name,
            &rec.location.with_column(rec.column_of("Password")),
            email_at(),
            password,
            log,
        )?;
    } else if rec.entity.is(Known::ContactEmail) {
        if let (Some(user), Some((email, at))) = (rec.text("User"), email_at()) {
            logins.contact_email(env.target, env.run, user, &email, at, log)?;
        }
    }
    Ok(())
}
