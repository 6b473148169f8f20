//! The run loop: spool, options, phases, records, chunks, journal.

use crate::close_batch::BatchRow;
use crate::ledger_phase;
use crate::mapping::RunMapping;
use crate::options::{self, Effective, ImportOptions, OnExisting, OptionRow};
use crate::positions::{FirstDetails, Positions};
use crate::record::{parse, Item, Outcome, State};
use crate::RunError;
use ferry_catalogue::{self as cat, Entity, EntityId, Phase};
use ferry_findings::{Code, Finding, Location, Severity};
use ferry_plan::Spool;
use ferry_sources::{RawRecord, RawValue, ReadOptions, SourceError, Visitor};
use ferry_store::journal::{Counts, RunKind, RunMode, RunStatus};
use ferry_store::{StoreError, Target, WriterRole};
use ferry_validate::record::KEY_SEP;
use ferry_validate::{DateOrder, DateTally, RecordOptions, ValueContext};
use serde::Serialize;
use std::collections::HashSet;
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::TryRecvError;

/// Reports progress to whoever watches (a progress bar, the web console, nobody).
pub trait Progress {
    /// The run is recorded in the journal under this number.
    fn started(&self, _run: i64) {}
    fn stage(&self, _name: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn done(&self) {}
    /// Whether whoever watches asked the run to stop (checked every few hundred records; a
    /// stopped run is interrupted at its last checkpoint, resumable or undone by rollback).
    fn cancelled(&self) -> bool {
        false
    }
}

/// Progress that nobody watches.
pub struct Silent;
impl Progress for Silent {}

/// What a run did, for people (stderr) and scripts (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run: i64,
    /// `import`, `certification` or `config`.
    pub kind: RunKind,
    pub mode: RunMode,
    pub status: RunStatus,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    pub counts: Vec<(String, Counts)>,
    pub backup: Option<PathBuf>,
    pub options: Effective,
    pub exit_code: i32,
    /// Certification: the components `--add-missing-components` added to programs (to remove
    /// afterwards if they are no longer required).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added_components: Vec<crate::rules::certification::AddedComponent>,
    /// `CreateAccounts`: logins made, passwords hashed (and on how many threads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logins: Option<crate::logins::LoginSummary>,
    /// A new fingerprint key file this run made for the target (to back up, apart from it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint_key_created: Option<PathBuf>,
    /// A test-only run on a target without a fingerprint key used a throwaway key (the live
    /// run makes the target's key).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fingerprint_key_temporary: bool,
    /// Test-only: the target's fingerprint key is not here, so the live run would stop (why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint_key_missing: Option<String>,
}

/// Findings of a run, numbered in the order found, kept in a temporary file until the run ends
/// (so a test-only run keeps them across its rollback and memory stays flat). The file has no
/// name (only this process can open it, and it goes with the process however it ends).
pub(crate) struct FindingLog {
    file: BufWriter<std::fs::File>,
    seq: u64,
    totals: [u64; 3],
    run: i64,
    /// Entity types that got their one `run.max_records` info.
    max_records_noted: HashSet<EntityId>,
    /// The last sequence number written to the journal, and how far the file was read for it.
    stored_seq: i64,
    offset: u64,
    /// A resumed run replays reading and options silently: those findings are already stored.
    mute: bool,
}

