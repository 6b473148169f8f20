//! The options a run works with: the command line merged over the inputs' Options sheets,
//! the order of slash dates decided, kept in the journal, and made record options.

use super::context::Ctx;
use super::findings_log::FindingLog;
use super::resume::{mapping_json, phase_order};
use crate::options::{self, Effective, OptionRow};
use crate::RunError;
use ferry_validate::{DateOrder, DateTally, RecordOptions, ValueContext};

/// The effective options and the record options of a run (its option warnings and date notes
/// go to the log).
pub(super) fn settle(
    ctx: &Ctx<'_>,
    log: &mut FindingLog,
    option_rows: &[OptionRow],
    dates: DateTally,
) -> Result<(Effective, RecordOptions), RunError> {
    let opts = ctx.opts;
    let (eff, warnings) = options::merge(opts, option_rows)?;
    let (dates, date_notes) = dates.decide(options::explicit_date_order(opts, option_rows));
    for w in warnings.iter().chain(&date_notes) {
        log.push(w)?;
    }
    ctx.target.set_run_options(
        ctx.run,
        &serde_json::to_string(
            &serde_json::json!({ "command_line": ctx.opts, "effective": eff, "phases": phase_order(), "mapping": mapping_json(ctx.mapping) }),
        )
        .unwrap_or_default(),
    )?;
    let rec_opts = RecordOptions {
        values: ValueContext {
            date_order: if eff.date_order == "DMY" {
                DateOrder::Dmy
            } else {
                DateOrder::Mdy
            },
            phone_region: opts.phone_region,
        },
        default_owner: eff.default_owner.clone(),
        dates: Some(std::sync::Arc::new(dates)),
    };
    Ok((eff, rec_opts))
}
