//! Where the record stages and the entity rules put their findings: the run's finding log,
//! seen through one trait so that they do not depend on the run loop that owns it.

use ferry_catalogue::EntityId;
use ferry_findings::Finding;

/// The run's findings, in the order found.
pub(crate) trait FindingSink {
    /// Adds a finding.
    fn push(&mut self, f: &Finding) -> std::io::Result<()>;
    /// Whether this is the first record of `entity` left out by `--max-records` (its one info).
    fn first_left_out(&mut self, entity: EntityId) -> bool;
}