impl FindingLog {
    fn new(run: i64) -> std::io::Result<FindingLog> {
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
    fn store_new(&mut self, target: &Target) -> Result<(), RunError> {
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
    fn record(&mut self, record: RawRecord) -> Result<(), SourceError> {
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
                    .map_err(|e| SourceError::Sink(format!("findings: {e}")))?;
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
            .map_err(|e| SourceError::Sink(format!("spool: {e}")))?;
        self.progress.advance(1);
        Ok(())
    }
    fn finding(&mut self, finding: Finding) -> Result<(), SourceError> {
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
            .map_err(|e| SourceError::Sink(format!("findings: {e}")))
    }
    fn option(
        &mut self,
        name: String,
        value: RawValue,
        location: Location,
    ) -> Result<(), SourceError> {
        self.options.push(OptionRow {
            input: self.input,
            name,
            value,
            location,
        });
        Ok(())
    }
}

/// `--max-records`: which records are left out. It depends only on the records in spool order
/// (across phases), so the producer thread decides it, also for records replayed on resume.
#[derive(Default)]
struct Admission {
    max_records: u64,
    /// How many User records were seen, and the accounts admitted.
    users_seen: u64,
    admitted: HashSet<String>,
    /// Records left out, by (entity, key): what refers to them is left out too.
    excluded: HashSet<(EntityId, String)>,
}

impl Admission {
    /// `--max-records`: whether the record's account is admitted (User records admit themselves).
    fn admit(&mut self, e: &'static Entity, raw: &RawRecord) -> bool {
        if self.max_records == 0 {
            return true;
        }
        let value_of = |name: &str| {
            e.field(name)
                .and_then(|fid| raw.get(fid))
                .map(|f| f.value.display().trim().to_string())
        };
        let joined = |fields: &[&str]| -> Option<String> {
            let parts: Option<Vec<String>> = fields.iter().map(|f| value_of(f)).collect();
            parts.map(|p| p.join(&KEY_SEP.to_string()))
        };
        let admitted = if e.name == "User" {
            self.users_seen += 1;
            self.users_seen <= self.max_records
        } else if e.refs.iter().any(|r| {
            // A record that names a left-out record anywhere (a child's parent, a ticket's
            // assignee, a payment method's detail, a ticket's tracking) is left out with it,
            // not rejected for a reference it could not see.
            let target = cat::entity(r.target).expect("catalogue").id();
            joined(r.from).is_some_and(|k| self.excluded.contains(&(target, k)))
        }) {
            false
        } else {
            match e.account_field.and_then(value_of) {
                Some(a) => self.admitted.contains(&a),
                None => true,
            }
        };
        if e.name == "User" && admitted {
            if let Some(a) = value_of("Name") {
                self.admitted.insert(a);
            }
        }
        if !admitted && !e.key_fields().is_empty() {
            if let Some(k) = joined(e.key_fields()) {
                self.excluded.insert((e.id(), k));
            }
        }
        // Records referred to by a key other than their own (a held package by User and Name).
        if !admitted {
            for fields in cat::lookup_keys(e.id())
                .iter()
                .filter(|f| **f != e.key_fields())
            {
                if let Some(k) = joined(fields) {
                    self.excluded.insert((e.id(), k));
                }
            }
        }
        admitted
    }
}

/// Records per message between the producer and the main thread, and messages in flight.
const BATCH: usize = 64;
const IN_FLIGHT: usize = 4;
type Batch = Vec<std::io::Result<Item>>;

/// The producer thread of a phase: decodes the spool and parses each record (the work that
/// needs no index and no target), in order. It stops at the first read error (sent in its
/// place) or when the main thread stops listening. When the main thread had to wait (`hungry`),
/// the next batch goes unparsed, and both threads parse: the phase is parsing-bound.
#[allow(clippy::too_many_arguments)]
fn produce(
    reader: ferry_plan::PhaseReader<'_>,
    done_before: u64,
    opts: &RecordOptions,
    given: bool,
    hasher: Option<&crate::logins::Hasher>,
    admission: &mut Admission,
    mut positions: Positions,
    hungry: &AtomicBool,
    tx: std::sync::mpsc::SyncSender<Batch>,
    back: std::sync::mpsc::Receiver<Batch>,
) {
    // Processed batches come back: their records are freed here, on the thread that allocated
    // them (freeing them on the main thread costs it much more in the allocator), and their
    // vectors are used again.
    let mut spare: Vec<Batch> = vec![];
    let mut next = |back: &std::sync::mpsc::Receiver<Batch>| {
        while let Ok(mut b) = back.try_recv() {
            b.clear();
            spare.push(b);
        }
        spare.pop().unwrap_or_else(|| Vec::with_capacity(BATCH))
    };
    let mut batch = next(&back);
    let mut unparsed = false;

    for (seq, raw) in reader.enumerate() {
        if batch.is_empty() {
            // Passwords are hashed here, on every core: never hand records over unparsed then.
            unparsed = hungry.swap(false, Ordering::Relaxed) && hasher.is_none();
        }
        let item = raw.map(|raw| {
            let e = cat::by_id(raw.entity);
            // Records whose identity depends on the ones before them are always parsed here.
            let tracked = Positions::tracks(e);
            if (seq as u64) < done_before {
                // Done before the interruption: only replay what later records depend on.
                if !(admission.admit(e, &raw) && tracked) {
                    return Item::Done;
                }
                let p = parse(raw, opts, given, false);
                positions.step(&p.rec);
                match BatchRow::of(&p.rec, p.ledger_key) {
                    Some(row) if e.is_ledger() => Item::Replay(row),
                    _ => Item::Done,
                }
            } else if !admission.admit(e, &raw) {
                Item::LeftOut(raw)
            } else if unparsed && !tracked {
                Item::Raw(raw)
            } else {
                let mut p = parse(raw, opts, given, hasher.is_some());
                if tracked {
                    p.position = positions.step(&p.rec);
                    p.fill_occurrence();
                }
                Item::Record(Box::new(p))
            }
        });
        let failed = item.is_err();
        batch.push(item);
        if batch.len() >= BATCH || failed {
            if let Some(h) = hasher {
                hash_passwords(h, &mut batch);
            }
            let full = std::mem::replace(&mut batch, next(&back));
            if tx.send(full).is_err() || failed {
                break;
            }
        }
    }
    if !batch.is_empty() {
        if let Some(h) = hasher {
            hash_passwords(h, &mut batch);
        }
        let _ = tx.send(batch);
    }
    drop(tx);
    // The last batches, until the main thread is done.
    while let Ok(b) = back.recv() {
        drop(b);
    }
}

/// Hashes the plain passwords of a batch's records, all at once on the hashing pool.
fn hash_passwords(h: &crate::logins::Hasher, batch: &mut Batch) {
    let work = batch
        .iter_mut()
        .filter_map(|item| match item {
            Ok(Item::Record(p)) => Some(&mut **p),
            _ => None,
        })
        .filter(|p| matches!(p.login_password, Some(crate::logins::LoginPassword::Plain)))
        .filter_map(|p| match p.rec.get("Password") {
            Some(ferry_validate::Value::Secret(s)) => Some((s.as_str(), &mut p.login_password)),
            _ => None,
        })
        .collect();
    h.hash_all(work);
}

fn input_hash(inputs: &[PathBuf], eff_json: &str) -> Result<String, RunError> {
    let mut h = blake3::Hasher::new();
    for input in inputs {
        for f in ferry_sources::input_files(input)? {
            h.update(f.display().to_string().as_bytes());
            let mut file = std::fs::File::open(&f).map_err(|e| SourceError::Io {
                path: f.display().to_string(),
                source: e,
            })?;
            std::io::copy(&mut file, &mut h).map_err(|e| SourceError::Io {
                path: f.display().to_string(),
                source: e,
            })?;
        }
    }
    h.update(eff_json.as_bytes());
    Ok(h.finalize().to_hex().to_string())
}

/// The command-line options of a run, as stored in the journal (what `ferry resume` reruns).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CommandLine {
    pub inputs: Vec<String>,
    pub test_only: bool,
    pub max_records: Option<u64>,
    pub on_existing: OnExisting,
    pub all_or_nothing: bool,
    pub create_accounts: Option<bool>,
    pub date_order: Option<String>,
    pub fold_case: bool,
    pub no_backup: bool,
    pub encoding: Option<String>,
    pub phone_region: String,
    pub max_attachment_bytes: u64,
    pub chunk_size: usize,
    /// Left out for imports, so that an import's input hash is what it was before run kinds.
    #[serde(default, skip_serializing_if = "RunKind::is_import")]
    pub kind: RunKind,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub add_missing_components: bool,
    /// `--mapping` as given (a file or a saved mapping's name); left out when none, so that
    /// the input hash of a run without one is what it was before mappings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
}

impl CommandLine {
    pub fn of(opts: &ImportOptions) -> CommandLine {
        CommandLine {
            inputs: opts
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            test_only: opts.test_only,
            max_records: opts.max_records,
            on_existing: opts.on_existing,
            all_or_nothing: opts.all_or_nothing,
            create_accounts: opts.create_accounts,
            date_order: opts.date_order.map(|d| {
                if d == DateOrder::Dmy {
                    "dmy".into()
                } else {
                    "mdy".into()
                }
            }),
            fold_case: opts.fold_case,
            no_backup: opts.no_backup,
            encoding: opts.encoding.map(|e| e.name().to_string()),
            phone_region: format!("{:?}", opts.phone_region),
            max_attachment_bytes: opts.max_attachment_bytes,
            chunk_size: opts.chunk_size,
            kind: opts.kind,
            add_missing_components: opts.add_missing_components,
            mapping: opts.mapping.clone(),
        }
    }

