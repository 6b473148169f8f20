//! The run loop: spool, options, phases, records, chunks, journal.

mod admission;
mod chunks;
mod context;
mod effective;
mod findings_log;
mod finish;
mod key;
pub(crate) mod lifecycle;
mod phases;
mod produce;
pub(crate) mod progress;
mod read;
pub(crate) mod resume;
mod stages;
mod writer;

use crate::record::{parse, Item, Outcome, State};
