//! A UserCompany gives its company to the account's contacts that have none (kept in the run's
//! changes, for rollback).

use super::{Accepted, AcceptedRecord, EntityRule, Env};
use crate::log_sink::FindingSink;
use crate::RunError;

/// The UserCompany rule.
pub(crate) struct Companies;

impl EntityRule for Companies {
    fn accepted(
        &mut self,
        env: &mut Env<'_, '_>,
        acc: &mut AcceptedRecord<'_>,
        _log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        if acc.how != Accepted::Inserted {
            return Ok(());
        }
        let rec = acc.rec;
        let (u, c) = (
            rec.text("User").unwrap_or(""),
            rec.text("Company").unwrap_or(""),
        );
        // Which contacts get the company is kept for rollback.
        env.target.exec(
            "INSERT INTO run_change (run_id, entity, row_id, action, before)
                 SELECT CAST(?1 AS BIGINT), 'Contact', id, 'set_company', NULL FROM \"contact\" WHERE \"user\" = ?2 AND contact_company IS NULL",
            ferry_store::params![&env.run, &u],
        )?;
        env.target.exec(
            "UPDATE \"contact\" SET contact_company = ?1 WHERE \"user\" = ?2 AND contact_company IS NULL",
            ferry_store::params![&c, &u],
        )?;
        Ok(())
    }
}