    /// The options to run these inputs again (`ferry resume`).
    pub fn options(&self) -> ImportOptions {
        ImportOptions {
            inputs: self.inputs.iter().map(PathBuf::from).collect(),
            test_only: self.test_only,
            max_records: self.max_records,
            on_existing: self.on_existing,
            all_or_nothing: self.all_or_nothing,
            create_accounts: self.create_accounts,
            date_order: self.date_order.as_deref().map(|d| {
                if d == "dmy" {
                    DateOrder::Dmy
                } else {
                    DateOrder::Mdy
                }
            }),
            fold_case: self.fold_case,
            resume: true,
            no_backup: self.no_backup,
            encoding: self
                .encoding
                .as_deref()
                .and_then(|e| encoding_rs::Encoding::for_label(e.as_bytes())),
            phone_region: self
                .phone_region
                .parse()
                .unwrap_or(phonenumber::country::Id::US),
            max_attachment_bytes: self.max_attachment_bytes,
            chunk_size: self.chunk_size,
            kind: self.kind,
            add_missing_components: self.add_missing_components,
            mapping: self.mapping.clone(),
            ..ImportOptions::default()
        }
    }
}

/// The command line a run was started with, from the journal.
pub fn command_line(target: &Target, run: i64) -> Result<Option<CommandLine>, RunError> {
    Ok(target
        .run(run)?
        .and_then(|r| serde_json::from_value(r.options.get("command_line")?.clone()).ok()))
}

/// Test hook: sleeps for as many milliseconds as the environment variable `var` says.
fn hold(var: &str) {
    if let Some(ms) = std::env::var(var).ok().and_then(|v| v.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Test hook: `FERRY_FAIL_AT=<point>:<n>` makes the process die (as `kill -9` would) the n-th
/// time it passes the named point: `before-commit`, `after-commit`, `mid-chunk`.
fn fail_point(point: &str, n: u64) {
    if let Ok(spec) = std::env::var("FERRY_FAIL_AT") {
        if let Some((p, k)) = spec.split_once(':') {
            if p == point && k.parse::<u64>().ok() == Some(n) {
                // A real SIGKILL: no destructors, no unwinding, no flushing.
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &std::process::id().to_string()])
                    .status();
                std::process::abort();
            }
        }
    }
}

/// The identity of this build's phase order (a checkpoint is a phase's index in it), kept with
/// each run: a run interrupted by a Ferry that ordered its phases otherwise cannot be resumed.
fn phase_order() -> String {
    let names: Vec<&str> = cat::dependency_order().iter().map(Phase::name).collect();
    blake3::hash(names.join(",").as_bytes()).to_hex()[..16].to_string()
}

/// Refuses to resume a run whose checkpoint counts phases in another order than this build's
/// (a run started by an older Ferry records no order: refused too).
fn same_phase_order(info: &ferry_store::journal::RunInfo) -> Result<(), RunError> {
    let theirs = info.options.get("phases").and_then(|p| p.as_str());
    if theirs == Some(phase_order().as_str()) {
        return Ok(());
    }
    let r = info.id;
    Err(RunError::Options(format!(
        "run {r} was interrupted by a Ferry whose import phases differ from this one's (another version); its checkpoint cannot be resumed by this Ferry — finish it with the Ferry that started it, or undo it with `ferry rollback {r}` and import again"
    )))
}

/// The run to resume, if any: `ferry resume RUN`'s run, which must be interrupted, or for
/// `--resume` the newest interrupted live run of the same inputs and options.
/// What the journal keeps of a run's mapping.
fn mapping_json(mapping: Option<&RunMapping>) -> serde_json::Value {
    match mapping {
        Some(m) => serde_json::json!({ "given": m.given, "from": m.from, "hash": m.hash }),
        None => serde_json::Value::Null,
    }
}

/// Refuses to resume a run with another mapping than the one it started with (a changed file
/// or saved mapping, or a mapping given or left out).
fn same_mapping(
    info: &ferry_store::journal::RunInfo,
    mapping: Option<&RunMapping>,
) -> Result<(), RunError> {
    let theirs = info
        .options
        .get("mapping")
        .and_then(|m| m.get("hash"))
        .and_then(|h| h.as_str());
    if theirs == mapping.map(|m| m.hash.as_str()) {
        return Ok(());
    }
    let r = info.id;
    Err(RunError::Options(format!(
        "run {r} was started with {}, and it is {} now; it cannot be resumed — resume it with the mapping it started with, or undo it with `ferry rollback {r}` and import again",
        match theirs { Some(h) => format!("a mapping whose content hash is {h}"), None => "no mapping".into() },
        match mapping { Some(m) => format!("{} (content hash {})", m.given, m.hash), None => "without one".into() },
    )))
}

fn resumable(
    target: &Target,
    opts: &ImportOptions,
    mode: RunMode,
    cmd_key: &CommandLine,
    hash: &str,
    mapping: Option<&RunMapping>,
) -> Result<Option<i64>, RunError> {
    if let Some(r) = opts.resume_run {
        let info = target
            .run(r)?
            .ok_or_else(|| RunError::Options(format!("there is no run {r} in this target")))?;
        match info.status {
            RunStatus::Interrupted => {}
            RunStatus::Running => {
                return Err(RunError::Options(format!(
                    "run {r} is running now (process {}): another process is writing it; wait for it to finish",
                    info.pid.unwrap_or(0)
                )))
            }
            other => {
                return Err(RunError::Options(format!(
                    "nothing to resume: run {r} is {}, not interrupted",
                    other.as_str()
                )))
            }
        }
        same_phase_order(&info)?;
        same_mapping(&info, mapping)?;
        if info.input_hash != hash {
            return Err(RunError::Options(format!(
                "the inputs of run {r} changed since it started (their content no longer matches); it cannot be resumed — undo it with `ferry rollback {r}` and import again"
            )));
        }
        return Ok(Some(r));
    }
    if !opts.resume || mode != RunMode::Live {
        return Ok(None);
    }
    for r in target.runs()?.into_iter().rev() {
        let same_command = r
            .options
            .get("command_line")
            .and_then(|c| serde_json::from_value::<CommandLine>(c.clone()).ok())
            .is_some_and(|mut c| {
                c.chunk_size = 0;
                c.test_only == cmd_key.test_only
                    && c.kind == cmd_key.kind
                    && c.inputs == cmd_key.inputs
            });
        if r.mode != RunMode::Live || !same_command {
            continue;
        }
        if !r.can_resume() {
            return Ok(None);
        }
        same_phase_order(&r)?;
        same_mapping(&r, mapping)?;
        if r.input_hash != hash {
            return Err(RunError::Options(format!(
                "run {} was interrupted, but its inputs or options changed since it started; it cannot be resumed (start a new run without --resume, or roll it back with `ferry rollback {}`)",
                r.id, r.id
            )));
        }
        return Ok(Some(r.id));
    }
    Ok(None)
}

/// Takes the writer role for the run: the interrupted run to resume, or a new run (recorded
/// only once the role is taken, so a run refused because another holds the target leaves
/// nothing in the journal). Returns the run and whether it is resumed.
///
/// Several processes may set out to resume the same run at once: the run is looked at again
/// once the role is held. If another process resumed (and finished) it meanwhile, `ferry
/// resume RUN` stops, and `--resume` looks again, finding no interrupted run and starting a new
/// one (SPEC §6.4).
fn take_target<'t>(
    target: &'t Target,
    opts: &ImportOptions,
    mode: RunMode,
    cmd: &CommandLine,
    cmd_key: &CommandLine,
    hash: &str,
    mapping: Option<&RunMapping>,
) -> Result<(WriterRole<'t>, bool), RunError> {
    for _ in 0..3 {
        let Some(r) = resumable(target, opts, mode, cmd_key, hash, mapping)? else {
            let role = target.hold_writer_for_new_run(|t| {
                t.create_run(
                    opts.kind,
                    mode,
                    &serde_json::json!(cmd.inputs),
                    &serde_json::json!({ "command_line": cmd, "phases": phase_order(), "mapping": mapping_json(mapping) }),
                    hash,
                )
            })?;
            return Ok((role, false));
        };
        let role = target.hold_writer(r)?;
        let now = target.run(r)?.map(|i| i.status);
        if now == Some(RunStatus::Interrupted) {
            return Ok((role, true));
        }
        role.release()?;
        if opts.resume_run.is_some() {
            return Err(RunError::Options(format!(
                "nothing to resume: run {r} is {} now (another process resumed it meanwhile)",
                now.map_or("gone", RunStatus::as_str)
            )));
        }
    }
    Err(RunError::Options(
        "other processes keep resuming runs of these inputs; try again".into(),
    ))
}

