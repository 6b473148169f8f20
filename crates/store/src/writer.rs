//! The one-writer rule (SPEC §6.4): taking and giving back the writer role of a target, and
//! telling a live holder from a killed one.
//!
//! The `writer` record of `ferry_meta` (`run|pid|since`) says who holds the role. On SQLite the
//! record is the lock itself, read and written inside one `BEGIN IMMEDIATE` transaction, so of
//! many processes taking it at once exactly one succeeds. On PostgreSQL the lock is a session
//! advisory lock (the server frees it when the holder's connection ends); the record only names
//! the holder.

use crate::{journal, params, pg, Result, StoreError, Target};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// SQLite targets (by file identity) whose writer role a [`Target`] of this process holds. The
/// record names a process, not a connection: this tells two runs of one process apart (the
/// console runs each job on its own connection).
static HELD_HERE: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

/// How long a killed holder's PostgreSQL session may linger after its process died.
const LINGER: Duration = Duration::from_secs(10);
/// How long to wait for a new holder to write its record, to name it in a refusal.
const RECORD_WAIT: Duration = Duration::from_secs(3);
/// How many times a refusal gives way to a holder that let go before it could be named.
const MAX_LET_GO: u32 = 20;

/// The `writer` record: which run of which process holds the target, since when.
#[derive(Debug, Clone)]
struct Holder {
    run: i64,
    pid: i64,
    since: String,
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

    fn refusal(self) -> StoreError {
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
        if self.is_postgres() {
            self.advisory_writer_lock()?;
        }
        let taken = self.transaction().and_then(|tx| {
            let holder = self.writer_record()?;
            if let Some(h) = &holder {
                if !self.is_postgres() && self.sqlite_holder_alive(h) {
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
                if self.is_postgres() {
                    let _ = self.int("SELECT pg_advisory_unlock(?1)", params![pg::WRITER_LOCK]);
                }
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
        let unlocked = if self.is_postgres() {
            self.int("SELECT pg_advisory_unlock(?1)", params![pg::WRITER_LOCK])
                .map(|_| ())
        } else {
            Ok(())
        };
        self.note_held(false);
        deleted.and(unlocked)
    }

    /// Records (or forgets) that this `Target` holds its SQLite file's writer role.
    pub(crate) fn note_held(&self, held: bool) {
        let Some(id) = self.opened.filter(|_| !self.is_postgres()) else {
            return;
        };
        if self.holds_writer.replace(held) == held {
            return;
        }
        if let Ok(mut here) = HELD_HERE.lock() {
            if held {
                here.push(id);
            } else if let Some(i) = here.iter().position(|h| *h == id) {
                here.swap_remove(i);
            }
        }
    }

    fn writer_record(&self) -> Result<Option<Holder>> {
        Ok(self
            .first("SELECT value FROM ferry_meta WHERE key = 'writer'", &[])?
            .and_then(|r| r.opt_text(0))
            .map(|v| Holder::parse(&v)))
    }

    /// Whether the holder of a SQLite target is still running: another process that exists,
    /// or another `Target` of this process.
    fn sqlite_holder_alive(&self, h: &Holder) -> bool {
        if h.pid != std::process::id() as i64 {
            return journal::pid_alive(h.pid);
        }
        !self.holds_writer.get()
            && self
                .opened
                .is_some_and(|id| HELD_HERE.lock().is_ok_and(|here| here.contains(&id)))
    }

    /// Takes the PostgreSQL advisory lock, waiting (bounded) for the session of a killed holder
    /// on this machine to end; a live holder refuses.
    fn advisory_writer_lock(&self) -> Result<()> {
        let deadline = Instant::now() + LINGER;
        let mut let_go = 0;
        loop {
            if self.int("SELECT pg_try_advisory_lock(?1)", params![pg::WRITER_LOCK])? != 0 {
                return Ok(());
            }
            // No holder any more: it let go between the two statements; try again.
            let holder = self.lock_holder()?;
            let killed_here = holder
                .as_deref()
                .and_then(pg::parse_session_name)
                .is_some_and(|(pid, host)| host == pg::host() && !journal::pid_alive(pid));
            let waiting = holder.is_none() || killed_here;
            if !waiting || Instant::now() > deadline {
                match self.pg_refusal(holder) {
                    Some(refusal) => return Err(refusal),
                    // The holder let go while it was being named: try again (a bounded
                    // number of times, so that a stream of short holders cannot spin us).
                    None if let_go < MAX_LET_GO => let_go += 1,
                    None => return Err(StoreError::HeldBy("other processes in turn".into())),
                }
                continue;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The refusal naming the session that holds the PostgreSQL lock: its run, from the writer
    /// record, once the holder wrote it (it does so right after taking the lock). `None` when
    /// the holder let go meanwhile (a resumer that found its run finished holds it briefly).
    fn pg_refusal(&self, holder: Option<String>) -> Option<StoreError> {
        let Some((pid, host)) = holder.as_deref().and_then(pg::parse_session_name) else {
            let who = match holder {
                Some(name) if !name.is_empty() => format!("another session (\"{name}\")"),
                _ => "another session".to_string(),
            };
            return Some(StoreError::HeldBy(who));
        };
        let until = Instant::now() + RECORD_WAIT;
        loop {
            match self.writer_record() {
                Ok(Some(h)) if h.pid == pid => return Some(h.refusal()),
                Ok(_) => {}
                Err(_) => {
                    return Some(StoreError::HeldBy(format!("Ferry process {pid} on {host}")))
                }
            }
            if self.lock_holder().ok().flatten() != holder {
                return None;
            }
            if Instant::now() >= until {
                return Some(StoreError::HeldBy(format!("Ferry process {pid} on {host}")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the process `pid` that started a run may still be running it: on SQLite, the
    /// process exists; on PostgreSQL, its session holds the writer lock.
    pub(crate) fn writer_alive(&self, pid: i64) -> bool {
        if pid == std::process::id() as i64 {
            return true;
        }
        if !self.is_postgres() {
            return journal::pid_alive(pid);
        }
        match self.lock_holder() {
            Ok(Some(name)) => match pg::parse_session_name(&name) {
                // On this machine the process itself is asked (its session may outlive it).
                Some((p, host)) if p == pid => host != pg::host() || journal::pid_alive(pid),
                _ => false,
            },
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// The session name of whoever holds the PostgreSQL writer lock (`ferry <pid>@<host>` for
    /// a Ferry process; see [`pg::parse_session_name`]).
    fn lock_holder(&self) -> Result<Option<String>> {
        let (classid, objid) = ((pg::WRITER_LOCK >> 32) as u32, pg::WRITER_LOCK as u32);
        let row = self.first(
            "SELECT a.application_name FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) AND l.classid = CAST(?1 AS BIGINT)::oid AND l.objid = CAST(?2 AS BIGINT)::oid AND l.granted",
            params![classid as i64, objid as i64],
        )?;
        Ok(row.map(|r| r.text(0)))
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
