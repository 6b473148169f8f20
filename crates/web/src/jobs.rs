//! Long work in the background: each import, certification migration, resume or rollback runs on
//! its own thread with its own connection to the target, reporting progress into shared state.
//! Leaving the page or closing the browser does not stop it; the run's page reads that state (or,
//! after a restart of the console, the journal) and picks it up again. Progress is kept per
//! stage and for the whole run (records of all phases, elapsed time, an estimate of the rest).

use ferry_engine::{ImportOptions, Progress, RunError};
use ferry_store::journal::{RunMode, RunStatus};
use ferry_store::Target;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the console knows of one piece of background work.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct JobState {
    /// The run it is, once the engine has recorded it.
    pub run: Option<i64>,
    pub stage: String,
    pub done: u64,
    pub total: u64,
    pub finished: bool,
    /// How it ended, for people (set when finished).
    pub outcome: Option<String>,
    /// Whether it ended badly (an error, not record findings).
    pub failed: bool,
    /// Records the run's phases go through, all together (0 until the inputs are read).
    pub overall_total: u64,
    /// Of those, the records done so far.
    pub overall_done: u64,
    /// When the work started.
    #[serde(skip)]
    pub started: Option<Instant>,
    /// When the phases started (the inputs read).
    #[serde(skip)]
    pub phases_started: Option<Instant>,
}

impl JobState {
    /// Seconds since the work started.
    pub fn elapsed_secs(&self) -> Option<u64> {
        self.started.map(|t| t.elapsed().as_secs())
    }

    /// An estimate of the seconds left, from the pace of the phases so far (none before a
    /// second of them, or a hundredth of their records, has gone by).
    pub fn eta_secs(&self) -> Option<u64> {
        let spent = self.phases_started?.elapsed().as_secs_f64();
        let (done, total) = (self.overall_done, self.overall_total);
        if self.finished || total == 0 || done == 0 || spent < 1.0 || done * 100 < total {
            return None;
        }
        let left = total.saturating_sub(done) as f64;
        Some((spent * left / done as f64).round() as u64)
    }
}

struct Job {
    state: Arc<Mutex<JobState>>,
    cancel: Arc<AtomicBool>,
}

/// Every job since the console started, by job number; and which job is which run.
#[derive(Default)]
pub struct Jobs {
    jobs: Mutex<Vec<Job>>,
    by_run: Mutex<HashMap<i64, usize>>,
}

/// The engine's progress callbacks, written into a job's state.
struct Reporter {
    state: Arc<Mutex<JobState>>,
    cancel: Arc<AtomicBool>,
    jobs: Arc<crate::App>,
    job: usize,
    /// Held from the start until the engine has recorded the run (then the sweep sees it, and
    /// keeps its upload while it can be resumed).
    hold: Mutex<Option<crate::UploadsHold>>,
}

impl Reporter {
    fn release(&self) {
        if let Ok(mut h) = self.hold.lock() {
            h.take();
        }
    }
}

impl Progress for Reporter {
    fn started(&self, run: i64) {
        self.release();
        if let Ok(mut s) = self.state.lock() {
            s.run = Some(run);
        }
        if let Ok(mut m) = self.jobs.jobs.by_run.lock() {
            m.insert(run, self.job);
        }
    }
    fn stage(&self, name: &str, total: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.stage = name.to_string();
            s.total = total;
            s.done = 0;
        }
    }
    fn planned(&self, records: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.overall_total = records;
            s.overall_done = 0;
            s.phases_started = Some(Instant::now());
        }
    }
    fn advance(&self, n: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.done += n;
            if s.overall_total > 0 {
                s.overall_done = (s.overall_done + n).min(s.overall_total);
            }
        }
    }
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// What a background job does.
pub enum Work {
    Import(Box<ImportOptions>),
    Rollback(i64),
}

