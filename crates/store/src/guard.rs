//! Transactions, and guards that end what they began (as sqlx's `Transaction`): a transaction
//! rolled back unless committed, and a writer role given back when its holder lets go, on every
//! path out.
//!
//! A guard's drop reports nothing: a failed rollback leaves the server or SQLite to undo the
//! transaction when the connection ends, and a failed release leaves a writer record that the
//! next writer finds dead and takes over. Nothing about the statements (nor any value) is shown.

use crate::{Result, Target};
use std::ops::Deref;

/// What runs when a run's chunk has committed, before the next one begins (a test hook).
pub(crate) type AfterCommit = Box<dyn FnOnce() + Send>;

/// An open transaction of a [`Target`]. [`Tx::commit`] keeps its work; dropping it without a
/// commit (an error, an early return) rolls it back. A deliberate undo says so:
/// [`Tx::rollback`]. It derefs to the target, whose statements run inside it.
#[must_use = "a transaction that is dropped at once is rolled back"]
pub struct Tx<'t> {
    target: &'t Target,
    open: bool,
}

impl Target {
    /// Begins a transaction (on SQLite `BEGIN IMMEDIATE`, which waits for the write lock).
    pub fn transaction(&self) -> Result<Tx<'_>> {
        self.begin()?;
        Ok(Tx {
            target: self,
            open: true,
        })
    }

    /// Begins a transaction; callers hold it through [`Target::transaction`].
    /// Rows queued in it are written by the writer thread while the caller goes on (see
    /// `handoff.rs`).
    pub(crate) fn begin(&self) -> Result<()> {
        self.flush()?;
        self.backend.begin()?;
        self.overlap.set(true);
        Ok(())
    }

    /// Commits, queued rows first (every one, those handed to the writer thread too). If they
    /// cannot be written, the transaction is rolled back.
    pub(crate) fn commit(&self) -> Result<()> {
        self.overlap.set(false);
        self.flush_or_roll_back()?;
        self.backend.commit()
    }

    /// Commits a run's chunk and begins the next transaction (see [`Tx::commit_then_begin`]).
    fn commit_chunk_and_begin(&self, after: AfterCommit) -> Result<()> {
        if self.overlap.get() {
            return self.commit_chunk_then_begin(after);
        }
        // A transaction not begun by `transaction` (no writer thread): here, in order.
        self.flush_or_roll_back()?;
        self.backend.commit_chunk()?;
        after();
        self.begin()
    }

    fn flush_or_roll_back(&self) -> Result<()> {
        if let Err(e) = self.flush() {
            let _ = self.rollback();
            return Err(e);
        }
        Ok(())
    }

    /// Rolls back the open transaction, if any, with the rows queued in it.
    pub(crate) fn rollback(&self) -> Result<()> {
        // Queued rows belong to the transaction that is undone (the writer thread's too: the
        // backend's rollback drops them).
        self.overlap.set(false);
        self.discard_pending();
        self.backend.rollback()
    }

    pub fn in_transaction(&self) -> bool {
        self.backend.in_transaction()
    }
}

impl<'t> Tx<'t> {
    /// Guards a transaction begun otherwise (a read-only one).
    pub(crate) fn begun(target: &'t Target) -> Tx<'t> {
        Tx { target, open: true }
    }

    /// Commits the transaction. If the commit fails, what is left of it is rolled back.
    pub fn commit(mut self) -> Result<()> {
        self.target.commit()?;
        self.open = false;
        Ok(())
    }

    /// Commits the work so far, runs `between` (outside any transaction), and begins the next
    /// transaction in this guard: a run's chunk after chunk.
    ///
    /// Inside a transaction begun by [`Target::transaction`] the caller does not wait: the rest
    /// of the chunk's rows, the COMMIT, `between` and the BEGIN are jobs of the writer thread,
    /// in this order, and every later statement of the caller (and a rollback) first waits for
    /// them (see `handoff.rs`). So the chunk commits exactly what was written or queued before
    /// this call, and nothing after it. A failed commit is reported by the next statement (or
    /// the final commit), and the guard then rolls back what followed it with it.
    ///
    /// The commit is a chunk's: it survives a crash of this process as soon as it is made, but
    /// the backend need not wait until it is on disk (PostgreSQL: `synchronous_commit = off`
    /// for this transaction only; SQLite in WAL mode with `synchronous=NORMAL` never waits at a
    /// commit). That keeps SPEC §6.4: a chunk commits its rows and the run's checkpoint in one
    /// transaction, so a crash can only lose whole chunks at the end of the run, with their
    /// checkpoints, and a resume redoes them from the last checkpoint that survived — the
    /// database is never left between a chunk's rows and its checkpoint. On PostgreSQL the
    /// run's last transactions are committed with [`Tx::commit`], which waits for the disk, and
    /// the write-ahead log is flushed in order: once that commit returns, every chunk before it
    /// is durable too, so a run reported finished stays finished.
    pub fn commit_then_begin(&mut self, between: impl FnOnce() + Send + 'static) -> Result<()> {
        self.target.commit_chunk_and_begin(Box::new(between))
    }

    /// Rolls the transaction back on purpose (a test-only run, a check that must leave nothing).
    pub fn rollback(mut self) -> Result<()> {
        self.open = false;
        self.target.rollback()
    }
}

impl Deref for Tx<'_> {
    type Target = Target;
    fn deref(&self) -> &Target {
        self.target
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.target.rollback();
        }
    }
}

