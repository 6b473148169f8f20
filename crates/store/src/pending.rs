//! The bulk path: rows queued by [`Target::insert`] and [`Target::append`] and written in bulk
//! by the backend (multi-row INSERT on SQLite, binary COPY on PostgreSQL), before anything could
//! see them missing; and upserts of many rows per statement.

use crate::backend::Upsert;
use crate::guard::AfterCommit;
use crate::schema::{quote, quote_list};
use crate::{Cell, Result, Target};
use std::sync::Arc;

/// The table and columns of queued rows.
#[derive(Debug, PartialEq)]
pub(crate) struct Shape {
    pub(crate) table: String,
    pub(crate) columns: Vec<String>,
}

/// One table's queued rows.
pub(crate) struct Batch {
    pub(crate) shape: Arc<Shape>,
    pub(crate) rows: Vec<Cell>,
}

/// One hand-off to the writer thread: batches of queued rows, written in order.
pub(crate) type Rows = Vec<Batch>;

/// Rows waiting to be written in bulk.
///
/// Rows are queued by [`Target::insert`] and [`Target::append`] and written: when the queue is
/// full, before the transaction commits, and before any statement that names a queued table (a
/// read must see them; the check is by name, so it can only ever write early, never late). A
/// rollback drops them with the transaction.
///
/// Inside a transaction begun by [`Target::transaction`], a full queue is handed to the writer
/// thread as one job (see `handoff.rs`) and the caller goes on; the tables it names stay
/// "handed" until the thread is seen idle, so that a statement naming one of them still waits
/// for its rows.
#[derive(Default)]
pub(crate) struct Pending {
    batches: Vec<Batch>,
    rows: usize,
    bytes: usize,
    /// The batch the last row went to (rows come in runs of one table).
    last: usize,
    /// The shapes of rows handed to the writer thread, perhaps not written yet.
    handed: Vec<Arc<Shape>>,
    /// Each shape's rows at its last hand-off: the next batch's capacity, so that it does not
    /// grow by copying.
    sizes: Vec<(Arc<Shape>, usize)>,
}

/// Queue limits without a writer thread: enough rows for the bulk path to pay off, little
/// enough memory to stay flat.
const PENDING_ROWS: usize = 20_000;
const PENDING_BYTES: usize = 16 << 20;

/// Queue limits with the writer thread: a hand-off of this size is written while the next one
/// fills (small enough that the last one, written at the commit, keeps the caller waiting only
/// briefly; large enough that hand-offs are rare). At most two hand-offs wait or are written.
pub(crate) const HANDOFF_ROWS: usize = 2_048;
const HANDOFF_BYTES: usize = 2 << 20;
/// On PostgreSQL, four times as many: each table of a hand-off is one COPY, and the server's
/// cost of a COPY statement (opening the table and its indexes, a tuple slot per buffered row,
/// up to 1,000) is paid once per statement; with the ledger's six tables in a hand-off, 2,048
/// rows made COPYs of a few hundred rows each. The bytes grow alike (1 KiB a row, at least
/// [`HANDOFF_BYTES`]), so at most three hand-offs of 8 MiB are held.
pub(crate) const HANDOFF_ROWS_SERVER: usize = 8_192;

/// The bytes that end a hand-off of `rows` rows.
fn handoff_bytes(rows: usize) -> usize {
    rows.saturating_mul(1024).max(HANDOFF_BYTES)
}

impl Pending {
    /// The index of the batch of `shape`, if there is one: the last one used, any with the
    /// same `Arc`, then any with an equal shape (no string compares on the usual path).
    fn find(&self, shape: &Arc<Shape>) -> Option<usize> {
        match self.batches.get(self.last) {
            Some(b) if Arc::ptr_eq(&b.shape, shape) => Some(self.last),
            _ => self
                .batches
                .iter()
                .position(|b| Arc::ptr_eq(&b.shape, shape))
                .or_else(|| self.batches.iter().position(|b| b.shape == *shape)),
        }
    }

