//! Ledger record rules beyond values and references (the invoice semantics are in
//! `ledger_phase`): a Debit's service period must not end before it starts.

use super::{EntityRule, Env};
use crate::log_sink::FindingSink;
use crate::RunError;
use ferry_findings::Code;
use ferry_store::cells::Cell;
use ferry_validate::values::date_text;
use ferry_validate::{Record, Value};

/// The rules of Debits.
pub(crate) struct Periods;

impl EntityRule for Periods {
    fn check(
        &mut self,
        _env: &mut Env<'_, '_>,
        rec: &mut Record,
        log: &mut dyn FindingSink,
        _extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        period_rule(rec, log)
    }
}

/// `PeriodEnd` before `PeriodStart` is an error. A bound without a time is that whole day, so
/// only two bounds with times compare their times.
fn period_rule(rec: &Record, log: &mut dyn FindingSink) -> Result<bool, RunError> {
    let (
        Some(Value::Date {
            at: start,
            has_time: start_time,
        }),
        Some(Value::Date {
            at: end,
            has_time: end_time,
        }),
    ) = (rec.get("PeriodStart"), rec.get("PeriodEnd"))
    else {
        return Ok(false);
    };
    let reversed = if *start_time && *end_time {
        end < start
    } else {
        end.date() < start.date()
    };
    if !reversed {
        return Ok(false);
    }
    log.push(&rec.finding(
        Code::PeriodReversed,
        Some("PeriodEnd"),
        format!(
            "PeriodEnd {} is before PeriodStart {}: a service period cannot end before it starts.",
            date_text(end, *end_time),
            date_text(start, *start_time)
        ),
    ))?;
    Ok(true)
}
