//! The target's connection, shared with a writer thread: inside a transaction begun by
//! [`crate::Target::transaction`], whole batches of queued rows are handed to the thread
//! (`ferry-write`), which writes them beside the caller's work, while every other statement runs
//! on the caller's thread as before.
//!
//! # Why this is as safe as writing on the caller's thread
//!
//! - One connection, one transaction: the connection sits in a re-entrant mutex; the writer
//!   thread takes it for one job (a hand-off of batches) at a time, the caller's thread for each
//!   statement. Statements never run at the same time, only interleaved, all in the caller's
//!   transaction.
//! - Jobs are taken from the queue only by whoever holds the connection. So when the caller's
//!   thread holds it, the writer thread is writing nothing, and the caller may take the jobs left
//!   in the queue and write them itself, in order ([`Conn::drain`]). Before a COMMIT, before a
//!   statement naming a queued table, before anything that needs every row written, the caller
//!   drains: the COMMIT of a chunk (with its checkpoint) is issued only once every row queued
//!   before it is written, by the same connection, in the same transaction.
//! - A failed write marks the connection failed before the writer thread lets go of it. The
//!   caller's next statement (and its COMMIT) returns that error instead of running, so nothing
//!   runs after a failed write as if it had succeeded (SQLite may even have ended the
//!   transaction: a statement then would commit on its own). The caller's transaction guard rolls
//!   back; the rollback clears the failure and drops the jobs still queued.
//! - A run's chunk commit is a job too ([`Conn::commit_then_begin`]): COMMIT, the after-commit
//!   hook, BEGIN, run by the writer thread in one hold of the connection after every job queued
//!   before it (the chunk's rows), while the caller goes on with the next chunk's records. So
//!   that nothing of the next chunk runs in this chunk's transaction, every statement of the
//!   caller's (and a rollback, and a drain) first runs the commit jobs still queued, with the
//!   jobs before them, in order, on its own thread ([`Conn::settle_commits`]): when the caller
//!   holds the connection, every commit it was promised has happened or failed. The next
//!   chunk's rows are queued after the commit job and written after its BEGIN. A rollback runs
//!   the queued commit jobs first, so it undoes only what came after the last accepted commit,
//!   never a chunk whose commit was accepted. A commit job skipped or failed (a failed write
//!   before it, a failed COMMIT or BEGIN) fails the connection like a failed write: the caller's
//!   next statement reports it, and the chunk's rows and checkpoint are undone together.
//! - Otherwise the writer thread never begins, commits or rolls back, and receives jobs only
//!   between a BEGIN and its COMMIT or ROLLBACK (both drain or drop the queue first, holding the
//!   connection). A process killed at any point loses exactly the uncommitted transaction (SPEC
//!   §6.4): a chunk's rows, findings, counters, ledger sums and checkpoint are all queued or
//!   written before its commit job, and nothing of the next chunk before it.
//! - Memory stays flat: at most [`MAX_JOBS`] jobs wait or are being written; a caller with more
//!   waits for the writer thread.

use crate::backend::{Backend, StreamsBody, Upsert};
use crate::guard::AfterCommit;
use crate::pending::Rows;
use crate::upgrade::Object;
use crate::writer::Holder;
use crate::{Cell, Result, Row, StoreError, Target};
use parking_lot::{ReentrantMutex, ReentrantMutexGuard};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Jobs waiting or being written at most (the caller waits for the writer thread beyond).
const MAX_JOBS: usize = 2;

/// A job of the writer thread.
enum Job {
    /// Batches of queued rows.
    Rows(Rows),
    /// A run's chunk commit: COMMIT (as [`Backend::commit_chunk`]), the hook, BEGIN.
    Commit(AfterCommit),
}

/// What the caller's thread and the writer thread share.
struct Inner {
    backend: ReentrantMutex<Box<dyn Backend>>,
    queue: Mutex<Queue>,
    /// Signalled when a job is handed off, done, or the thread is to stop.
    changed: Condvar,
    /// Set (with `Queue::error`) by a failed write, while the failed writer holds the
    /// connection; cleared by a rollback.
    failed: AtomicBool,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Jobs waiting plus the one being written.
    outstanding: usize,
    /// Commit jobs waiting (not yet taken).
    commits: usize,
    /// The first failed write's error, until the rollback.
    error: Option<StoreError>,
    stop: bool,
    /// Emptied row vectors of written hand-offs, for the next batches (see [`Conn::spare`]).
    spare: Vec<Vec<Cell>>,
}

