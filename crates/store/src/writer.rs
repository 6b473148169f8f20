//! The one-writer rule (SPEC §6.4): taking and giving back the writer role of a target, and
//! telling a live holder from a killed one.
//!
//! The `writer` record of `ferry_meta` (`run|pid|since`) says who holds the role. On SQLite the
//! record is the lock itself, read and written inside one `BEGIN IMMEDIATE` transaction, so of
//! many processes taking it at once exactly one succeeds. On PostgreSQL the lock is a session
//! advisory lock (the server frees it when the holder's connection ends); the record only names
//! the holder.

use crate::{journal, params, Result, StoreError, Target};

/// The `writer` record: which run of which process holds the target, since when.
#[derive(Debug, Clone)]
pub(crate) struct Holder {
    pub(crate) run: i64,
    pub(crate) pid: i64,
    pub(crate) since: String,
}

impl Holder {
    fn parse(value: &str) -> Holder {
        let mut parts = value.splitn(3, '|');
        let mut next = || parts.next().unwrap_or_default();
        let (run, pid, since) = (next(), next(), next());
        Holder {
            run: run.parse().unwrap_or(0),
            pid: pid.parse().unwrap_or(0),
            since: since.to_string(),
        }
    }

    pub(crate) fn refusal(self) -> StoreError {
        StoreError::Held {
            run: self.run,
            pid: self.pid,
            since: self.since,
        }
    }
}

impl Target {
    /// Takes the target for run `run` (callers hold it through [`Target::hold_writer`]): only one run writes at a time. A holder whose process is
    /// gone (killed, crashed) is taken over; a live one refuses with [`StoreError::Held`].
    /// Returns the run whose stale hold was taken over, if any.
    pub(crate) fn acquire_writer(&self, run: i64) -> Result<Option<i64>> {
        self.take_writer(|_| Ok(run)).map(|(_, stale)| stale)
    }

    /// Takes the target for a run that `create` records, in the same transaction as the
    /// writer record: a run refused because another one holds the target leaves nothing in
    /// the journal. Returns the new run's id.
    pub(crate) fn acquire_writer_for_new_run(
        &self,
        create: impl FnOnce(&Target) -> Result<i64>,
    ) -> Result<i64> {
        self.take_writer(create).map(|(run, _)| run)
    }

    fn take_writer(
        &self,
        claim: impl FnOnce(&Target) -> Result<i64>,
    ) -> Result<(i64, Option<i64>)> {
        self.backend.lock_writer(self)?;
        // A run killed before its last commit may have left a deferred index missing: built
        // before anything else writes (`deferred.rs`). On PostgreSQL the lock is held here.
        let taken = self.build_deferred_indexes();
        let taken = taken.and_then(|()| self.transaction()).and_then(|tx| {
            let holder = self.writer_record()?;
            if let Some(h) = &holder {
                if self.backend.record_holder_alive(self, h) {
                    return Err(h.clone().refusal());
                }
            }
            let run = claim(self)?;
            let value = format!("{run}|{}|{}", std::process::id(), journal::now());
            self.exec("INSERT INTO ferry_meta (key, value) VALUES ('writer', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value", params![value])?;
            tx.commit()?;
            Ok((run, holder.map(|h| h.run).filter(|r| *r != run)))
        });
        match taken {
            Ok(v) => {
                self.note_held(true);
                Ok(v)
            }
            Err(e) => {
                // (The transaction was rolled back when its guard dropped.)
                let _ = self.backend.unlock_writer(self);
                Err(e)
            }
        }
    }

    /// Gives the target back (only if `run` of this process holds it).
    pub(crate) fn release_writer(&self, run: i64) -> Result<()> {
        let deleted = self.exec(
            "DELETE FROM ferry_meta WHERE key = 'writer' AND value LIKE ?1",
            params![format!("{run}|{}|%", std::process::id())],
        );
        let unlocked = self.backend.unlock_writer(self);
        self.note_held(false);
        deleted.and(unlocked)
    }

    pub(crate) fn writer_record(&self) -> Result<Option<Holder>> {
        Ok(self
            .first("SELECT value FROM ferry_meta WHERE key = 'writer'", &[])?
            .and_then(|r| r.opt_text(0))
            .map(|v| Holder::parse(&v)))
    }

    /// Whether the process `pid` that started a run may still be running it: on SQLite, the
    /// process exists; on PostgreSQL, its session holds the writer lock.
    pub(crate) fn writer_alive(&self, pid: i64) -> bool {
        if pid == std::process::id() as i64 {
            return true;
        }
        self.backend.writer_process_alive(self, pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{RunKind, RunMode};

    /// Two connections of one process (the console's jobs) never both write, and a run
    /// refused the target is not recorded.
    #[test]
    fn one_writer_per_target_also_within_a_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (a, _) = Target::init(&path).unwrap();
        let b = Target::open(&path).unwrap();
        assert_eq!(a.acquire_writer(1).unwrap(), None);
        assert!(matches!(
            b.acquire_writer(2),
            Err(StoreError::Held { run: 1, .. })
        ));
        let new_run = |t: &Target| {
            let empty = serde_json::json!({});
            t.create_run(RunKind::Import, RunMode::Live, &empty, &empty, "h")
        };
        assert!(matches!(
            b.acquire_writer_for_new_run(new_run),
            Err(StoreError::Held { run: 1, .. })
        ));
        assert_eq!(b.int("SELECT count(*) FROM run", &[]).unwrap(), 0);
        a.release_writer(1).unwrap();
        let run = b.acquire_writer_for_new_run(new_run).unwrap();
        assert_eq!(b.int("SELECT count(*) FROM run", &[]).unwrap(), 1);
        // A holder that is gone without giving the target back (dropped) is taken over.
        drop(b);
        assert_eq!(a.acquire_writer(7).unwrap(), Some(run));
    }
}
