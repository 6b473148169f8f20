//! `ferry`: the command line (SPEC §13). Only glue: parse flags, call the library crates, print,
//! and map failures to the exit codes 0 (ok), 1 (record errors), 2 (usage, input, target), 3.

/// `eprintln!` that never panics: a closed stderr (`ferry … 2>&1 | head`) must not crash a run.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// `println!` that never panics on a closed stdout.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

mod digest;
mod logins;
mod map;
mod map_preview;
mod map_store;
mod map_suggest;
mod progress;
mod rejected;
mod runs;
mod summary;
mod text;
mod upgrade;

/// mimalloc rather than the system allocator: an import allocates and frees a string per text
/// cell on two threads, and glibc's malloc/free took about a quarter of the CPU (perf, 100k
/// accounts); with mimalloc the same import needs about 35 % less CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{anyhow, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ferry_engine::{ImportOptions, OnExisting, OptionTexts};
use ferry_report::export::{export, ExportFormat};
use ferry_store::Target;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ferry",
    version,
    about = "Ferry moves member and billing data out of a legacy system, safely."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The target when none is named: `./ferry.db`.
const DEFAULT_DB: &str = "ferry.db";

#[derive(Args, Clone)]
struct DbArg {
    /// The target: a SQLite file path (default ./ferry.db) or a postgres:// URL.
    #[arg(long, env = "FERRY_DB", default_value = DEFAULT_DB, global = true)]
    db: String,
}

