//! The batch an unnamed CloseInvoice closes (SPEC §6.3, §7): its account's ledger rows before it
//! in the same file or sheet since the account's previous close there. A close is the same close
//! again only when none of its batch's rows is new in this run: rows rejected (now or in an
//! earlier run) do not count, rows an earlier run stored make its identity, rows this run imports
//! make it a new close.
//!
//! Kept by the main thread, which knows each row's outcome; on resume the rows done before the
//! interruption are replayed from what the target holds (`LedgerState::replay`).

use ferry_validate::Record;
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::Arc;

/// What the batch bookkeeping needs of one ledger record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchRow {
    account: u64,
    source: u64,
    /// A CloseInvoice (named or not): it ends its account's batch.
    pub close: bool,
    /// The row's `ledger_key` (for a close: the key it has before its batch is known).
    pub key: i64,
}

impl BatchRow {
    /// The batch row of a ledger record (none without an account).
    pub fn of(rec: &Record, key: i64) -> Option<BatchRow> {
        let user = rec.text("User")?;
        Some(BatchRow {
            account: hash(&[user.as_bytes()]),
            source: source_hash(&rec.location),
            close: rec.entity.is(ferry_catalogue::Known::CloseInvoice),
            key,
        })
    }
}

/// An account's rows since its last close, in one file or sheet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Batch {
    source: u64,
    /// Running hash of the `ledger_key`s of the rows that are stored (by an earlier run or by this
    /// one), 0 when there are none: the identity of the close that ends the batch.
    pub rows: u64,
    /// One of them was imported by this run.
    pub new: bool,
}

/// The open batch of each account (one hash and a flag per account with rows since its close),
/// by the account's BLAKE3 hash (Fx is enough on it).
#[derive(Default)]
pub(crate) struct Batches(FxHashMap<u64, Batch>);

impl Batches {
    /// The batch a close `row` ends (empty when its account has no rows before it in its source).
    pub fn current(&self, row: &BatchRow) -> Batch {
        match self.0.get(&row.account) {
            Some(b) if b.source == row.source => *b,
            _ => Batch::default(),
        }
    }

    /// Notes a processed row: `stored`, an earlier run stored the same row (a duplicate);
    /// `imported`, this run stored it. A rejected row is neither and leaves no trace.
    pub fn note(&mut self, row: &BatchRow, stored: bool, imported: bool) {
        if row.close {
            self.0.remove(&row.account);
            return;
        }
        let b = self.0.entry(row.account).or_default();
        if b.source != row.source {
            // A batch does not run across two files or sheets.
            *b = Batch {
                source: row.source,
                ..Batch::default()
            };
        }
        if stored || imported {
            b.rows = hash(&[&b.rows.to_le_bytes(), &row.key.to_le_bytes()]);
            b.new |= imported;
        }
    }
}

/// The hash of a location's file and sheet. The rows of one file come one after the other: the
/// last source's hash is kept, with its names (compared by their text).
fn source_hash(loc: &ferry_findings::Location) -> u64 {
    type Last = Option<(Arc<str>, Option<Arc<str>>, u64)>;
    thread_local! {
        static LAST: RefCell<Last> = const { RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if let Some((file, sheet, h)) = last {
            if *file == loc.file && *sheet == loc.sheet {
                return *h;
            }
        }
        let h = hash(&[
            loc.file.as_bytes(),
            loc.sheet.as_deref().unwrap_or_default().as_bytes(),
        ]);
        *last = Some((loc.file.clone(), loc.sheet.clone(), h));
        h
    })
}

/// A stable 64-bit hash (BLAKE3, truncated): batch identities are stored in close keys.
pub(crate) fn hash(parts: &[&[u8]]) -> u64 {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(account: u64, source: u64, close: bool, key: i64) -> BatchRow {
        BatchRow {
            account,
            source,
            close,
            key,
        }
    }

    #[test]
    fn rejected_rows_leave_no_trace_and_new_rows_make_a_new_close() {
        let mut b = Batches::default();
        b.note(&row(1, 1, false, 10), true, false);
        b.note(&row(1, 1, false, 11), false, false);
        let only_stored = b.current(&row(1, 1, true, 0));
        assert!(!only_stored.new && only_stored.rows != 0);
        let mut c = Batches::default();
        c.note(&row(1, 1, false, 10), true, false);
        assert_eq!(c.current(&row(1, 1, true, 0)), only_stored);
        c.note(&row(1, 1, false, 11), false, true);
        assert!(c.current(&row(1, 1, true, 0)).new);
        // Another source, another batch; a close ends it.
        assert_eq!(c.current(&row(1, 2, true, 0)), Batch::default());
        c.note(&row(1, 1, true, 0), false, false);
        assert_eq!(c.current(&row(1, 1, true, 0)), Batch::default());
    }
}
