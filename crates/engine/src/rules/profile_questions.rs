//! A ProfileQuestion's Target must be a Role or Service (as its AppliesTo says) that exists.

use super::{EntityRule, Env};
use crate::log_sink::FindingSink;
use crate::RunError;
use ferry_catalogue as cat;
use ferry_findings::Code;
use ferry_store::cells::Cell;
use ferry_validate::{Record, Resolve};

/// The ProfileQuestion rule.
pub(crate) struct ProfileQuestions;

impl EntityRule for ProfileQuestions {
    fn check(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &mut Record,
        log: &mut dyn FindingSink,
        _extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        let (Some(applies), Some(t)) = (
            rec.text("AppliesTo").map(str::to_string),
            rec.text("Target").map(str::to_string),
        ) else {
            return Ok(false);
        };
        // (AppliesTo is a value of the catalogue's choice list: the name of a Role or Service.)
        let te = cat::entity(&applies).expect("Role or Service");
        match env.indexes.index(te, &["Name"])?.resolve(&t, false) {
            Resolve::Found(_) | Resolve::Folded { .. } => Ok(false),
            Resolve::RejectedParent(loc) => {
                log.push(&rec.finding(
                    Code::RejectedParent,
                    Some("Target"),
                    format!("{applies} \"{t}\" was rejected (at {loc})."),
                ))?;
                Ok(true)
            }
            Resolve::Unknown { hint } => {
                log.push(
                    &rec.finding(
                        Code::ReferenceUnknown,
                        Some("Target"),
                        format!("Target \"{t}\" matches no {applies}."),
                    )
                    .hint(hint),
                )?;
                Ok(true)
            }
        }
    }
}
