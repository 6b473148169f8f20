//! PostgreSQL's writer lock (SPEC §6.4): a session advisory lock, which the server frees when
//! the holder's connection ends; who holds it is told by the holder's session name, and the
//! run by the `writer` record once the holder has written it.

use super::{host, parse_session_name, WRITER_LOCK};
use crate::{journal, params, Result, StoreError, Target};
use std::time::{Duration, Instant};

/// How long a killed holder's PostgreSQL session may linger after its process died.
const LINGER: Duration = Duration::from_secs(10);
/// How long to wait for a new holder to write its record, to name it in a refusal.
const RECORD_WAIT: Duration = Duration::from_secs(3);
/// How many times a refusal gives way to a holder that let go before it could be named.
const MAX_LET_GO: u32 = 20;

impl Target {
    /// Takes the PostgreSQL advisory lock, waiting (bounded) for the session of a killed holder
    /// on this machine to end; a live holder refuses.
    pub(crate) fn advisory_writer_lock(&self) -> Result<()> {
        let deadline = Instant::now() + LINGER;
        let mut let_go = 0;
        loop {
            if self.int("SELECT pg_try_advisory_lock(?1)", params![WRITER_LOCK])? != 0 {
                return Ok(());
            }
            // No holder any more: it let go between the two statements; try again.
            let holder = self.lock_holder()?;
            let killed_here = holder
                .as_deref()
                .and_then(parse_session_name)
                .is_some_and(|(pid, host)| host == super::host() && !journal::pid_alive(pid));
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
        let Some((pid, host)) = holder.as_deref().and_then(parse_session_name) else {
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

    /// The session name of whoever holds the PostgreSQL writer lock (`ferry <pid>@<host>` for
    /// a Ferry process; see [`parse_session_name`]).
    pub(crate) fn lock_holder(&self) -> Result<Option<String>> {
        let (classid, objid) = ((WRITER_LOCK >> 32) as u32, WRITER_LOCK as u32);
        let row = self.first(
            "SELECT a.application_name FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) AND l.classid = CAST(?1 AS BIGINT)::oid AND l.objid = CAST(?2 AS BIGINT)::oid AND l.granted",
            params![classid as i64, objid as i64],
        )?;
        Ok(row.map(|r| r.text(0)))
    }

    /// Gives the advisory lock back.
    pub(crate) fn advisory_writer_unlock(&self) -> Result<()> {
        self.int("SELECT pg_advisory_unlock(?1)", params![WRITER_LOCK])
            .map(|_| ())
    }

    /// Whether the process `pid` may still be running its run: its session holds the lock (on
    /// this machine the process itself is asked, as its session may outlive it).
    pub(crate) fn pg_writer_alive(&self, pid: i64) -> bool {
        match self.lock_holder() {
            Ok(Some(name)) => match parse_session_name(&name) {
                Some((p, h)) if p == pid => h != host() || journal::pid_alive(pid),
                _ => false,
            },
            Ok(None) => false,
            Err(_) => true,
        }
    }
}
