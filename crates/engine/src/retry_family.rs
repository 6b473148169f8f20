//! The runs whose ledger rows a retry recognises as already imported: the run it retries, the
//! runs that one retried in turn, and every live run of their files (Run live, Import the valid
//! rows). Read from the journal once, when the ledger phase starts.

use crate::RunError;
use ferry_store::journal::{RunMode, RunStatus};
use ferry_store::{params, Target};

/// At most this many retries are followed back (a longer chain is a loop in a hand-edited
/// journal, not staff work).
const MAX_CHAIN: usize = 1_000;

/// The family of `retried` (see the module), without `this_run`, in id order.
pub(crate) fn family(t: &Target, retried: i64, this_run: i64) -> Result<Vec<i64>, RunError> {
    let mut chain: Vec<i64> = vec![];
    let mut next = Some(retried);
    while let Some(id) = next.take() {
        if chain.contains(&id) || chain.len() >= MAX_CHAIN {
            break;
        }
        let Some(info) = t.run(id)? else { break };
        chain.push(id);
        next = info
            .options
            .get("command_line")
            .and_then(|c| c.get("retry_of"))
            .and_then(|r| r.as_i64());
    }
    let mut family = chain.clone();
    for id in &chain {
        let live = t.rows(
            "SELECT l.id FROM run l JOIN run t ON l.inputs = t.inputs WHERE t.id = ?1 AND l.mode = ?2 AND l.status <> ?3",
            params![*id, RunMode::Live.as_str(), RunStatus::RolledBack.as_str()],
        )?;
        family.extend(live.iter().map(|r| r.int(0)));
    }
    family.sort_unstable();
    family.dedup();
    family.retain(|&r| r != this_run);
    Ok(family)
}