/// Runs one import against an open target (or resumes the interrupted run of the same inputs).
pub fn import(
    target: &Target,
    opts: &ImportOptions,
    progress: &dyn Progress,
) -> Result<Summary, RunError> {
    let mode = if opts.test_only {
        RunMode::TestOnly
    } else {
        RunMode::Live
    };
    let cmd = CommandLine::of(opts);
    let mut cmd_key = cmd.clone();
    cmd_key.chunk_size = 0;
    let mapping = match &opts.mapping {
        Some(m) => Some(crate::mapping::load(Some(target), m)?),
        None => None,
    };
    // A changed mapping changes the hash: a resume refuses it like changed inputs.
    let mut key_json = serde_json::to_string(&cmd_key).unwrap_or_default();
    if let Some(m) = &mapping {
        key_json.push_str(&m.hash);
    }
    let hash = input_hash(&opts.inputs, &key_json)?;
    // A key file given explicitly that is not this target's key stops the run before it is
    // even recorded.
    crate::fingerprint_key::check_given(target, opts.fingerprint_key.as_deref())?;
    let (writer, resumed) =
        take_target(target, opts, mode, &cmd, &cmd_key, &hash, mapping.as_ref())?;
    // From here on every way out releases the target (a console process outlives its runs).
    let run = writer.run();
    target.mark_running(run)?;
    progress.started(run);
    // Test hook: hold the target a while (the concurrent-writer test).
    hold("FERRY_TEST_HOLD_MS");
    let mut log = FindingLog::new(run)?;
    if resumed {
        let (seq, totals, noted) = target.finding_state(run)?;
        log.stored_seq = seq;
        log.seq = seq as u64;
        log.totals = totals;
        log.max_records_noted = noted.iter().filter_map(|n| cat::entity_id(n)).collect();
        log.mute = seq > 0;
    }
    let result = run_inner(
        target,
        opts,
        progress,
        run,
        mode,
        &mut log,
        resumed,
        &cmd,
        mapping.as_ref(),
    );
    let outcome = match result {
        Ok(s) => Ok(s),
        Err(e) => {
            // (run_inner's transaction was rolled back when its guard dropped.)
            // A problem with an input or the options stops before the first write: failed.
            // A problem with the target after writing began leaves committed chunks: interrupted,
            // resumable.
            let (status, e) = match e {
                // A resumed run without its key stays resumable: it wrote nothing more.
                RunError::Key(_) if resumed => (RunStatus::Interrupted, e),
                RunError::Input(_) | RunError::Options(_) | RunError::Key(_) => {
                    (RunStatus::Failed, e)
                }
                other => (
                    RunStatus::Interrupted,
                    RunError::Interrupted {
                        run,
                        cause: Box::new(other),
                    },
                ),
            };
            let _ = (|| -> Result<(), RunError> {
                let tx = target.transaction()?;
                log.mute = false;
                log.store_new(target)?;
                target.finish_run(
                    run,
                    status,
                    Some(&e.to_string()),
                    (log.totals[0], log.totals[1], log.totals[2]),
                )?;
                tx.commit()?;
                Ok(())
            })();
            Err(e)
        }
    };
    drop(writer);
    outcome
}

