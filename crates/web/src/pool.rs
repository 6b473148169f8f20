//! A small pool of open targets for the console's requests: a request takes one (opened if none
//! is idle) and gives it back when done, instead of opening a connection per page.
//!
//! What is pooled is only ever a page's connection. A job's run keeps its own (`jobs.rs`: it
//! holds the writer role), and so does the upgrade page (`Target::open_unchecked`, any schema
//! version). A [`WriterRole`](ferry_store::WriterRole) borrows its target, so it is given back
//! before the [`Pooled`] guard that lends the target can be: a target never returns to the pool
//! holding the role.
//!
//! Schema changes: the console itself never upgrades the target (its upgrade page only checks),
//! but `ferry upgrade` may, from another process, while the console runs. A pooled connection
//! may then have stale cached statements, and a fresh open would now refuse the target (another
//! schema version). So every target taken from the pool has its schema version re-checked
//! (one small query, cheaper than the connect it replaces); one that fails the check is dropped
//! and a fresh open gives the answer an open per request gave.

use ferry_store::schema::SCHEMA_VERSION;
use ferry_store::Target;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How many idle targets the pool keeps at most.
const IDLE: usize = 4;

/// Open targets of one `--db`, waiting for the next request.
pub(crate) struct Pool {
    db: String,
    idle: Mutex<Vec<Target>>,
    /// How many targets the pool has opened (for tests of the reuse).
    opened: AtomicUsize,
}

/// A target lent by the [`Pool`]: it derefs to the target, and goes back to the pool when
/// dropped, if it may be used again.
pub(crate) struct Pooled<'p> {
    pool: &'p Pool,
    /// Always there until the guard is dropped.
    target: Option<Target>,
}

impl Pool {
    pub fn new(db: &str) -> Pool {
        Pool {
            db: db.to_string(),
            idle: Mutex::default(),
            opened: AtomicUsize::new(0),
        }
    }

    /// An idle target that is still good, or a newly opened one.
    pub fn take(&self) -> ferry_store::Result<Pooled<'_>> {
        while let Some(t) = self.lock().pop() {
            if still_good(&t) {
                return Ok(self.lend(t));
            }
            // Dropped here, outside the lock.
        }
        let t = Target::open_db(&self.db)?;
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(self.lend(t))
    }

    fn lend(&self, t: Target) -> Pooled<'_> {
        Pooled {
            pool: self,
            target: Some(t),
        }
    }

    /// Keeps a target for the next request if it may be used again and the pool has room;
    /// otherwise it is closed.
    fn give_back(&self, t: Target) {
        if !reusable(&t) {
            return;
        }
        let extra = {
            let mut idle = self.lock();
            if idle.len() < IDLE {
                idle.push(t);
                None
            } else {
                Some(t)
            }
        };
        // Closed outside the lock.
        drop(extra);
    }

    /// The idle targets. A thread that panicked holding the lock left a plain list behind.
    fn lock(&self) -> MutexGuard<'_, Vec<Target>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many targets the pool has opened so far.
    #[cfg(test)]
    pub fn opened(&self) -> usize {
        self.opened.load(Ordering::Relaxed)
    }

    /// How many targets are idle now.
    #[cfg(test)]
    pub fn idle(&self) -> usize {
        self.lock().len()
    }
}

/// Whether a target given back may serve another request: no transaction left open, its
/// queued rows written, and still the target that was opened (a SQLite file not deleted or
/// replaced, a server connection still up).
fn reusable(t: &Target) -> bool {
    !t.in_transaction() && t.flush().is_ok() && t.file_unchanged()
}

/// Whether an idle target may be lent: still the target that was opened, and still at this
/// build's schema version (see the module's note on upgrades).
fn still_good(t: &Target) -> bool {
    t.file_unchanged() && matches!(t.schema_version(), Ok(Some(SCHEMA_VERSION)))
}

impl Deref for Pooled<'_> {
    type Target = Target;

    fn deref(&self) -> &Target {
        self.target
            .as_ref()
            .expect("a pooled target is there until its guard is dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.target.take() {
            self.pool.give_back(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db").to_string_lossy().into_owned();
        Target::init_db(&db).unwrap();
        (dir, db)
    }

    /// A target given back serves the next request: one open for many requests, and one more
    /// for each request served at the same time.
    #[test]
    fn a_target_is_reused() {
        let (_dir, db) = target();
        let pool = Pool::new(&db);
        for _ in 0..5 {
            let t = pool.take().unwrap();
            assert_eq!(t.schema_version().unwrap(), Some(SCHEMA_VERSION));
        }
        assert_eq!(pool.opened(), 1);
        assert_eq!(pool.idle(), 1);
        let (a, b) = (pool.take().unwrap(), pool.take().unwrap());
        assert_eq!(pool.opened(), 2);
        drop((a, b));
        assert_eq!(pool.idle(), 2);
    }

    /// The pool keeps a few idle targets, not every one it opened.
    #[test]
    fn the_pool_keeps_a_few() {
        let (_dir, db) = target();
        let pool = Pool::new(&db);
        let many: Vec<_> = (0..IDLE + 2).map(|_| pool.take().unwrap()).collect();
        assert_eq!(pool.opened(), IDLE + 2);
        drop(many);
        assert_eq!(pool.idle(), IDLE);
    }

    /// A target whose file was replaced is not lent again: the next request opens the new file.
    #[test]
    fn a_replaced_file_is_not_reused() {
        let (dir, db) = target();
        let pool = Pool::new(&db);
        drop(pool.take().unwrap());
        assert_eq!(pool.idle(), 1);
        // Another target at the same path (a restore from a backup, say).
        let other = dir.path().join("other.db");
        Target::init(&other).unwrap();
        std::fs::rename(&other, &db).unwrap();
        let t = pool.take().unwrap();
        assert_eq!(pool.opened(), 2, "the stale connection was dropped");
        assert!(t.file_unchanged());
        drop(t);
        assert_eq!(pool.idle(), 1);
        // A deleted file: the open's own error, as without a pool.
        std::fs::remove_file(&db).unwrap();
        assert!(matches!(
            pool.take().err(),
            Some(ferry_store::StoreError::Missing(_))
        ));
        assert_eq!(pool.idle(), 0);
    }

    /// On PostgreSQL (with `FERRY_TEST_BACKEND=postgres`, the server of the CLI's suite) too:
    /// one connection serves many requests.
    #[test]
    fn a_server_connection_is_reused() {
        if std::env::var("FERRY_TEST_BACKEND").as_deref() != Ok("postgres") {
            return;
        }
        let url = format!(
            "postgres://postgres@127.0.0.1:5432/ferry_web_pool_{}",
            std::process::id()
        );
        drop(Target::init_db(&url).unwrap());
        let pool = Pool::new(&url);
        for _ in 0..5 {
            assert!(pool.take().unwrap().file_unchanged());
        }
        assert_eq!(pool.opened(), 1);
        drop(pool);
        ferry_store::pg::drop_database(&url).unwrap();
    }

    /// A target given back inside a transaction is closed, not lent with the transaction open.
    #[test]
    fn a_target_in_a_transaction_is_not_reused() {
        let (_dir, db) = target();
        let pool = Pool::new(&db);
        let t = pool.take().unwrap();
        std::mem::forget(t.transaction().unwrap());
        assert!(t.in_transaction());
        drop(t);
        assert_eq!(pool.idle(), 0);
        let t = pool.take().unwrap();
        assert!(!t.in_transaction());
        assert_eq!(pool.opened(), 2);
    }
}