    /// Takes the queued batches (noting their sizes for the next ones).
    fn take(&mut self) -> Vec<Batch> {
        self.rows = 0;
        self.bytes = 0;
        self.last = 0;
        let batches = std::mem::take(&mut self.batches);
        for b in &batches {
            match self
                .sizes
                .iter()
                .position(|(s, _)| Arc::ptr_eq(s, &b.shape))
            {
                Some(i) => self.sizes[i].1 = b.rows.len(),
                None if self.sizes.len() < 64 => self.sizes.push((b.shape.clone(), b.rows.len())),
                None => {}
            }
        }
        batches
    }

    /// A new (empty) batch of `shape` in `cells` (an emptied vector, or a new one), sized as
    /// its last one.
    fn batch(&self, shape: Arc<Shape>, mut cells: Vec<Cell>) -> Batch {
        let size = self
            .sizes
            .iter()
            .find(|(s, _)| Arc::ptr_eq(s, &shape))
            .map_or(0, |s| s.1);
        cells.clear();
        cells.reserve(size);
        Batch { shape, rows: cells }
    }
}

/// Whether `sql` names `table` as a whole word (quoted or not).
fn mentions(sql: &str, table: &str) -> bool {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = sql.as_bytes();
    let mut from = 0;
    while let Some(i) = sql[from..].find(table) {
        let at = from + i;
        let end = at + table.len();
        let before = at == 0 || !ident(b[at - 1]);
        let after = end >= b.len() || !ident(b[end]);
        if before && after {
            return true;
        }
        from = at + 1;
        while !sql.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// The memory a queued cell is counted for.
fn cell_bytes(c: &Cell) -> usize {
    match c {
        Cell::Text(t) => t.len() + 24,
        Cell::Blob(b) => b.len() + 24,
        _ => 24,
    }
}

impl Target {
    /// Inserts a row into a table by column names, through the bulk path like [`Self::insert`]
    /// (for plain inserts only: no conflict clause, no returned values).
    pub fn append(&self, table: &str, columns: &[&str], row: Vec<Cell>) -> Result<()> {
        debug_assert_eq!(columns.len(), row.len());
        let shape = {
            let p = self.pending.borrow();
            let same = |s: &Shape| s.table == table && s.columns == columns;
            p.batches
                .get(p.last)
                .into_iter()
                .chain(&p.batches)
                .map(|b| &b.shape)
                .chain(p.sizes.iter().map(|(s, _)| s))
                .find(|s| same(s))
                .cloned()
        };
        let shape = shape.unwrap_or_else(|| {
            Arc::new(Shape {
                table: table.to_string(),
                columns: columns.iter().map(|c| c.to_string()).collect(),
            })
        });
        self.queue(shape, row)
    }

    pub(crate) fn queue(&self, shape: Arc<Shape>, row: Vec<Cell>) -> Result<()> {
        self.queue_with(shape, |rows| rows.extend(row))
    }

    /// Queues the row that `fill` appends to the cells of its table's batch (built there, not
    /// copied from a row of its own).
    pub(crate) fn queue_with(
        &self,
        shape: Arc<Shape>,
        fill: impl FnOnce(&mut Vec<Cell>),
    ) -> Result<()> {
        let overlap = self.overlap.get();
        let full = {
            let mut p = self.pending.borrow_mut();
            let i = match p.find(&shape) {
                Some(i) => i,
                None => {
                    let cells = if overlap {
                        self.backend.spare().unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    let b = p.batch(shape, cells);
                    p.batches.push(b);
                    p.batches.len() - 1
                }
            };
            p.last = i;
            let rows = &mut p.batches[i].rows;
            let start = rows.len();
            fill(rows);
            let bytes = rows[start..].iter().map(cell_bytes).sum::<usize>();
            p.rows += 1;
            p.bytes += bytes;
            if overlap {
                p.rows >= self.handoff_rows.get()
                    || p.bytes >= handoff_bytes(self.handoff_rows.get())
            } else {
                p.rows >= PENDING_ROWS || p.bytes >= PENDING_BYTES
            }
        };
        match (full, overlap) {
            (false, _) => Ok(()),
            (true, true) => self.hand_off(),
            (true, false) => self.flush(),
        }
    }

    /// Hands the queued rows to the writer thread.
    fn hand_off(&self) -> Result<()> {
        let rows = self.take_to_hand();
        self.backend.hand_off(rows)
    }

    /// Takes the queued rows to hand them to the writer thread: their tables count as handed
    /// (perhaps not written yet) until the thread is seen idle.
    fn take_to_hand(&self) -> Rows {
        let mut p = self.pending.borrow_mut();
        let rows = p.take();
        for b in &rows {
            if !p.handed.iter().any(|s| Arc::ptr_eq(s, &b.shape)) {
                p.handed.push(b.shape.clone());
            }
        }
        rows
    }

    /// Commits a run's chunk and begins the next transaction without waiting: the queued rows,
    /// the COMMIT, `after` and the BEGIN go to the writer thread in this order (see
    /// `handoff.rs`); every later statement runs after them.
    pub(crate) fn commit_chunk_then_begin(&self, after: AfterCommit) -> Result<()> {
        let rows = self.take_to_hand();
        self.backend.commit_then_begin(rows, after)
    }

    /// Writes every queued row now (those handed to the writer thread too).
    pub fn flush(&self) -> Result<()> {
        let batches = {
            let mut p = self.pending.borrow_mut();
            if p.rows == 0 && p.handed.is_empty() {
                return Ok(());
            }
            p.take()
        };
        self.backend.drain(batches)?;
        self.pending.borrow_mut().handed.clear();
        Ok(())
    }

    /// Drops every queued row (they belong to the transaction being undone).
    pub(crate) fn discard_pending(&self) {
        let mut p = self.pending.borrow_mut();
        p.take();
        p.handed.clear();
    }

    /// Writes the queued rows first if `sql` names one of their tables.
    pub(crate) fn settle(&self, sql: &str) -> Result<()> {
        let hit = {
            let mut p = self.pending.borrow_mut();
            if !p.handed.is_empty() && self.backend.idle() {
                p.handed.clear();
            }
            (p.rows > 0 && p.batches.iter().any(|b| mentions(sql, &b.shape.table)))
                || p.handed.iter().any(|s| mentions(sql, &s.table))
        };
        if hit {
            self.flush()?;
        }
        Ok(())
    }

    /// Inserts or updates many rows at once: `INSERT … VALUES (…), (…) ON CONFLICT (key) DO
    /// UPDATE SET <set>` in statements of up to 256 rows (one round trip each on PostgreSQL).
    /// `set` may use `excluded.<column>` and `<table>.<column>`. No two rows may share a key.
    pub fn upsert(
        &self,
        table: &str,
        columns: &[&str],
        key: &[&str],
        set: &str,
        rows: &[Vec<Cell>],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.settle(table)?;
        let upsert = Upsert {
            table,
            columns,
            key,
            set,
        };
        if self.backend.bulk_upsert(&upsert, rows)? {
            return Ok(());
        }
        let n = columns.len();
        let per = (32_766 / n.max(1)).clamp(1, 256);
        let cols = quote_list(columns);
        let keys = quote_list(key);
        for group in rows.chunks(per) {
            let sql = format!(
                "INSERT INTO {} ({cols}) VALUES {} ON CONFLICT ({keys}) DO UPDATE SET {set}",
                quote(table),
                numbered_values(group.len(), n)
            );
            let params: Vec<Cell> = group.iter().flatten().cloned().collect();
            self.exec(&sql, &params)?;
        }
        Ok(())
    }
}

/// `(?1, ?2), (?3, ?4)`: `rows` tuples of `n` numbered placeholders.
fn numbered_values(rows: usize, n: usize) -> String {
    let mut k = 0;
    let values: Vec<String> = (0..rows)
        .map(|_| {
            let one = (0..n)
                .map(|_| {
                    k += 1;
                    format!("?{k}")
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("({one})")
        })
        .collect();
    values.join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::params;

    /// Columns of `ledger_line` that the bulk-path tests write (also used by `handoff`'s).
    pub(crate) const LEDGER_LINE_COLUMNS: [&str; 7] = [
        "id",
        "run_id",
        "user",
        "kind",
        "amount_e4",
        "entity",
        "row_id",
    ];

    #[test]
    fn a_table_is_named_only_as_a_whole_word() {
        assert!(mentions("SELECT * FROM \"user\" WHERE x", "user"));
        assert!(mentions(
            "SELECT tax_code FROM user_attribute_tax_code WHERE \"user\" = ?1",
            "user"
        ));
        assert!(!mentions(
            "SELECT tax_code FROM user_attribute_tax_code",
            "user"
        ));
        assert!(mentions("DELETE FROM ledger_line", "ledger_line"));
        assert!(!mentions("DELETE FROM ledger_lines", "ledger_line"));
        assert!(!mentions("SELECT 1", "invoice"));
        assert!(mentions("x invoice", "invoice"));
    }

    /// Queued rows are written before a statement that reads their table, at commit, and in
    /// statements of many rows; a rollback drops them.
    #[test]
    fn the_bulk_path_is_invisible_to_readers() {
        let dir = tempfile::tempdir().unwrap();
        let (t, _) = Target::init(&dir.path().join("t.db")).unwrap();
        let cols = LEDGER_LINE_COLUMNS;
        t.begin().unwrap();
        for i in 0..1000i64 {
            t.append(
                "ledger_line",
                &cols,
                params![i + 1, 1i64, format!("U{i}"), "charge", i, "Debit", i].to_vec(),
            )
            .unwrap();
        }
        {
            // Queued, or (test builds hand off every few rows) handed to the writer thread.
            let p = t.pending.borrow();
            assert!(
                p.rows == 1000 || !p.handed.is_empty(),
                "{} rows queued",
                p.rows
            );
        }
        assert_eq!(
            t.int("SELECT count(*) FROM ledger_line", &[]).unwrap(),
            1000
        );
        assert_eq!(t.pending.borrow().rows, 0);
        assert!(t.pending.borrow().handed.is_empty());
        // a statement about another table leaves the queue alone
        t.append(
            "ledger_line",
            &cols,
            params![5000i64, 1i64, "X", "charge", 1i64, "Debit", 1i64].to_vec(),
        )
        .unwrap();
        t.int("SELECT count(*) FROM invoice", &[]).unwrap();
        assert_eq!(t.pending.borrow().rows, 1);
        t.rollback().unwrap();
        assert_eq!(t.int("SELECT count(*) FROM ledger_line", &[]).unwrap(), 0);
        // upserts of many rows at once
        t.begin().unwrap();
        let rows: Vec<Vec<Cell>> = (0..600i64)
            .map(|i| params![1i64, format!("U{i}"), i, i, 0i64, 0i64].to_vec())
            .collect();
        let set = "source_e4 = run_ledger_sum.source_e4 + excluded.source_e4";
        let cols = [
            "run_id",
            "user",
            "source_e4",
            "imported_e4",
            "rejected_e4",
            "skipped_e4",
        ];
        t.upsert("run_ledger_sum", &cols, &["run_id", "user"], set, &rows)
            .unwrap();
        t.upsert("run_ledger_sum", &cols, &["run_id", "user"], set, &rows)
            .unwrap();
        t.commit().unwrap();
        assert_eq!(
            t.int("SELECT count(*) FROM run_ledger_sum", &[]).unwrap(),
            600
        );
        assert_eq!(
            t.int("SELECT sum(source_e4) FROM run_ledger_sum", &[])
                .unwrap(),
            2 * (0..600).sum::<i64>()
        );
    }
}