#[allow(clippy::too_many_arguments)]
fn run_inner(
    target: &Target,
    opts: &ImportOptions,
    progress: &dyn Progress,
    run: i64,
    mode: RunMode,
    log: &mut FindingLog,
    resumed: bool,
    cmd: &CommandLine,
    mapping: Option<&RunMapping>,
) -> Result<Summary, RunError> {
    // 1. Read every input once into the spool.
    // Next to a SQLite target (same disk, same permissions; `ferry.db` is in the current
    // folder); in the temporary folder otherwise.
    let spool_parent = target.file().and_then(|f| f.parent()).map(|p| {
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.to_path_buf()
        }
    });
    let mut spool = Spool::new(spool_parent.as_deref()).or_else(|_| Spool::new(None))?;
    let mut limits = opts.limits.clone();
    limits.max_base64_bytes = ferry_sources::Limits::base64_for(opts.max_attachment_bytes);
    let read_opts = ReadOptions {
        raw: mapping.map(|m| ferry_mapping::raw_parts(m.mapping.clone())),
        encoding: opts.encoding,
        limits,
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
        options: option_rows,
        read,
        untyped,
        needs_key,
        first_details,
        dates,
        ..
    } = collect;
    spool.finish()?;
    progress.done();
    // Test hook: a live run with its spool written (the spool-sweeping test).
    hold("FERRY_TEST_HOLD_SPOOL_MS");
    let (fingerprint_key, key_note) = if needs_key {
        let (k, n) = key_for_run(target, opts, mode)?;
        (Some(k), n)
    } else {
        (None, KeyNote::default())
    };

    // 2. Options.
    let (eff, warnings) = options::merge(opts, &option_rows).map_err(RunError::Options)?;
    let (dates, date_notes) = dates.decide(options::explicit_date_order(opts, &option_rows));
    for w in warnings.iter().chain(&date_notes) {
        log.push(w)?;
    }
    target.set_run_options(
        run,
        &serde_json::to_string(
            &serde_json::json!({ "command_line": cmd, "effective": eff, "phases": phase_order(), "mapping": mapping_json(mapping) }),
        )
        .unwrap_or_default(),
    )?;
    let rec_opts = RecordOptions {
        values: ValueContext {
            date_order: if eff.date_order == "DMY" {
                DateOrder::Dmy
            } else {
                DateOrder::Mdy
            },
            phone_region: opts.phone_region,
        },
        default_owner: eff.default_owner.clone(),
        dates: Some(std::sync::Arc::new(dates)),
    };

    // 3. Backup (not again when resuming), then the data transaction(s).
    // A PostgreSQL target is not copied: each chunk is a transaction, `ferry rollback` undoes a
    // run, and whole-database backups are the server's (pg_dump).
    let mut backup = None;
    if let (RunMode::Live, false, Some(file)) = (mode, opts.no_backup, target.file()) {
        let name = format!(
            "{}.before-{run}.bak",
            file.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("ferry.db")
        );
        let path = file.with_file_name(name);
        if !(resumed && path.exists()) {
            target.backup_to(&path)?;
        }
        backup = Some(path);
    }
    let single_tx = mode == RunMode::TestOnly || eff.all_or_nothing;
    let mut counts: Vec<Counts> = read
        .iter()
        .map(|r| Counts {
            read: *r,
            ..Default::default()
        })
        .collect();
    let (mut cp_phase, mut cp_seq) = (0i64, 0i64);
    if resumed {
        let (p, q) = target.checkpoint_of(run)?;
        cp_phase = p;
        cp_seq = q;
        for (name, c) in target.counts(run)? {
            if let Some(id) = cat::entity_id(&name) {
                let read = counts[id as usize].read;
                counts[id as usize] = Counts { read, ..c };
            }
        }
    }
    let logins = if eff.create_accounts {
        Some(crate::logins::Logins::load(target, run)?)
    } else {
        None
    };
    let mut state = State::new(
        target,
        run,
        eff.clone(),
        rec_opts,
        counts,
        logins,
        opts.add_missing_components,
        fingerprint_key,
        first_details,
    );
    log.mute = false;
    let mut writes = target.transaction()?;
    let mut in_chunk = 0usize;
    let mut chunks = 0u64;
    let mut records = 0u64;
    let phases: Vec<Phase> = spool.phases().to_vec();
    let mut admission = Admission {
        max_records: eff.max_records,
        ..Admission::default()
    };
    for (pi, phase) in phases.iter().enumerate() {
        let total = spool.count(pi);
        if total == 0 {
            continue;
        }
        let done_before = if (pi as i64) < cp_phase {
            total
        } else if pi as i64 == cp_phase {
            cp_seq as u64
        } else {
            0
        };
        if done_before < total {
            state.prepare_phase(phase)?;
        }
        // Passwords are hashed by the producer of the phase that holds the accounts.
        let hashing = state.rules.logins.is_some()
            && phase
                .entities()
                .into_iter()
                .any(|e| cat::by_id(e).name == "User");
        if hashing {
            progress.stage(&format!("{} + passwords", phase.name()), total);
        } else {
            progress.stage(phase.name(), total);
        }
        let hasher = state
            .rules
            .logins
            .as_ref()
            .filter(|_| hashing)
            .map(|l| l.hasher.clone());
        let hasher = hasher.as_deref();
        // Spool decoding and parsing run on a producer thread, the indexes, references, keys and
        // writes here, on records in spool order: the sequence numbers (and checkpoints), the
        // findings and every decision are those of one thread.
        let reader = spool.read(pi)?;
        let parse_opts = state.rec_opts.clone();
        let admission = &mut admission;
        let hungry = AtomicBool::new(false);
        let update = state.eff.on_existing == OnExisting::Update;
        let positions = Positions::default();
        std::thread::scope(|s| -> Result<(), RunError> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(IN_FLIGHT);
            let (back_tx, back_rx) = std::sync::mpsc::channel::<Batch>();
            let hungry = &hungry;
            let producer = std::thread::Builder::new()
                .name("ferry-parse".into())
                .spawn_scoped(s, move || {
                    produce(
                        reader,
                        done_before,
                        &parse_opts,
                        update,
                        hasher,
                        admission,
                        positions,
                        hungry,
                        tx,
                        back_rx,
                    )
                })?;
            let mut consume = || -> Result<u64, RunError> {
                let mut seen = 0u64;
                loop {
                    let mut batch = match rx.try_recv() {
                        Ok(b) => b,
                        Err(TryRecvError::Disconnected) => break,
                        Err(TryRecvError::Empty) => {
                            hungry.store(true, Ordering::Relaxed);
                            match rx.recv() {
                                Ok(b) => b,
                                Err(_) => break,
                            }
                        }
                    };
                    for slot in batch.iter_mut() {
                        let seq = seen;
                        seen += 1;
                        let item = match slot {
                            Ok(item) => item,
                            Err(e) => {
                                return Err(
                                    std::mem::replace(e, std::io::Error::other("spool")).into()
                                )
                            }
                        };
                        let eid = match item {
                            Item::Record(p) => p.entity as usize,
                            Item::LeftOut(raw) | Item::Raw(raw) => raw.entity as usize,
                            Item::Done => {
                                progress.advance(1);
                                continue;
                            }
                            Item::Replay(row) => {
                                if let Some(ledger) = state.ledger.as_mut() {
                                    ledger.replay(row);
                                }
                                progress.advance(1);
                                continue;
                            }
                        };
                        state.last_ledger = None;
                        state.last_row = None;
                        let outcome = state.process(item, log)?;
                        if let (Some((row, stored)), Some(ledger)) =
                            (state.last_row.take(), state.ledger.as_mut())
                        {
                            ledger.note_row(&row, stored, outcome == Outcome::Imported);
                        }
                        if let (Some((user, amount)), Some(ledger)) =
                            (state.last_ledger.take(), state.ledger.as_mut())
                        {
                            let o = match outcome {
                                Outcome::Imported | Outcome::Updated => {
                                    ledger_phase::Outcome::Imported
                                }
                                Outcome::Skipped => ledger_phase::Outcome::Skipped,
                                Outcome::Rejected => ledger_phase::Outcome::Rejected,
                            };
                            ledger.count(&user, amount, o);
                        }
                        let c = &mut state.counts[eid];
                        match outcome {
                            Outcome::Imported => c.imported += 1,
                            Outcome::Updated => c.updated += 1,
                            Outcome::Skipped => c.skipped += 1,
                            Outcome::Rejected => c.rejected += 1,
                        }
                        progress.advance(1);
                        records += 1;
                        fail_point("mid-chunk", records);
                        if records.is_multiple_of(256) && progress.cancelled() {
                            return Err(RunError::Cancelled);
                        }
                        in_chunk += 1;
                        if single_tx && in_chunk >= opts.chunk_size {
                            // One transaction for the whole run: still write the invoices a chunk changed,
                            // so that memory stays flat (the transaction is rolled back or committed at the end).
                            if let Some(ledger) = state.ledger.as_mut() {
                                ledger.flush_invoices(target)?;
                                ledger.spill_sums()?;
                            }
                            in_chunk = 0;
                        }
                        if !single_tx && in_chunk >= opts.chunk_size {
                            // The chunk's records, its findings, counters, ledger sums and the checkpoint
                            // commit together: after a crash, a resume starts exactly here.
                            if let Some(ledger) = state.ledger.as_mut() {
                                ledger.flush_invoices(target)?;
                            }
                            persist(&mut state, log, untyped)?;
                            target.checkpoint(run, pi as i64, seq as i64 + 1)?;
                            chunks += 1;
                            fail_point("before-commit", chunks);
                            writes.commit_then_begin(|| fail_point("after-commit", chunks))?;
                            in_chunk = 0;
                        }
                    }
                    // Back to the producer, which frees its records.
                    let _ = back_tx.send(batch);
                }
                Ok(seen)
            };
            let consumed = consume();
            // Stops a producer that is still sending (after an error here) or waiting.
            drop(rx);
            drop(back_tx);
            let joined = producer.join();
            let seen = consumed?;
            if let Err(panic) = joined {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                return Err(RunError::Io(std::io::Error::other(format!(
                    "reading the {} records of the spool failed: {what}",
                    phase.name()
                ))));
            }
            if seen != total {
                return Err(RunError::Io(std::io::Error::other(format!(
                    "the spool gave {seen} of the {total} {} records",
                    phase.name()
                ))));
            }
            Ok(())
        })?;
        // The phase's indexes are complete: what their growth left unused goes back.
        for ix in state.indexes.values_mut().flatten() {
            ix.1.shrink_to_fit();
        }
        progress.done();
    }
    let login_summary = match state.rules.logins.take() {
        Some(logins) => Some(logins.finish(target, run, log)?),
        None => None,
    };
    let errors_found = log.totals[0] > 0;
    let status;
    if let Some(ledger) = state.ledger.as_mut() {
        if mode == RunMode::TestOnly || (eff.all_or_nothing && log.totals[0] > 0) {
            ledger.discard_invoices();
        } else {
            ledger.flush_invoices(target)?;
        }
    }
    if mode == RunMode::TestOnly {
        // A test-only run keeps nothing: its transaction is rolled back on purpose.
        writes.rollback()?;
        status = if errors_found {
            RunStatus::CompletedWithErrors
        } else {
            RunStatus::Succeeded
        };
    } else if eff.all_or_nothing && errors_found {
        writes.rollback()?;
        for (i, c) in state.counts.iter_mut().enumerate() {
            let unwritten = c.imported + c.updated;
            if unwritten > 0 {
                c.skipped += unwritten;
                c.imported = 0;
                c.updated = 0;
                let name = cat::ENTITIES[i].name;
                log.push(
                    &Finding::new(Code::NotWritten, Location::default(), format!("--all-or-nothing: {unwritten} valid {name} records were not written because the run found errors."))
                        .entity(name),
                )?;
            }
        }
        status = RunStatus::CompletedWithErrors;
    } else {
        target.checkpoint(run, phases.len() as i64, 0)?;
        writes.commit()?;
        status = if errors_found {
            RunStatus::CompletedWithErrors
        } else {
            RunStatus::Succeeded
        };
    }
    // 4. Close the run in the journal: what was not yet stored, and the final status.
    let tx = target.transaction()?;
    persist(&mut state, log, untyped)?;
    if mode == RunMode::Live && eff.all_or_nothing && errors_found {
        // Nothing was written: the ledger amounts the run would have imported were skipped, as
        // the counters say (run.not_written), so that the reconciliation balances.
        target.exec(
            "UPDATE run_ledger_sum SET skipped_e4 = skipped_e4 + imported_e4, imported_e4 = 0 WHERE run_id = ?1",
            ferry_store::params![run],
        )?;
    }
    target.finish_run(
        run,
        status,
        None,
        (log.totals[0], log.totals[1], log.totals[2]),
    )?;
    tx.commit()?;
    let counts = counts_of(&state, untyped);
    let added_components = state.added_components();
    Ok(Summary {
        run,
        kind: opts.kind,
        mode,
        status,
        errors: log.totals[0],
        warnings: log.totals[1],
        infos: log.totals[2],
        counts,
        backup,
        options: eff,
        exit_code: if errors_found { 1 } else { 0 },
        added_components,
        logins: login_summary,
        fingerprint_key_created: key_note.created,
        fingerprint_key_temporary: key_note.temporary,
        fingerprint_key_missing: key_note.missing,
    })
}

