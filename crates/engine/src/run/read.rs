//! Reading: every input once, through its mapping if any, into the run's spool (records),
//! its finding log (what the readers say) and its option rows.

use super::findings_log::FindingLog;
use super::progress::Progress;
use crate::mapping::RunMapping;
use crate::options::{ImportOptions, OptionRow};
use crate::positions::FirstDetails;
use crate::RunError;
use ferry_catalogue::{self as cat, EntityId};
use ferry_findings::{Code, Finding, Location};
use ferry_sources::{RawRecord, RawValue, ReadOptions, Visitor};
use ferry_spool::Spool;
use ferry_store::journal::RunKind;
use ferry_store::Target;
use ferry_validate::DateTally;
use std::collections::HashSet;
use std::path::PathBuf;

/// What reading the inputs gave the run besides its findings.
pub(super) struct Reading {
    pub(super) spool: Spool,
    pub(super) options: Vec<OptionRow>,
    /// Records read, per entity type.
    pub(super) read: Vec<u64>,
    /// Ledger-sheet rows without a valid Type: read and rejected, under "Ledger".
    pub(super) untyped: u64,
    /// Whether a record carries a card or account number to fingerprint.
    pub(super) needs_key: bool,
    pub(super) first_details: FirstDetails,
    pub(super) dates: DateTally,
}

/// Reads every input once into the spool.
pub(super) fn read_inputs(
    target: &Target,
    opts: &ImportOptions,
    progress: &dyn Progress,
    log: &mut FindingLog,
    mapping: Option<&RunMapping>,
) -> Result<Reading, RunError> {
    let mut spool = new_spool(target)?;
    let mut limits = opts.limits.clone();
    limits.max_base64_bytes = ferry_sources::Limits::base64_for(opts.max_attachment_bytes);
    let mut read_opts = ReadOptions {
        raw: mapping.map(|m| ferry_mapping::raw_parts(m.mapping.clone())),
        encoding: opts.encoding,
        limits,
        shown_as: None,
    };
    let mut collect = Collect {
        spool: &mut spool,
        log,
        options: vec![],
        input: 0,
        read: vec![0; cat::ENTITIES.len()],
        untyped: 0,
        progress,
        kind: opts.kind,
        left_out: HashSet::new(),
        needs_key: false,
        first_details: FirstDetails::default(),
        dates: DateTally::default(),
    };
    progress.stage("reading", 0);
    for (i, input) in opts.inputs.iter().enumerate() {
        collect.input = i;
        read_opts.shown_as = opts.shown.get(i).map(|n| (input.clone(), n.clone()));
        match mapping {
            // Between the readers and the spool: the mapped parts' rows become records.
            Some(m) => {
                let mut mapped = ferry_mapping::Mapped::new(&mut collect, &m.mapping);
                ferry_sources::read_input(input, &read_opts, &mut mapped)
                    .map_err(|e| crate::mapping::unmatched(e, m))?;
                mapped.finish()?;
            }
            None => {
                ferry_sources::read_input(input, &read_opts, &mut collect)?;
            }
        }
    }
    let Collect {
        options,
        read,
        untyped,
        needs_key,
        first_details,
        dates,
        ..
    } = collect;
    spool.finish()?;
    progress.done();
    Ok(Reading {
        spool,
        options,
        read,
        untyped,
        needs_key,
        first_details,
        dates,
    })
}

/// The spool: next to a SQLite target (same disk, same permissions; `ferry.db` is in the
/// current folder); in the temporary folder otherwise.
fn new_spool(target: &Target) -> std::io::Result<Spool> {
    let spool_parent = target.file().and_then(|f| f.parent()).map(|p| {
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.to_path_buf()
        }
    });
    Spool::new(spool_parent.as_deref()).or_else(|_| Spool::new(None))
}

/// The reader's visitor: records to the spool, findings to the log, options aside.
struct Collect<'a> {
    spool: &'a mut Spool,
    log: &'a mut FindingLog,
    options: Vec<OptionRow>,
    input: usize,
    read: Vec<u64>,
    /// Ledger-sheet rows without a valid Type: read and rejected, under "Ledger".
    untyped: u64,
    progress: &'a dyn Progress,
    /// Which entity types this run reads: an import all but the legacy certification types, a
    /// certification migration only those.
    kind: RunKind,
    /// (input, entity type) pairs left out for the run's kind, each noted once.
    left_out: HashSet<(usize, EntityId)>,
    /// Whether a record carries a card or account number to fingerprint: the run then needs
    /// the target's fingerprint key, found before the first write.
    needs_key: bool,
    /// The first detail of each payment method, in read order.
    first_details: FirstDetails,
    /// Per column, which orders its slash dates fit (`ferry_validate::date_columns`).
    dates: DateTally,
}

impl Visitor for Collect<'_> {
    /// The run's own failures (its spool or findings log could not be written) travel as
    /// themselves; a reader's come as `RunError::Input`.
    type Error = RunError;
    fn record(&mut self, record: RawRecord) -> Result<(), RunError> {
        let e = cat::by_id(record.entity);
        if !self.kind.reads(e) {
            // Not this run's data: one warning per input and entity type, and (as an unknown
            // sheet) no count.
            if self.left_out.insert((self.input, record.entity)) {
                let (code, message) = if e.is_certification() {
                    (Code::CertificationEntity, format!("{} records are legacy certification data: `ferry {}` leaves them out; migrate them with `ferry certification migrate`.", e.name, if self.kind == RunKind::Config { "config import" } else { "import" }))
                } else if self.kind == RunKind::Config {
                    (Code::NotConfiguration, format!("{} records are not configuration: `ferry config import` leaves them out; import them with `ferry import`.", e.name))
                } else {
                    (Code::NotCertification, format!("{} records are not legacy certification data: `ferry certification migrate` leaves them out; import them with `ferry import`.", e.name))
                };
                let mut at = record.location.clone();
                at.column = None;
                self.log
                    .push(&Finding::new(code, at, message).entity(e.name))
                    .map_err(|e| RunError::Scratch("findings", e))?;
            }
            return Ok(());
        }
        self.read[record.entity as usize] += 1;
        if !self.needs_key && crate::rules::needs_fingerprint(e, &record) {
            self.needs_key = true;
        }
        self.first_details.note(&record);
        self.dates.observe(self.input, &record);
        self.spool
            .push(&record)
            .map_err(|e| RunError::Scratch("spool", e))?;
        self.progress.advance(1);
        Ok(())
    }
    fn finding(&mut self, finding: Finding) -> Result<(), RunError> {
        // What the reader says about records this run leaves out (their columns, broken rows,
        // Ledger-sheet rows without a Type in a certification run) is not this run's business:
        // the one warning per input and type says they were left out.
        let other_kind = match finding.entity.and_then(cat::entity) {
            Some(e) => !self.kind.reads(e),
            None => self.kind != RunKind::Import && finding.code == Code::UnknownType,
        };
        if other_kind {
            return Ok(());
        }
        if finding.code == Code::UnknownType {
            self.untyped += 1;
        }
        self.log
            .push(&finding)
            .map_err(|e| RunError::Scratch("findings", e))
    }
    fn option(
        &mut self,
        name: String,
        value: RawValue,
        location: Location,
    ) -> Result<(), RunError> {
        self.options.push(OptionRow {
            input: self.input,
            name,
            value,
            location,
        });
        Ok(())
    }
}