/// A target's connection: its backend, and the writer thread once there is one.
pub(crate) struct Conn {
    inner: Arc<Inner>,
    thread: RefCell<Option<JoinHandle<()>>>,
}

type Held<'a> = ReentrantMutexGuard<'a, Box<dyn Backend>>;

impl Inner {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // A panic while the queue is held cannot leave it inconsistent (each change is one
        // field): carry on with it.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a failed write (the first one's error is the one reported).
    fn fail(&self, e: StoreError) {
        let mut q = self.queue();
        q.error.get_or_insert(e);
        self.failed.store(true, Ordering::Release);
    }
}

/// Emptied row vectors kept at most: a few tables' batches (memory stays flat).
const MAX_SPARE: usize = 8;

impl Inner {
    /// Frees the rows of a written hand-off and keeps their vectors for the next batches: a
    /// new vector of a few MiB each time would be fresh memory from the system (zeroed pages,
    /// page faults), and freeing the caller's memory on this thread costs the allocator too.
    fn recycle(&self, rows: Option<Rows>) {
        let Some(rows) = rows else { return };
        let emptied: Vec<Vec<Cell>> = rows
            .into_iter()
            .map(|b| {
                let mut cells = b.rows;
                cells.clear();
                cells
            })
            .collect();
        let mut q = self.queue();
        let room = MAX_SPARE.saturating_sub(q.spare.len());
        q.spare.extend(emptied.into_iter().take(room));
    }
}

/// Writes a hand-off's batches in order; a panic in the driver becomes an error.
fn write_rows(b: &dyn Backend, rows: &Rows) -> Result<()> {
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for batch in rows {
            b.write_rows(&batch.shape.table, &batch.shape.columns, &batch.rows)?;
        }
        Ok(())
    }));
    written.unwrap_or_else(|_| Err(StoreError::Other("the bulk write failed".into())))
}

/// Commits a run's chunk, runs `after`, begins the next transaction (the connection held all
/// along, so no statement runs between them); a panic in the driver becomes an error.
fn commit_then_begin(b: &dyn Backend, after: AfterCommit) -> Result<()> {
    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        b.commit_chunk()?;
        after();
        b.begin()
    }));
    done.unwrap_or_else(|_| Err(StoreError::Other("the chunk's commit failed".into())))
}

/// Runs a job (nothing once a write of the transaction failed: its error stands, and the
/// transaction is to be rolled back), recording a failure. Returns the job's rows, to be freed
/// once the connection is let go.
fn run_job(inner: &Inner, b: &dyn Backend, job: Job) -> Option<Rows> {
    let (done, rows) = match job {
        _ if inner.failed.load(Ordering::Acquire) => return None,
        Job::Rows(rows) => (write_rows(b, &rows), Some(rows)),
        Job::Commit(after) => (commit_then_begin(b, after), None),
    };
    if let Err(e) = done {
        inner.fail(e);
    }
    rows
}