/// The fingerprint key of a run whose records carry card or account numbers: the target's, or
/// a new one for a live run on a target without one, or a throwaway one for a test-only run on
/// such a target. (Said in the summary, not as a finding: it is about the target, not a record,
/// and test-only and live runs find the same.)
fn key_for_run(
    target: &Target,
    opts: &ImportOptions,
    mode: RunMode,
) -> Result<(crate::fingerprint_key::FingerprintKey, KeyNote), RunError> {
    use crate::fingerprint_key::{resolve, Origin};
    let r = resolve(
        target,
        opts.fingerprint_key.as_deref(),
        mode == RunMode::Live,
    )?;
    let note = match r.origin {
        Origin::Created(path) => KeyNote {
            created: Some(path),
            ..KeyNote::default()
        },
        Origin::Temporary(missing) => KeyNote {
            temporary: true,
            missing: missing.map(|e| e.to_string()),
            ..KeyNote::default()
        },
        Origin::Found(_) => KeyNote::default(),
    };
    Ok((r.key, note))
}

/// What a run says about the fingerprint key in its summary.
#[derive(Default)]
struct KeyNote {
    created: Option<PathBuf>,
    temporary: bool,
    missing: Option<String>,
}

/// The run's counters per entity type (and Ledger-sheet rows without a Type).
fn counts_of(state: &State<'_>, untyped: u64) -> Vec<(String, Counts)> {
    let mut counts: Vec<(String, Counts)> = cat::ENTITIES
        .iter()
        .zip(&state.counts)
        .filter(|(_, c)| c.read > 0)
        .map(|(e, c)| (e.name.to_string(), c.clone()))
        .collect();
    if untyped > 0 {
        counts.push((
            cat::LEDGER_SHEET.to_string(),
            Counts {
                read: untyped,
                rejected: untyped,
                ..Default::default()
            },
        ));
    }
    counts
}

/// Stores what the journal must hold with the chunk: new findings, counters, changed ledger sums.
fn persist(state: &mut State<'_>, log: &mut FindingLog, untyped: u64) -> Result<(), RunError> {
    let target = state.target;
    // Writing on into a file that was deleted or replaced would lose everything at the end.
    if !target.file_unchanged() {
        return Err(RunError::Store(StoreError::Other(match target.file() {
            Some(f) => format!(
                "the target file {} was deleted or replaced during the run; what this process wrote since is lost with it",
                f.display()
            ),
            None => format!("the connection to the target {} was lost", target.name()),
        })));
    }
    log.store_new(target)?;
    let counts = counts_of(state, untyped);
    let refs: Vec<(&str, Counts)> = counts
        .iter()
        .map(|(e, c)| (e.as_str(), c.clone()))
        .collect();
    target.set_counts(state.run, &refs)?;
    if let Some(ledger) = state.ledger.as_mut() {
        ledger.store_sums(target)?;
    }
    Ok(())
}
