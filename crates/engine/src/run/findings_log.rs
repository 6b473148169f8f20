//! The run's findings, numbered in the order found, kept in an unnamed temporary file and
//! written into the journal with each chunk.

use crate::RunError;
use ferry_catalogue::EntityId;
use ferry_findings::{Finding, Severity};
use ferry_store::Target;
use std::collections::HashSet;
use std::io::{BufRead, BufWriter, Write};

/// Findings of a run, numbered in the order found, kept in a temporary file until the run ends
/// (so a test-only run keeps them across its rollback and memory stays flat). The file has no
/// name (only this process can open it, and it goes with the process however it ends).
pub(crate) struct FindingLog {
    file: BufWriter<std::fs::File>,
    pub(super) seq: u64,
    pub(super) totals: [u64; 3],
    run: i64,
    /// Entity types that got their one `run.max_records` info.
    pub(crate) max_records_noted: HashSet<EntityId>,
    /// The last sequence number written to the journal, and how far the file was read for it.
    pub(super) stored_seq: i64,
    offset: u64,
    /// A resumed run replays reading and options silently: those findings are already stored.
    pub(super) mute: bool,
}

impl FindingLog {
    pub(super) fn new(run: i64) -> std::io::Result<FindingLog> {
        Ok(FindingLog {
            file: BufWriter::new(tempfile::tempfile()?),
            seq: 0,
            totals: [0; 3],
            run,
            max_records_noted: HashSet::new(),
            stored_seq: 0,
            offset: 0,
            mute: false,
        })
    }

    pub(crate) fn push(&mut self, f: &Finding) -> std::io::Result<()> {
        if self.mute {
            return Ok(());
        }
        self.seq += 1;
        self.totals[match f.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        }] += 1;
        serde_json::to_writer(&mut self.file, &f.to_json(self.run))?;
        self.file.write_all(b"\n")
    }

    /// Writes the findings found since the last call into the journal (inside the caller's
    /// transaction: a live run's chunk, or the end of the run).
    pub(super) fn store_new(&mut self, target: &Target) -> Result<(), RunError> {
        use std::io::{Seek, SeekFrom};
        self.file.flush()?;
        // The same open file (one position): read from where the journal stopped, then go back
        // to the end for the findings that follow.
        let mut f = self.file.get_ref().try_clone()?;
        f.seek(SeekFrom::Start(self.offset))?;
        let stored = self.read_into(&mut f, target);
        f.seek(SeekFrom::End(0))?;
        stored
    }

    fn read_into(&mut self, f: &mut std::fs::File, target: &Target) -> Result<(), RunError> {
        let mut reader = std::io::BufReader::new(f);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 {
                break;
            }
            self.offset += n as u64;
            let v: serde_json::Value =
                serde_json::from_str(line.trim_end()).map_err(std::io::Error::other)?;
            if let Some(finding) = Finding::from_json(&v) {
                self.stored_seq += 1;
                target.insert_finding(self.run, self.stored_seq, &finding)?;
            }
        }
        Ok(())
    }
}

impl crate::log_sink::FindingSink for FindingLog {
    fn push(&mut self, f: &Finding) -> std::io::Result<()> {
        FindingLog::push(self, f)
    }

    fn first_left_out(&mut self, entity: EntityId) -> bool {
        self.max_records_noted.insert(entity)
    }
}