/// The writer thread: takes the next job while holding the connection, writes it, lets go.
fn write_jobs(inner: &Inner) {
    loop {
        {
            let mut q = inner.queue();
            while q.jobs.is_empty() && !q.stop {
                q = inner.changed.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            if q.stop {
                return;
            }
        }
        let held = inner.backend.lock();
        // The caller may have taken the jobs meanwhile (it drained): then wait again.
        let Some(job) = inner.queue().pop() else {
            continue;
        };
        let rows = run_job(inner, &**held, job);
        drop(held);
        inner.queue().outstanding -= 1;
        inner.changed.notify_all();
        // The rows are freed here, off the caller's thread; their vectors are kept.
        inner.recycle(rows);
    }
}

impl Queue {
    /// Takes the next job (still outstanding until it is done).
    fn pop(&mut self) -> Option<Job> {
        let job = self.jobs.pop_front()?;
        if matches!(job, Job::Commit(_)) {
            self.commits -= 1;
        }
        Some(job)
    }

    /// Queues a job.
    fn push(&mut self, job: Job) {
        if matches!(job, Job::Commit(_)) {
            self.commits += 1;
        }
        self.outstanding += 1;
        self.jobs.push_back(job);
    }
}

impl Conn {
    pub(crate) fn new(backend: Box<dyn Backend>) -> Conn {
        Conn {
            inner: Arc::new(Inner {
                backend: ReentrantMutex::new(backend),
                queue: Mutex::default(),
                changed: Condvar::new(),
                failed: AtomicBool::new(false),
            }),
            thread: RefCell::new(None),
        }
    }

    /// The connection, once the writer thread has let go of it (for calls that run no
    /// statement).
    fn lock(&self) -> Held<'_> {
        self.inner.backend.lock()
    }

    /// The connection, once the writer thread has let go of it and the commit jobs still
    /// queued have run (for calls that run a statement whatever a failed write).
    fn settled(&self) -> Held<'_> {
        let held = self.lock();
        self.settle_commits(&held);
        held
    }

    /// The connection for a statement, once every queued commit job has run (nothing of the
    /// next chunk runs in the one before it): the error of a failed write instead, if one
    /// failed (the same error for every statement until the rollback, so that one that is
    /// ignored does not hide it from the commit).
    fn checked(&self) -> Result<Held<'_>> {
        let held = self.settled();
        if self.inner.failed.load(Ordering::Acquire) {
            return Err(self.failure());
        }
        Ok(held)
    }

    /// The failed write's error.
    fn failure(&self) -> StoreError {
        self.inner
            .queue()
            .error
            .clone()
            .unwrap_or_else(|| StoreError::Other("a bulk write of this transaction failed".into()))
    }

    /// Runs, on this thread (which holds the connection, so the writer thread is between
    /// jobs), the commit jobs still queued and every job queued before them, in order. Returns
    /// whether one of those commits did not happen (a failed write before it, or its own
    /// failure: the connection is failed).
    fn settle_commits(&self, held: &Held<'_>) -> bool {
        let mut lost = false;
        loop {
            let job = {
                let mut q = self.inner.queue();
                if q.commits == 0 {
                    break;
                }
                let Some(job) = q.pop() else { break };
                q.outstanding -= 1;
                job
            };
            self.inner.changed.notify_all();
            let commit = matches!(job, Job::Commit(_));
            drop(run_job(&self.inner, &***held, job));
            lost |= commit && self.inner.failed.load(Ordering::Acquire);
        }
        lost
    }

    /// An emptied row vector of a written hand-off, if one is kept (its capacity is reused).
    pub(crate) fn spare(&self) -> Option<Vec<Cell>> {
        self.inner.queue().spare.pop()
    }

    /// Whether every handed-off job is written.
    pub(crate) fn idle(&self) -> bool {
        self.inner.queue().outstanding == 0
    }

    /// Whether the jobs go to the writer thread (started now if not): not when this thread
    /// holds the connection (a statement's row callback queued rows) or no thread can be
    /// started.
    fn handing(&self) -> bool {
        !self.inner.backend.is_owned_by_current_thread() && self.started()
    }

    /// Hands rows to the writer thread, waiting while [`MAX_JOBS`] are outstanding; writes
    /// them here when it cannot ([`Conn::handing`]).
    pub(crate) fn hand_off(&self, rows: Rows) -> Result<()> {
        if !self.handing() {
            return self.drain(rows);
        }
        self.push(Job::Rows(rows))
    }

    /// A run's chunk commit: `rows` (the rest of the chunk's rows), then COMMIT, `after`, and
    /// BEGIN, as jobs of the writer thread that the caller does not wait for (see the module's
    /// notes), or here when they cannot go to the writer thread ([`Conn::handing`]).
    pub(crate) fn commit_then_begin(&self, rows: Rows, after: AfterCommit) -> Result<()> {
        if !self.handing() {
            self.drain(rows)?;
            return commit_then_begin(&**self.checked()?, after);
        }
        if !rows.is_empty() {
            self.push(Job::Rows(rows))?;
        }
        self.push(Job::Commit(after))
    }

    /// Queues a job for the writer thread, waiting while [`MAX_JOBS`] are outstanding.
    fn push(&self, job: Job) -> Result<()> {
        let mut q = self.inner.queue();
        while q.outstanding >= MAX_JOBS && !self.inner.failed.load(Ordering::Acquire) {
            q = self
                .inner
                .changed
                .wait(q)
                .unwrap_or_else(|p| p.into_inner());
        }
        if self.inner.failed.load(Ordering::Acquire) {
            drop(q);
            // Reports the failure (the job goes with the transaction).
            return self.checked().map(drop);
        }
        q.push(job);
        drop(q);
        self.inner.changed.notify_all();
        Ok(())
    }

    /// Whether the writer thread runs (it is started now if not).
    fn started(&self) -> bool {
        let mut thread = self.thread.borrow_mut();
        if thread.is_none() {
            let inner = self.inner.clone();
            *thread = std::thread::Builder::new()
                .name("ferry-write".into())
                .spawn(move || write_jobs(&inner))
                .ok();
        }
        thread.is_some()
    }

    /// Writes, on this thread, the jobs not yet written and then `last`: afterwards every row
    /// handed off or given is in the target (or the failed write's error is returned).
    pub(crate) fn drain(&self, last: Rows) -> Result<()> {
        // The queued commit jobs run first, with the jobs before them.
        let held = self.checked()?;
        // Holding the connection: the writer thread is between jobs, and takes no other.
        let waiting: Vec<Job> = {
            let mut q = self.inner.queue();
            std::iter::from_fn(|| q.pop()).collect::<Vec<_>>()
        };
        self.inner.queue().outstanding -= waiting.len();
        self.inner.changed.notify_all();
        // A failure here is the caller's own statement failing, as without a writer thread.
        for job in waiting.into_iter().chain([Job::Rows(last)]) {
            match job {
                Job::Rows(rows) => write_rows(&**held, &rows)?,
                Job::Commit(after) => commit_then_begin(&**held, after)?,
            }
        }
        Ok(())
    }

    /// Runs the commit jobs still queued (a commit accepted is never undone), then drops the
    /// jobs not yet written and forgets a failed write (a rollback undoes them all). Returns
    /// the connection, held, and the error of a queued commit that did not happen.
    fn discard(&self) -> (Held<'_>, Option<StoreError>) {
        let held = self.lock();
        let lost = self.settle_commits(&held).then(|| self.failure());
        let dropped: Vec<Job> = {
            let mut q = self.inner.queue();
            let dropped: Vec<Job> = std::iter::from_fn(|| q.pop()).collect();
            q.outstanding -= dropped.len();
            q.error = None;
            self.inner.failed.store(false, Ordering::Release);
            dropped
        };
        self.inner.changed.notify_all();
        drop(dropped);
        (held, lost)
    }
}