/// The fingerprint key file of card and account numbers (SPEC §4.6): never in the target.
#[derive(Args, Clone)]
struct KeyArg {
    /// The file holding the target's fingerprint key for card and account numbers (64 hex
    /// digits). By default the key is found by the identifier the target records, in
    /// <data dir>/ferry/fingerprint-keys/; a live run on a target without a key makes one there
    /// (or in FILE, when FILE does not exist yet).
    #[arg(long, env = "FERRY_FINGERPRINT_KEY_FILE", value_name = "FILE")]
    fingerprint_key: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Create a target with the default setup data, or check an existing one.
    Init {
        #[command(flatten)]
        db: DbArg,
    },
    /// Import XML files, workbooks or CSV folders.
    Import(ImportArgs),
    /// Legacy certification data (SPEC §11).
    Certification {
        #[command(subcommand)]
        what: CertificationCmd,
    },
    /// List runs; `ferry runs show RUN` shows one.
    Runs {
        #[command(flatten)]
        db: DbArg,
        #[command(subcommand)]
        show: Option<RunsCmd>,
    },
    /// Continue an interrupted live run from its last checkpoint.
    Resume {
        run: i64,
        #[command(flatten)]
        db: DbArg,
        /// Write all findings of the run to FILE (.jsonl, .csv or .html).
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// List every entity type in the summary, also those whose records were all imported.
        #[arg(long)]
        verbose: bool,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Undo a live run: remove what it created, restore what it changed.
    Rollback {
        run: i64,
        #[command(flatten)]
        db: DbArg,
    },
    /// Write the source rows a run rejected, in their original layout with a `Ferry findings`
    /// column, to correct and import again: a workbook per workbook input, a CSV file per CSV
    /// file, a zip of CSV files per CSV folder (not for XML or mapped inputs yet). Run it from
    /// the folder the import ran in; inputs changed since the run are refused. The paths
    /// written go to stdout.
    Rejected {
        /// The run's number (`ferry runs` lists them).
        run: i64,
        #[command(flatten)]
        db: DbArg,
        /// The file to write (.xlsx, .csv or .zip, after the input); for a run of several
        /// inputs, or when OUT is a folder, the folder that gets <input>-rejected.<ext> each.
        #[arg(long, value_name = "OUT")]
        out: PathBuf,
    },
    /// Print a run's reconciliation again.
    Reconcile {
        run: i64,
        #[command(flatten)]
        db: DbArg,
    },
    /// Export the target's records.
    Export {
        #[command(flatten)]
        db: DbArg,
        #[arg(long, value_enum)]
        format: Format,
        /// The file (xml, xlsx) or folder (csv) to write.
        out: PathBuf,
        /// Only these entity types (comma-separated).
        #[arg(long, value_delimiter = ',')]
        entities: Option<Vec<String>>,
        /// CSV to open in a spreadsheet: values starting with = + - @ (a formula to a
        /// spreadsheet) get a leading ' . Not for re-import; plain --format csv is exact, and
        /// --format xlsx writes text cells only.
        #[arg(long)]
        formula_safe: bool,
    },
    /// Web logins of accounts: list, assign usernames and temporary passwords, reset tokens,
    /// and check passwords and tokens as a member site would.
    Logins {
        #[command(subcommand)]
        what: logins::LoginsCmd,
    },
    /// Mappings of legacy exports (SPEC §15): suggest one, preview it, keep it in the target.
    Map {
        #[command(subcommand)]
        what: map::MapCmd,
    },
    /// Reports on the target.
    Report {
        #[command(subcommand)]
        what: ReportCmd,
    },
    /// The format reference, generated from the catalogue and the mapping reference.
    Schema {
        /// Print Markdown (the default and only format for now).
        #[arg(long)]
        markdown: bool,
    },
    /// Upgrade a target to this Ferry's schema version: check, rehearse on a copy, apply.
    Upgrade {
        #[command(subcommand)]
        what: UpgradeCmd,
    },
    /// Move configuration (setup entities, saved mappings and queries) between targets.
    Config {
        #[command(subcommand)]
        what: ConfigCmd,
    },
    /// The web console for staff: runs, uploads, live progress, findings, records,
    /// certification and upgrade in a browser (binds to 127.0.0.1 unless told otherwise).
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// Create (or reset) an admin with this e-mail and exit; the password is read from
        /// FERRY_ADMIN_PASSWORD or the terminal.
        #[arg(long, value_name = "EMAIL")]
        create_admin: Option<String>,
        /// Create (or reset) a read-only viewer and exit (password as for --create-admin).
        #[arg(long, value_name = "EMAIL")]
        create_viewer: Option<String>,
        /// Where uploads and generated files are kept (never served as files); by default a
        /// folder beside a SQLite target, or ./ferry-console for PostgreSQL.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Largest upload, in MiB.
        #[arg(long, default_value_t = 256)]
        max_upload_mib: usize,
        /// Mark cookies Secure, the session cookie as __Host- (serve behind a TLS proxy); an
        /// https:// --public-url implies it.
        #[arg(long)]
        secure_cookies: bool,
        /// Also answer to this host name (NAME, or NAME:PORT); repeatable. By default the
        /// console answers only to localhost, 127.0.0.1, [::1] and the --bind address, with its
        /// port: any other Host gets 421 (this defeats DNS rebinding). Forms are accepted from
        /// the exact origin: http(s)://NAME on the default port (80, 443) for a NAME without a
        /// port, that port otherwise.
        #[arg(long, value_name = "NAME")]
        allowed_host: Vec<String>,
        /// The address staff open the console at, e.g. https://ferry.example.org behind a TLS
        /// proxy: its host is allowed, forms posted from that exact origin are accepted, and an
        /// https:// one makes the cookies Secure. Give --trusted-proxy too.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// A proxy in front of the console: its address or a CIDR range (127.0.0.1, ::1,
        /// 10.0.0.0/8), repeatable. Only for requests from one is the client address taken
        /// from X-Forwarded-For (read from the right, up to the first address that is not a
        /// trusted proxy), for the sign-in throttle. IPv4-mapped IPv6 addresses count as IPv4.
        #[arg(long, value_name = "ADDR[/BITS]")]
        trusted_proxy: Vec<ferry_web::TrustedProxy>,
        /// Days an upload is kept after the last of its runs ended. Always kept: the upload of a
        /// run that can still be resumed; and that of a clean test run not yet run live, at
        /// least a day. So 0 means "as soon as nothing can use it": at once after a live run or
        /// a test run with errors; after a clean test run, once it is run live (or after a
        /// day). Removed once all its runs are rolled back.
        #[arg(long, value_name = "DAYS", default_value_t = 30)]
        retain_uploads_days: u64,
        /// Seconds a saved query of the Queries page may run before it is stopped.
        #[arg(long, value_name = "SECS", default_value_t = 10)]
        query_seconds: u64,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Write an empty workbook to fill in by hand: a sheet per entity type in processing order,
    /// a comment and a note per field, drop-down lists from the target's setup data.
    Template {
        #[command(flatten)]
        db: DbArg,
        /// The workbook (.xlsx) to write.
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum CertificationCmd {
    /// Migrate legacy certification programs, components and registrations (CSV folders,
    /// workbooks or XML with LegacyProgram, LegacyComponent, LegacyProgramComponent and
    /// LegacyRegistration records) into certification programs, registrations and enrollments.
    /// The same run as an import: test-only, --log, --json, resume, rollback.
    Migrate(MigrateArgs),
}

#[derive(Args)]
struct MigrateArgs {
    #[command(flatten)]
    run: ImportArgs,
    /// Add a component a registration names to its program when the program does not contain
    /// it (listed at the end, so that it can be removed afterwards).
    #[arg(long)]
    add_missing_components: bool,
}

#[derive(Subcommand)]
enum UpgradeCmd {
    /// The pending schema migrations, and every database object that is not part of Ferry's
    /// schema (the customization audit), marked when a pending migration would drop or break it.
    Check {
        #[command(flatten)]
        db: DbArg,
        /// Print the check as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Apply the upgrade to a copy of the target and run the post-upgrade checks there; the
    /// target is not touched.
    Rehearse {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
        /// Keep the upgraded copy (a file beside the target, or a database on the same server).
        #[arg(long)]
        keep: bool,
    },
    /// Back up, migrate and check, in one transaction: any failure leaves the target as it was.
    Apply {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
        /// Skip the backup copy taken before migrating.
        #[arg(long)]
        no_backup: bool,
        /// Upgrade although customizations would be dropped, broken or in the way.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Write the target's setup entities, saved mappings and saved queries to FILE (.xml or
    /// .xlsx, or a CSV folder).
    Export {
        #[command(flatten)]
        db: DbArg,
        file: PathBuf,
    },
    /// Import a configuration file into the target: new records are added, changed ones
    /// updated, identical ones skipped (importing twice changes nothing).
    Import {
        #[command(flatten)]
        db: DbArg,
        file: PathBuf,
        /// Check the file against the target and write nothing.
        #[arg(long)]
        test_only: bool,
        /// Write all findings to FILE (.jsonl, .csv or .html).
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ReportCmd {
    /// One row per account: User, Balance, OpenInvoices, Undisbursed.
    Balances {
        #[command(flatten)]
        db: DbArg,
        #[arg(long, value_enum, default_value = "csv")]
        format: TableFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormat {
    Csv,
    Json,
}

#[derive(Subcommand)]
enum RunsCmd {
    /// One run: options, counters, findings by code, the ledger.
    Show {
        run: i64,
        /// List every entity type, also those whose records were all imported.
        #[arg(long)]
        verbose: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Xml,
    Xlsx,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExistingArg {
    Error,
    Skip,
    Update,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum DateOrderArg {
    Mdy,
    Dmy,
}

#[derive(Args)]
struct ImportArgs {
    /// Input files (.xml, .xlsx) or CSV folders.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    db: DbArg,
    /// Do everything a live run does, then roll the data back (findings and counters remain).
    #[arg(long)]
    test_only: bool,
    /// Write all findings to FILE (.jsonl, .csv or .html).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Write a copy of the workbook input with error cells red, warning cells yellow, a comment
    /// on each and a first sheet `Findings` (several workbooks: OUT-<input>.xlsx each).
    #[arg(long, value_name = "OUT.xlsx")]
    annotate: Option<PathBuf>,
    /// Import only the first N accounts and their records (0 = all).
    #[arg(long, value_name = "N")]
    max_records: Option<u64>,
    /// What a record whose key exists in the target does.
    #[arg(long, value_enum, default_value = "error")]
    on_existing: ExistingArg,
    /// Write nothing if any record has an error.
    #[arg(long)]
    all_or_nothing: bool,
    /// Create web logins for accounts (overrides the Options sheet).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    create_accounts: Option<bool>,
    /// Order of day and month in slash dates.
    #[arg(long, value_enum)]
    date_order: Option<DateOrderArg>,
    /// Accept references that match only ignoring case and spacing (with a warning).
    #[arg(long)]
    fold_case: bool,
    /// Continue an interrupted run of the same inputs (a new run when there is none).
    #[arg(long)]
    resume: bool,
    /// Skip the backup of a SQLite target before a live run.
    #[arg(long)]
    no_backup: bool,
    /// Encoding of CSV files (e.g. windows-1252, latin1, utf-16le); UTF-8 by default.
    #[arg(long, value_name = "NAME")]
    encoding: Option<String>,
    /// Read files, sheets or XML elements in their own shape through a mapping: a mapping
    /// file, or the name of one kept in the target (`ferry map save`; `saved:NAME` never reads
    /// a file). See `ferry map suggest`.
    #[arg(long, value_name = "M")]
    mapping: Option<String>,
    /// This run retries run RUN with the same (or corrected) files: ledger rows that RUN, the
    /// runs it retried and their live runs imported are skipped as already imported
    /// (`ledger.duplicate_skipped`), whatever --on-existing says.
    #[arg(long, value_name = "RUN")]
    retry_of: Option<i64>,
    /// Largest ticket attachment in bytes.
    #[arg(long, value_name = "N", default_value_t = 2 * 1024 * 1024)]
    max_attachment_bytes: u64,
    /// Region for phone numbers without a country code (ISO 3166 alpha-2).
    #[arg(long, value_name = "CC", default_value = "US")]
    phone_region: String,
    /// Print a machine-readable run summary on stdout (the summary for people goes to stderr).
    #[arg(long)]
    json: bool,
    /// List every entity type in the summary (also those whose records were all imported) and
    /// every finding code with examples, notes too.
    #[arg(long)]
    verbose: bool,
    /// Run in the background: start the run detached from this terminal, write its output to
    /// a file, and return at once (follow it with `ferry runs`).
    #[arg(long)]
    detach: bool,
    /// Records per committed chunk of a live run.
    #[arg(long, default_value_t = 10_000, hide = true)]
    chunk_size: usize,
    #[command(flatten)]
    key: KeyArg,
}

/// A failure with the exit status it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: 2,
            error: e.into(),
        }
    }
}

fn main() -> ExitCode {
    // A bug must still end with a clear message and exit status, never a bare trace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        say!("ferry: internal error, please report it: {msg}{at}");
    }));
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            say!("ferry: error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

/// Whether an I/O error somewhere in `e`'s chain is a closed pipe (`ferry … | head`).
fn broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(e), |e| e.source()).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn open(db: &str) -> Result<Target, Failure> {
    Ok(Target::open_db(db)?)
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Init { db } => {
            let (t, created) = Target::init_db(&db.db)?;
            if created {
                say!("Created target {} with the default setup data.", t.name());
            } else {
                say!(
                    "Target {} is ready (schema version {}).",
                    t.name(),
                    ferry_store::schema::SCHEMA_VERSION
                );
            }
            Ok(0)
        }
        Command::Import(args) => import(args, ferry_engine::RunKind::Import, false),
        Command::Certification {
            what: CertificationCmd::Migrate(m),
        } => import(
            m.run,
            ferry_engine::RunKind::Certification,
            m.add_missing_components,
        ),
        Command::Runs { db, show } => {
            let t = open(&db.db)?;
            let text = match show {
                None => runs::list(&t)?,
                Some(RunsCmd::Show { run, verbose }) => runs::show(&t, run, verbose)?,
            };
            out!("{}", text.trim_end());
            Ok(0)
        }
        Command::Resume {
            run,
            db,
            log,
            json,
            verbose,
            key,
        } => {
            let t = open(&db.db)?;
            let mut opts = ferry_engine::recorded_options(&t, run)?.ok_or_else(|| {
                anyhow!("there is no run {run} in this target, or it was not an import")
            })?;
            opts.resume_run = Some(run);
            opts.limits = limits_from_env()?;
            opts.fingerprint_key = key.fingerprint_key;
            run_import(
                &t,
                opts,
                Report {
                    log,
                    json,
                    verbose,
                    temporary: false,
                },
                vec![],
            )
        }
        Command::Rollback { run, db } => {
            let t = open(&db.db)?;
            match ferry_engine::rollback::rollback(&t, run) {
                Ok(u) => {
                    say!(
                        "Run {run} is rolled back: {} removed, {} restored.",
                        text::count(u.deleted, "row", "rows"),
                        text::count(u.restored, "change", "changes")
                    );
                    Ok(0)
                }
                Err(e) => Err(Failure {
                    code: e.exit_code() as u8,
                    error: anyhow!("{e}"),
                }),
            }
        }
        Command::Rejected { run, db, out } => rejected::run(&open(&db.db)?, run, &out),
        Command::Reconcile { run, db } => {
            let t = open(&db.db)?;
            let r = ferry_report::reconcile::reconcile(&t, run)?
                .ok_or_else(|| anyhow!("there is no run {run} in this target"))?;
            out!("{}", ferry_report::reconcile::text(&r).trim_end());
            if !r.balanced {
                say!("Run {run} does not reconcile: see the accounts listed above.");
            }
            Ok(if r.balanced { 0 } else { 1 })
        }
        Command::Export {
            db,
            format,
            out,
            entities,
            formula_safe,
        } => {
            let f = match (format, formula_safe) {
                (Format::Xml, false) => ExportFormat::Xml,
                (Format::Csv, false) => ExportFormat::Csv,
                (Format::Csv, true) => ExportFormat::CsvFormulaSafe,
                (Format::Xlsx, false) => ExportFormat::Xlsx,
                (_, true) => {
                    return Err(anyhow!("--formula-safe is for --format csv (xml is not opened by a spreadsheet; xlsx cells are always text, never formulas)").into())
                }
            };
            let t = open(&db.db)?;
            let stats = export(&t, f, &out, entities.as_deref())?;
            let total: u64 = stats.iter().map(|(_, n)| n).sum();
            say!(
                "Exported {} of {} to {}.",
                text::count(total, "record", "records"),
                text::count(stats.len() as u64, "entity type", "entity types"),
                out.display()
            );
            Ok(0)
        }
        Command::Serve {
            db,
            bind,
            create_admin,
            create_viewer,
            data_dir,
            max_upload_mib,
            secure_cookies,
            allowed_host,
            public_url,
            trusted_proxy,
            retain_uploads_days,
            query_seconds,
            key,
        } => {
            let new_staff = create_admin
                .map(|e| (e, ferry_web::Role::Admin))
                .or(create_viewer.map(|e| (e, ferry_web::Role::Viewer)));
            if let Some((email, role)) = new_staff {
                let password = staff_password()?;
                ferry_web::create_staff(&db.db, &email, &password, role)?;
                say!(
                    "Staff account {email} ({}) is ready: sign in with `ferry serve --db {}`.",
                    role.as_str(),
                    db.db
                );
                return Ok(0);
            }
            let data_dir = data_dir.unwrap_or_else(|| {
                if ferry_store::pg::is_url(&db.db) {
                    PathBuf::from("ferry-console")
                } else {
                    PathBuf::from(format!("{}.console", db.db))
                }
            });
            // mimalloc keeps freed memory for reuse; a console that just read a large upload
            // gives it back after the job.
            ferry_web::set_memory_release(|| {
                // SAFETY: mi_collect takes no pointers; `true` also purges what was freed.
                unsafe { libmimalloc_sys::mi_collect(true) }
            });
            ferry_web::serve(ferry_web::Config {
                db: db.db,
                bind,
                data_dir,
                max_upload_bytes: max_upload_mib.max(1) * 1024 * 1024,
                secure_cookies,
                allowed_hosts: allowed_host,
                public_url,
                trusted_proxies: trusted_proxy,
                retain_uploads: std::time::Duration::from_secs(
                    retain_uploads_days.min(36_500) * 24 * 3600,
                ),
                fingerprint_key: key.fingerprint_key,
                query_time: std::time::Duration::from_secs(query_seconds.clamp(1, 3600)),
            })?;
            Ok(0)
        }
        Command::Upgrade { what } => match what {
            UpgradeCmd::Check { db, json } => upgrade::check(&db.db, json),
            UpgradeCmd::Rehearse { db, json, keep } => upgrade::rehearse(&db.db, json, keep),
            UpgradeCmd::Apply {
                db,
                json,
                no_backup,
                force,
            } => upgrade::apply(&db.db, json, no_backup, force),
        },
        Command::Config { what } => match what {
            ConfigCmd::Export { db, file } => {
                let t = open(&db.db)?;
                let f = match file.extension().and_then(|e| e.to_str()) {
                    Some(e) if e.eq_ignore_ascii_case("xml") => ExportFormat::Xml,
                    Some(e) if e.eq_ignore_ascii_case("xlsx") => ExportFormat::Xlsx,
                    _ => ExportFormat::Csv,
                };
                let entities: Vec<String> = ferry_catalogue::ENTITIES
                    .iter()
                    .filter(|e| e.is_configuration())
                    .map(|e| e.name.to_string())
                    .collect();
                let stats = export(&t, f, &file, Some(&entities))?;
                let total: u64 = stats.iter().map(|(_, n)| n).sum();
                say!(
                    "Exported the configuration ({total} records: setup, saved mappings, saved queries) to {}.",
                    file.display()
                );
                Ok(0)
            }
            ConfigCmd::Import {
                db,
                file,
                test_only,
                log,
                json,
            } => {
                // The same run as an import, with changed records updated.
                let mut argv: Vec<std::ffi::OsString> = vec![
                    "ferry".into(),
                    "import".into(),
                    file.into_os_string(),
                    "--db".into(),
                    db.db.into(),
                    "--on-existing".into(),
                    "update".into(),
                ];
                if test_only {
                    argv.push("--test-only".into());
                }
                if json {
                    argv.push("--json".into());
                }
                if let Some(log) = log {
                    argv.push("--log".into());
                    argv.push(log.into_os_string());
                }
                match Cli::try_parse_from(argv).map(|c| c.command) {
                    Ok(Command::Import(args)) => import(args, ferry_engine::RunKind::Config, false),
                    _ => Err(anyhow!("internal: config import arguments").into()),
                }
            }
        },
        Command::Logins { what } => logins::run(what),
        Command::Map { what } => map::run(what),
        Command::Report {
            what: ReportCmd::Balances { db, format },
        } => {
            let t = open(&db.db)?;
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            let r = match format {
                TableFormat::Csv => ferry_report::balances::write_csv(&t, out),
                TableFormat::Json => ferry_report::balances::write_json(&t, out),
            };
            match r {
                Err(e) if broken_pipe(&e) => {}
                other => other?,
            }
            Ok(0)
        }
        Command::Template { db, out } => {
            let t = open(&db.db)?;
            let s = ferry_report::template::write_template(&t, &out)?;
            say!(
                "Wrote {}: {} sheets in processing order, {} drop-down columns from {} lists.",
                out.display(),
                s.sheets,
                s.drop_downs,
                s.lists
            );
            if !s.empty_lists.is_empty() {
                say!(
                    "No drop-down (the target has none yet) for: {}.",
                    s.empty_lists.join(", ")
                );
            }
            Ok(0)
        }
        Command::Schema { markdown: _ } => {
            {
                use std::io::Write as _;
                let _ = write!(
                    std::io::stdout(),
                    "{}\n{}",
                    ferry_catalogue::markdown(),
                    ferry_mapping::reference_markdown()
                );
            }
            Ok(0)
        }
    }
}

fn import(
    a: ImportArgs,
    kind: ferry_engine::RunKind,
    add_missing_components: bool,
) -> Result<u8, Failure> {
    if a.detach {
        return detach(&a.db.db);
    }
    let mut opts = import_options(&a, kind, add_missing_components)?;
    if let Some(log) = &a.log {
        if ferry_report::log::LogFormat::from_path(log).is_none() {
            return Err(anyhow!(
                "--log {}: the name must end in .jsonl, .csv or .html",
                log.display()
            )
            .into());
        }
    }
    let mut seen = std::collections::HashSet::new();
    for input in &a.inputs {
        let real = input
            .canonicalize()
            .map_err(|_| anyhow!("{}: no such file or folder", input.display()))?;
        if !seen.insert(real) {
            return Err(anyhow!(
                "{} is given twice; each input is read once per run",
                input.display()
            )
            .into());
        }
    }
    let annotate = match &a.annotate {
        Some(out) => ferry_annotate::outputs(&a.inputs, out).map_err(|e| anyhow!(e))?,
        None => vec![],
    };
    // A log that cannot be written must stop the run before it starts, not after it committed.
    if let Some(log) = &a.log {
        std::fs::File::create(log)
            .with_context(|| format!("--log {}: cannot write there", log.display()))?;
    }
    // A test-only run with no target rehearses against a new one in a temporary folder (gone
    // when the run ends): a rehearsal leaves nothing behind, not even an empty `ferry.db`.
    let rehearsal = rehearsal_target(&a.db.db, opts.test_only)?;
    let db = rehearsal.as_ref().map_or(a.db.db.as_str(), |(_, db)| db);
    // A missing or empty target is created (a PostgreSQL database too: also one that a killed
    // run left half-created); an existing one is checked.
    let (target, created) = Target::init_db(db)?;
    if rehearsal.is_some() {
        say!(
            "There is no target at {}: this test run rehearses against a new, empty target with the default setup data, in a temporary folder that is removed when the run ends, so nothing is created at {} and `ferry runs` will not list the run. Keep its findings with --log FILE; to keep the run, make the target first (`ferry init`) or name one with --db.",
            a.db.db,
            a.db.db
        );
    } else if created {
        say!(
            "Created target {} with the default setup data.",
            target.name()
        );
    }
    opts.limits = limits_from_env()?;
    let report = Report {
        log: a.log,
        json: a.json,
        verbose: a.verbose,
        temporary: rehearsal.is_some(),
    };
    run_import(&target, opts, report, annotate)
}

/// For a test-only run on the default target `./ferry.db` when there is none: a temporary
/// folder and the path of a new target in it, to rehearse against (the folder goes when it is
/// dropped), so that a rehearsal in a folder leaves no `ferry.db` behind. `None`: the run uses
/// `db` itself (a live run, an existing target, a target named with `--db`/`FERRY_DB`, which
/// is made as a live run would make it, or a PostgreSQL URL).
fn rehearsal_target(db: &str, test_only: bool) -> Result<Option<(tempfile::TempDir, String)>> {
    if !test_only || db != DEFAULT_DB || Path::new(db).exists() {
        return Ok(None);
    }
    // Beside where the target would be, not in the system's temporary folder: that may be
    // memory (tmpfs), and a rehearsal of a million accounts writes a target of that size.
    let parent = Path::new(db)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = tempfile::Builder::new()
        .prefix(".ferry-rehearsal-")
        .tempdir_in(parent)
        .context("cannot make a temporary folder for the test run's target")?;
    let path = dir.path().join("ferry.db").display().to_string();
    Ok(Some((dir, path)))
}

/// The options the flags of an import give (limits aside): the text forms through the engine's
/// parser, every bad one told at once.
fn import_options(
    a: &ImportArgs,
    kind: ferry_engine::RunKind,
    add_missing_components: bool,
) -> Result<ImportOptions> {
    let mut opts = ImportOptions {
        inputs: a.inputs.clone(),
        test_only: a.test_only,
        max_records: a.max_records,
        on_existing: match a.on_existing {
            ExistingArg::Error => OnExisting::Error,
            ExistingArg::Skip => OnExisting::Skip,
            ExistingArg::Update => OnExisting::Update,
        },
        all_or_nothing: a.all_or_nothing,
        create_accounts: a.create_accounts,
        date_order: a.date_order.map(|d| match d {
            DateOrderArg::Mdy => ferry_validate_order::Mdy,
            DateOrderArg::Dmy => ferry_validate_order::Dmy,
        }),
        fold_case: a.fold_case,
        resume: a.resume,
        no_backup: a.no_backup,
        max_attachment_bytes: a.max_attachment_bytes,
        chunk_size: a.chunk_size.max(1),
        kind,
        add_missing_components,
        fingerprint_key: a.key.fingerprint_key.clone(),
        mapping: a.mapping.clone(),
        retry_of: a.retry_of,
        ..Default::default()
    };
    OptionTexts {
        encoding: a.encoding.as_deref(),
        phone_region: Some(&a.phone_region),
        ..Default::default()
    }
    .apply(&mut opts)?;
    Ok(opts)
}

/// How a run is reported: the log file, `--json`, `--verbose`.
struct Report {
    log: Option<PathBuf>,
    json: bool,
    verbose: bool,
    /// The run went into a temporary target (a rehearsal without one): nothing of it is kept.
    temporary: bool,
}

/// Runs (or resumes) an import and reports it: the summary on stdout (on stderr with `--json`,
/// whose document is then all of stdout), progress and diagnostics on stderr.
fn run_import(
    target: &Target,
    opts: ImportOptions,
    report: Report,
    annotate: Vec<(PathBuf, PathBuf)>,
) -> Result<u8, Failure> {
    let bar = progress::Bar::new(std::io::stderr().is_terminal());
    let result = ferry_engine::import(target, &opts, &bar);
    bar.clear();
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let code = e.exit_code() as u8;
            // The failed run is in the journal; its findings so far go to the log too. A run
            // refused before it started (another holds the target) has none: the newest run
            // in the journal is another process's.
            if let Some(log) = &report.log {
                if let Some(run) = bar.run() {
                    let _ = write_log(target, run, log);
                }
            }
            let after = e.aftermath();
            return Err(Failure {
                code,
                error: anyhow!("{e}\n  ({after})"),
            });
        }
    };
    if let Some(log) = &report.log {
        write_log(target, summary.run, log)
            .with_context(|| format!("writing the log {}", log.display()))?;
    }
    if !annotate.is_empty() {
        write_annotations(target, summary.run, &annotate)?;
    }
    let shown = summary::summary(
        target,
        &summary,
        report.log.as_deref(),
        report.verbose,
        report.temporary,
    )?;
    if report.json {
        say!("{}", shown.results.trim_end());
        out!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(|e| anyhow!(e))?
        );
    } else {
        out!("{}", shown.results.trim_end());
    }
    if !shown.diagnostics.is_empty() {
        say!("{}", shown.diagnostics.trim_end());
    }
    if summary.exit_code != 0 && !report.json {
        // A command that fails says why on stderr too: scripts and CI logs often keep only it.
        say!("{}", summary::outcome_line(&summary));
    }
    Ok(summary.exit_code as u8)
}

/// Reader limits (README, "Limits"): safe defaults, each overridable by an environment variable.
pub(crate) fn limits_from_env() -> Result<ferry_sources::Limits> {
    ferry_sources::Limits::from_env().map_err(|e| anyhow!(e))
}

mod ferry_validate_order {
    pub use ferry_validate::DateOrder::{Dmy, Mdy};
}

/// `--detach`: the same command again without `--detach`, in its own process group (a closed
/// terminal does not stop it), its output in a file only its owner can read; this process
/// returns at once. The target goes to the child in `FERRY_DB`, not among its arguments, which
/// every user of the machine can read (`ps`): a PostgreSQL URL may hold a password.
fn detach(db: &str) -> Result<u8, Failure> {
    use std::os::unix::fs::OpenOptionsExt as _;
    use std::os::unix::process::CommandExt as _;
    let args = without_db(std::env::args_os().skip(1));
    let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
    let log = PathBuf::from(format!("ferry-run-{stamp}-{}.log", std::process::id()));
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&log)
        .with_context(|| format!("{}: cannot write the detached run's output", log.display()))?;
    let child = std::process::Command::new(std::env::current_exe()?)
        .args(&args)
        .env("FERRY_DB", db)
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .process_group(0)
        .spawn()
        .context("cannot start the detached run")?;
    say!(
        "The run goes on in the background (process {}); its output goes to {}.",
        child.id(),
        log.display()
    );
    let db = ferry_store::pg::shown(db);
    say!(
        "Follow it with `ferry runs --db {db}` and `ferry runs show RUN`; if it is interrupted, `ferry resume RUN --db {db}` continues it."
    );
    Ok(0)
}

/// The arguments without `--detach` and without the target (`--db X`, `--db=X`); after `--`,
/// everything is kept.
fn without_db(mut args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = vec![];
    while let Some(a) = args.next() {
        if a == "--" {
            out.push(a);
            out.extend(args.by_ref());
            break;
        }
        if a == "--db" {
            args.next();
        } else if a != "--detach" && !a.to_str().is_some_and(|s| s.starts_with("--db=")) {
            out.push(a);
        }
    }
    out
}

/// A new staff member's password: FERRY_ADMIN_PASSWORD, else asked twice on the terminal, else
/// one line of standard input.
fn staff_password() -> Result<String> {
    if let Ok(p) = std::env::var("FERRY_ADMIN_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let b = rpassword::prompt_password("The same again: ")?;
        if a != b {
            return Err(anyhow!("the two passwords differ"));
        }
        return Ok(a);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn write_log(target: &Target, run: i64, path: &Path) -> Result<()> {
    ferry_report::log::write_run_log(target, run, path)?;
    Ok(())
}

/// `--annotate`: one marked copy per workbook input, from the run's findings in the journal.
fn write_annotations(target: &Target, run: i64, pairs: &[(PathBuf, PathBuf)]) -> Result<()> {
    let summaries = ferry_report::annotated::write_annotated(target, run, pairs)?;
    for ((input, out), s) in pairs.iter().zip(summaries) {
        say!(
            "Annotated copy of {} written to {}: {}, {} marked{}.",
            input.display(),
            out.display(),
            text::count(s.findings, "finding", "findings"),
            text::count(s.marked_cells, "cell", "cells"),
            if s.secrets > 0 {
                format!(
                    ", {} blanked or masked",
                    text::count(s.secrets, "secret cell", "secret cells")
                )
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