/// The writer role of a target, held by one run of this process (SPEC §6.4); given back when
/// dropped. [`WriterRole::release`] gives it back and reports a failure.
#[must_use = "a writer role that is dropped at once is given back"]
pub struct WriterRole<'t> {
    target: &'t Target,
    run: i64,
    took_over: Option<i64>,
    held: bool,
}

impl Target {
    /// Takes the writer role for run `run`: a holder whose process is gone is taken over, a
    /// live one refuses with [`crate::StoreError::Held`].
    pub fn hold_writer(&self, run: i64) -> Result<WriterRole<'_>> {
        let took_over = self.acquire_writer(run)?;
        Ok(WriterRole {
            target: self,
            run,
            took_over,
            held: true,
        })
    }

    /// Takes the writer role for a run that `create` records in the same transaction as the
    /// writer record: a run refused because another one holds the target leaves nothing in the
    /// journal.
    pub fn hold_writer_for_new_run(
        &self,
        create: impl FnOnce(&Target) -> Result<i64>,
    ) -> Result<WriterRole<'_>> {
        let run = self.acquire_writer_for_new_run(create)?;
        Ok(WriterRole {
            target: self,
            run,
            took_over: None,
            held: true,
        })
    }
}

impl WriterRole<'_> {
    /// The run that holds the role.
    pub fn run(&self) -> i64 {
        self.run
    }

    /// The run whose stale hold (its process gone) was taken over, if any.
    pub fn took_over(&self) -> Option<i64> {
        self.took_over
    }

    /// Gives the role back now, reporting a failure.
    pub fn release(mut self) -> Result<()> {
        self.held = false;
        self.target.release_writer(self.run)
    }
}

impl Drop for WriterRole<'_> {
    fn drop(&mut self) {
        if self.held {
            let _ = self.target.release_writer(self.run);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{StoreError, Target};

    fn target() -> (tempfile::TempDir, Target) {
        let dir = tempfile::tempdir().unwrap();
        let (t, _) = Target::init(&dir.path().join("t.db")).unwrap();
        (dir, t)
    }

    fn put(t: &Target, key: &str) {
        t.exec(
            "INSERT INTO ferry_meta (key, value) VALUES (?1, 'v')",
            crate::params![key],
        )
        .unwrap();
    }

    fn has(t: &Target, key: &str) -> bool {
        t.int(
            "SELECT count(*) FROM ferry_meta WHERE key = ?1",
            crate::params![key],
        )
        .unwrap()
            == 1
    }

    #[test]
    fn a_dropped_transaction_is_rolled_back() {
        let (_dir, t) = target();
        {
            let tx = t.transaction().unwrap();
            put(&tx, "dropped");
        }
        assert!(!has(&t, "dropped"));
        // No transaction is left open: another one begins.
        t.transaction().unwrap().commit().unwrap();
    }

    #[test]
    fn a_committed_transaction_is_kept() {
        let (_dir, t) = target();
        let tx = t.transaction().unwrap();
        put(&tx, "kept");
        tx.commit().unwrap();
        assert!(has(&t, "kept"));
    }

    #[test]
    fn a_deliberate_rollback_and_chunked_commits() {
        let (_dir, t) = target();
        let mut tx = t.transaction().unwrap();
        put(&tx, "first");
        tx.commit_then_begin(|| ()).unwrap();
        put(&tx, "second");
        tx.rollback().unwrap();
        assert!(has(&t, "first"));
        assert!(!has(&t, "second"));
    }

    #[test]
    fn a_dropped_writer_role_is_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (a, _) = Target::init(&path).unwrap();
        let b = Target::open(&path).unwrap();
        {
            let held = a.hold_writer(1).unwrap();
            assert_eq!(held.run(), 1);
            assert!(matches!(
                b.hold_writer(2),
                Err(StoreError::Held { run: 1, .. })
            ));
        }
        let held = b.hold_writer(2).unwrap();
        assert_eq!(held.took_over(), None);
        held.release().unwrap();
        drop(a.hold_writer(3).unwrap());
    }
}