impl Drop for Conn {
    /// Stops the writer thread (the jobs it did not write belong to a transaction that ends
    /// with the connection).
    fn drop(&mut self) {
        if let Some(thread) = self.thread.get_mut().take() {
            drop(self.discard());
            self.inner.queue().stop = true;
            self.inner.changed.notify_all();
            let _ = thread.join();
        }
    }
}

/// The [`Backend`] calls, each on the connection once the writer thread has let go of it;
/// statements fail with a failed write's error instead of running.
impl Conn {
    pub(crate) fn name(&self) -> &'static str {
        self.lock().name()
    }
    pub(crate) fn is_postgres(&self) -> bool {
        self.lock().is_postgres()
    }
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        self.checked()?.batch(sql)
    }
    pub(crate) fn exec(&self, sql: &str, params: &[Cell]) -> Result<usize> {
        self.checked()?.exec(sql, params)
    }
    pub(crate) fn each(
        &self,
        sql: &str,
        params: &[Cell],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.checked()?.each(sql, params, f)
    }
    pub(crate) fn begin(&self) -> Result<()> {
        self.checked()?.begin()
    }
    pub(crate) fn commit(&self) -> Result<()> {
        self.checked()?.commit()
    }
    pub(crate) fn commit_chunk(&self) -> Result<()> {
        self.checked()?.commit_chunk()
    }
    pub(crate) fn rollback(&self) -> Result<()> {
        let (held, lost) = self.discard();
        held.rollback()?;
        lost.map_or(Ok(()), Err)
    }
    pub(crate) fn bulk_upsert(&self, upsert: &Upsert<'_>, rows: &[Vec<Cell>]) -> Result<bool> {
        self.checked()?.bulk_upsert(upsert, rows)
    }
    pub(crate) fn in_transaction(&self) -> bool {
        self.lock().in_transaction()
    }
    pub(crate) fn streams(
        &self,
        target: &Target,
        sqls: &[String],
        body: &mut StreamsBody<'_>,
    ) -> Result<()> {
        // Streams read tables without naming them to the queue: every queued row first.
        target.flush()?;
        self.checked()?.streams(target, sqls, body)
    }
    pub(crate) fn connected(&self) -> bool {
        self.lock().connected()
    }
    pub(crate) fn backup_to(&self, dest: &Path) -> Result<()> {
        self.checked()?.backup_to(dest)
    }
    pub(crate) fn migrations(&self) -> &'static [(i64, &'static str)] {
        self.lock().migrations()
    }
    pub(crate) fn count_tables_sql(&self) -> &'static str {
        self.lock().count_tables_sql()
    }
    pub(crate) fn has_table_sql(&self) -> &'static str {
        self.lock().has_table_sql()
    }
    pub(crate) fn init_lock_sql(&self, exclusive: bool) -> Option<&'static str> {
        self.lock().init_lock_sql(exclusive)
    }
    pub(crate) fn schema_objects(&self, t: &Target) -> Result<Vec<Object>> {
        self.checked()?.schema_objects(t)
    }
    pub(crate) fn expected_objects(&self, t: &Target, version: i64) -> Result<Vec<Object>> {
        self.checked()?.expected_objects(t, version)
    }
    pub(crate) fn before_scrub(&self, t: &Target) -> Result<()> {
        self.checked()?.before_scrub(t)
    }
    pub(crate) fn scrub(&self, t: &Target, tables: &BTreeSet<String>) -> BTreeMap<String, String> {
        self.settled().scrub(t, tables)
    }
    pub(crate) fn lock_writer(&self, t: &Target) -> Result<()> {
        self.checked()?.lock_writer(t)
    }
    pub(crate) fn unlock_writer(&self, t: &Target) -> Result<()> {
        self.settled().unlock_writer(t)
    }
    pub(crate) fn record_holder_alive(&self, t: &Target, h: &Holder) -> bool {
        self.settled().record_holder_alive(t, h)
    }
    pub(crate) fn writer_process_alive(&self, t: &Target, pid: i64) -> bool {
        self.settled().writer_process_alive(t, pid)
    }
}