impl Jobs {
    /// Starts `work` on its own thread; returns the run it became, waiting a moment for the
    /// engine to record it (`None`: it ended before creating a run, with `outcome` saying why).
    /// `hold`, if given, is kept until the run is recorded. `actor`: the signed-in staff
    /// member's e-mail, kept in the journal as who started, resumed or rolled back the run.
    pub fn start(
        app: &Arc<crate::App>,
        work: Work,
        hold: Option<crate::UploadsHold>,
        actor: &str,
    ) -> (Option<i64>, JobState) {
        let state = Arc::new(Mutex::new(JobState {
            started: Some(Instant::now()),
            ..JobState::default()
        }));
        let cancel = Arc::new(AtomicBool::new(false));
        let job = {
            let mut jobs = app.jobs.jobs.lock().unwrap_or_else(|e| e.into_inner());
            jobs.push(Job {
                state: state.clone(),
                cancel: cancel.clone(),
            });
            jobs.len() - 1
        };
        if let Work::Rollback(run) = work {
            if let Ok(mut m) = app.jobs.by_run.lock() {
                m.insert(run, job);
            }
            if let Ok(mut s) = state.lock() {
                s.run = Some(run);
                s.stage = "Rolling back".into();
            }
        }
        let reporter = Reporter {
            state: state.clone(),
            cancel,
            jobs: app.clone(),
            job,
            hold: Mutex::new(hold),
        };
        let db = app.db.clone();
        let mut work = work;
        if let Work::Import(opts) = &mut work {
            opts.fingerprint_key = app.fingerprint_key.clone();
            opts.actor = Some(actor.to_string());
        }
        let actor = actor.to_string();
        std::thread::spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_work(&db, work, &reporter, &actor)
            }));
            crate::release_memory();
            let mut s = reporter.state.lock().unwrap_or_else(|e| e.into_inner());
            s.finished = true;
            match result {
                Ok(Ok(msg)) => s.outcome = Some(msg),
                Ok(Err(e)) => {
                    s.failed = true;
                    s.outcome = Some(e.to_string());
                }
                Err(_) => {
                    s.failed = true;
                    s.outcome = Some("internal error: the work stopped unexpectedly".into());
                }
            }
            drop(s);
            // A run that ended (or was rolled back) may leave uploads no longer needed.
            reporter.release();
            reporter.jobs.sweep(false);
        });
        // The run page needs the run's number: wait for the engine to record it.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = state.lock().map(|s| s.clone()).unwrap_or_default();
            if s.run.is_some() || s.finished || Instant::now() > deadline {
                return (s.run, s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The live state of the work on `run`, if the console is doing it or did it.
    pub fn of_run(&self, run: i64) -> Option<JobState> {
        let i = *self.by_run.lock().ok()?.get(&run)?;
        let jobs = self.jobs.lock().ok()?;
        let s = jobs.get(i)?.state.lock().ok()?.clone();
        Some(s)
    }

    /// Asks the work on `run` to stop at its next checkpoint. Returns whether it is running.
    pub fn cancel(&self, run: i64) -> bool {
        let Some(i) = self.by_run.lock().ok().and_then(|m| m.get(&run).copied()) else {
            return false;
        };
        let Ok(jobs) = self.jobs.lock() else {
            return false;
        };
        match jobs.get(i) {
            Some(j) if !j.state.lock().map(|s| s.finished).unwrap_or(true) => {
                j.cancel.store(true, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }
}

/// Why a piece of background work failed, as its run's page says it.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error("{0}")]
    Open(#[from] ferry_store::StoreError),
    #[error("interrupted: {cause}; it can be resumed")]
    Interrupted { cause: Box<RunError> },
    #[error("{source} ({aftermath})")]
    Import {
        #[source]
        source: Box<RunError>,
        aftermath: String,
    },
    #[error("{0}")]
    Rollback(#[source] Box<RunError>),
}

/// How an import ended, in words.
fn import_outcome(s: &ferry_engine::Summary) -> String {
    let what = if s.mode == RunMode::TestOnly {
        "The test run"
    } else {
        "The run"
    };
    let how = match s.status {
        RunStatus::Succeeded => "finished without errors",
        RunStatus::CompletedWithErrors => "finished with errors",
        other => other.as_str(),
    };
    let kept = match (s.mode, s.status) {
        (RunMode::TestOnly, _) => "; nothing was kept",
        (_, RunStatus::CompletedWithErrors) => "; the records without errors were imported",
        _ => "",
    };
    let key = match &s.fingerprint_key_created {
        Some(k) => {
            // The operator backs it up: the console's log names the file; its pages do not.
            eprintln!(
                "ferry serve: run {} made a new fingerprint key for card and account numbers: {} — back it up apart from the database",
                s.run,
                k.display()
            );
            ". A new fingerprint key for card and account numbers was made on the console's machine (the console's log names its file): back it up apart from the database".to_string()
        }
        None => String::new(),
    };
    format!(
        "{what} {how}: {}, {}{kept}{key}",
        crate::view::counted(s.errors as i64, "error", "errors"),
        crate::view::counted(s.warnings as i64, "warning", "warnings")
    )
}

fn run_work(db: &str, work: Work, reporter: &Reporter, actor: &str) -> Result<String, JobError> {
    let t = Target::open_db(db)?;
    match work {
        Work::Import(opts) => match ferry_engine::import(&t, &opts, reporter) {
            Ok(s) => Ok(import_outcome(&s)),
            Err(RunError::Interrupted { run, cause }) => {
                reporter.started(run);
                Err(JobError::Interrupted { cause })
            }
            Err(e) => Err(JobError::Import {
                aftermath: e.aftermath(),
                source: Box::new(e),
            }),
        },
        Work::Rollback(run) => match ferry_engine::rollback::rollback_by(&t, run, actor) {
            Ok(u) => Ok(format!(
                "Rolled back: {} removed, {} restored.",
                crate::view::counted(u.deleted as i64, "row", "rows"),
                crate::view::counted(u.restored as i64, "change", "changes")
            )),
            Err(e) => Err(JobError::Rollback(Box::new(e))),
        },
    }
}
