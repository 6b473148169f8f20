//! Validation without I/O: value rules (SPEC §3), record rules of the catalogue, reference and
//! key resolution against in-memory key indexes (§3.1, §9 exact duplicates).

pub mod date_columns;
pub mod duplicates;
pub mod index;
pub mod money_hint;
pub mod phone;
pub mod record;
pub mod values;

pub use date_columns::{DateColumns, DateTally};
pub use index::{KeyIndex, Resolve, Slot};
pub use record::{parse_record, Record, RecordOptions};
pub use values::{DateOrder, Value, ValueContext};