#[cfg(test)]
mod tests {
    use crate::{params, Cell, StoreError, Target};

    use crate::pending::tests::LEDGER_LINE_COLUMNS as COLS;

    fn target(handoff: usize) -> (tempfile::TempDir, Target) {
        let dir = tempfile::tempdir().unwrap();
        let (t, _) = Target::init(&dir.path().join("t.db")).unwrap();
        t.handoff_rows.set(handoff);
        (dir, t)
    }

    fn line(t: &Target, id: i64) -> crate::Result<()> {
        let row: Vec<Cell> =
            params![id, 1i64, format!("U{id}"), "charge", id, "Debit", id].to_vec();
        t.append("ledger_line", &COLS, row)
    }

    fn count(t: &Target) -> i64 {
        t.int("SELECT count(*) FROM ledger_line", &[]).unwrap()
    }

    /// Rows handed to the writer thread are all there for a read naming their table, at the
    /// commit, and gone after a rollback; a transaction after a rollback starts clean.
    #[test]
    fn handed_rows_are_seen_committed_and_rolled_back() {
        let (_dir, t) = target(3);
        let tx = t.transaction().unwrap();
        for id in 1..=1000 {
            line(&tx, id).unwrap();
        }
        assert_eq!(count(&tx), 1000);
        for id in 1001..=2000 {
            line(&tx, id).unwrap();
        }
        tx.commit().unwrap();
        assert_eq!(count(&t), 2000);
        let tx = t.transaction().unwrap();
        for id in 3001..=4000 {
            line(&tx, id).unwrap();
        }
        tx.rollback().unwrap();
        assert_eq!(count(&t), 2000);
        let mut tx = t.transaction().unwrap();
        for id in 5001..=5100 {
            line(&tx, id).unwrap();
        }
        tx.commit_then_begin(|| ()).unwrap();
        for id in 5101..=5200 {
            line(&tx, id).unwrap();
        }
        drop(tx);
        assert_eq!(count(&t), 2100);
        assert_eq!(t.int("SELECT max(id) FROM ledger_line", &[]).unwrap(), 5100);
    }

    /// A write that fails on the writer thread fails the commit with its own error, and the
    /// transaction is rolled back: nothing of it stays, and the next one works.
    #[test]
    fn a_failed_handed_write_fails_the_commit_and_rolls_back() {
        let (_dir, t) = target(2);
        line(&t, 1).unwrap();
        t.flush().unwrap();
        let tx = t.transaction().unwrap();
        for id in 2..=50 {
            line(&tx, id).unwrap();
        }
        // Row 1 again: the key constraint fails, on whichever thread writes it.
        line(&tx, 1).unwrap_or(());
        for id in 51..=100 {
            // A statement after the failure may report it already.
            if line(&tx, id).is_err() {
                break;
            }
        }
        let e = tx.commit().unwrap_err();
        assert!(matches!(e, StoreError::Constraint(_)), "{e:?}");
        assert!(!t.in_transaction());
        assert_eq!(count(&t), 1);
        let tx = t.transaction().unwrap();
        for id in 2..=20 {
            line(&tx, id).unwrap();
        }
        tx.commit().unwrap();
        assert_eq!(count(&t), 20);
    }

