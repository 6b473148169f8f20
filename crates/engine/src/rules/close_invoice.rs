//! A CloseInvoice must name its account, or follow a ledger record in its file or sheet that
//! gives it one.

use super::{EntityRule, Env};
use crate::log_sink::FindingSink;
use crate::RunError;
use ferry_findings::Code;
use ferry_validate::Record;

/// The CloseInvoice rule.
pub(crate) struct CloseInvoices;

impl EntityRule for CloseInvoices {
    fn given(
        &mut self,
        _env: &mut Env<'_, '_>,
        rec: &Record,
        log: &mut dyn FindingSink,
    ) -> Result<bool, RunError> {
        if rec.get("User").is_some() || rec.field_invalid("User") {
            return Ok(false);
        }
        log.push(&rec.finding(
            Code::ParentMissing,
            Some("User"),
            "CloseInvoice has no User and no ledger record precedes it in its file or sheet.",
        ))?;
        Ok(true)
    }
}