    /// The writer thread's failure is reported by the caller's next statement, and nothing
    /// runs after it as if it had succeeded.
    #[test]
    fn a_statement_after_a_failed_handed_write_reports_it() {
        let (_dir, t) = target(1);
        line(&t, 1).unwrap();
        t.flush().unwrap();
        let tx = t.transaction().unwrap();
        line(&tx, 1).unwrap();
        // Wait for the writer thread to have written (and failed) the job.
        while !tx.backend.idle() {
            std::thread::yield_now();
        }
        let e = tx
            .exec(
                "UPDATE ferry_meta SET value = 'x' WHERE key = 'nothing'",
                &[],
            )
            .unwrap_err();
        assert!(matches!(e, StoreError::Constraint(_)), "{e:?}");
        // ... and so does every later one, until the rollback.
        assert!(tx.int("SELECT 1", &[]).is_err());
        drop(tx);
        assert_eq!(t.int("SELECT 1", &[]).unwrap(), 1);
        assert_eq!(count(&t), 1);
    }

    /// A chunk's commit queued for the writer thread: the hook runs once the chunk is
    /// committed (another connection sees it), a statement after it runs in the next
    /// transaction, and a rollback undoes only what followed the commit.
    #[test]
    fn a_queued_commit_keeps_its_chunk_and_nothing_after_it() {
        use std::sync::atomic::{AtomicI64, Ordering};
        let (dir, t) = target(3);
        let path = dir.path().join("t.db");
        let mut tx = t.transaction().unwrap();
        for id in 1..=50 {
            line(&tx, id).unwrap();
        }
        let seen = std::sync::Arc::new(AtomicI64::new(-1));
        let saw = seen.clone();
        tx.commit_then_begin(move || {
            let other = rusqlite::Connection::open(&path).unwrap();
            let n: i64 = other
                .query_row("SELECT count(*) FROM ledger_line", [], |r| r.get(0))
                .unwrap();
            saw.store(n, Ordering::SeqCst);
        })
        .unwrap();
        for id in 51..=60 {
            line(&tx, id).unwrap();
        }
        tx.exec(
            "INSERT INTO ferry_meta (key, value) VALUES ('after', 'x')",
            &[],
        )
        .unwrap();
        // The statement ran after the commit (and its hook), in the next transaction.
        assert_eq!(seen.load(Ordering::SeqCst), 50);
        tx.commit_then_begin(|| ()).unwrap();
        for id in 61..=70 {
            line(&tx, id).unwrap();
        }
        tx.commit_then_begin(|| ()).unwrap();
        for id in 71..=80 {
            line(&tx, id).unwrap();
        }
        // Two commits queued (or done): the rollback keeps both, undoes rows 71..=80.
        tx.rollback().unwrap();
        assert_eq!(count(&t), 70);
        assert_eq!(
            t.int("SELECT count(*) FROM ferry_meta WHERE key = 'after'", &[])
                .unwrap(),
            1
        );
    }

    /// A queued commit that fails (here: a deferred key check) is reported by the next
    /// statement; its hook does not run, and the rollback undoes the chunk and what followed.
    #[test]
    fn a_queued_commit_that_fails_is_reported_and_rolled_back() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (_dir, t) = target(3);
        t.batch(
            "CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .unwrap();
        let mut tx = t.transaction().unwrap();
        for id in 1..=20 {
            line(&tx, id).unwrap();
        }
        tx.exec("INSERT INTO c (p) VALUES (42)", &[]).unwrap();
        let ran = std::sync::Arc::new(AtomicBool::new(false));
        let hook = ran.clone();
        tx.commit_then_begin(move || hook.store(true, Ordering::SeqCst))
            .unwrap();
        for id in 21..=30 {
            // A row queued after the failure may report it already.
            if line(&tx, id).is_err() {
                break;
            }
        }
        let e = tx.int("SELECT count(*) FROM p", &[]).unwrap_err();
        assert!(matches!(e, StoreError::Constraint(_)), "{e:?}");
        assert!(!ran.load(Ordering::SeqCst));
        drop(tx);
        assert!(!t.in_transaction());
        assert_eq!(count(&t), 0);
        assert_eq!(t.int("SELECT count(*) FROM c", &[]).unwrap(), 0);
        // The connection works on.
        let tx = t.transaction().unwrap();
        line(&tx, 1).unwrap();
        tx.commit().unwrap();
        assert_eq!(count(&t), 1);
    }
}
