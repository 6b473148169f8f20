//! `ferry rejected RUN --out OUT`: the source rows a run rejected, in their original layout with
//! a `Ferry findings` column (`ferry_report::rejected`), one file per input: a workbook for a
//! workbook, a CSV file for a CSV file, a zip of CSV files for a CSV folder.

use crate::Failure;
use anyhow::{anyhow, Context};
use ferry_sources::{Container, ReadOptions};
use ferry_store::journal::RunStatus;
use ferry_store::Target;
use std::path::{Path, PathBuf};

/// What an input is, for its rejected rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Workbook,
    CsvFile,
    CsvFolder,
}

impl Kind {
    fn ext(self) -> &'static str {
        match self {
            Kind::Workbook => "xlsx",
            Kind::CsvFile => "csv",
            Kind::CsvFolder => "zip",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Workbook => "a workbook",
            Kind::CsvFile => "a CSV file",
            Kind::CsvFolder => "a zip of CSV files",
        }
    }
}

/// One input of the run and where its rejected rows go.
struct Job {
    index: usize,
    input: PathBuf,
    kind: Kind,
    out: PathBuf,
}

/// Writes the rejected rows of run `run` to `out`; the written paths go to stdout.
pub(crate) fn run(t: &Target, run: i64, out: &Path) -> Result<u8, Failure> {
    let info = t
        .run(run)?
        .ok_or_else(|| anyhow!("there is no run {run} in this target"))?;
    if info.status == RunStatus::Running {
        return Err(
            anyhow!("run {run} is still running: its findings are not complete yet").into(),
        );
    }
    let opts = ferry_engine::recorded_options(t, run)?.ok_or_else(|| {
        anyhow!("run {run} records no inputs to read again (an older Ferry ran it)")
    })?;
    if opts.mapping.is_some() {
        return Err(anyhow!(
            "run {run} read its inputs through a mapping: rejected rows are not offered for mapped runs yet (a mapped file's columns are not the catalogue's, so its secret columns are not known); use `ferry runs show {run}` or the findings log instead"
        )
        .into());
    }
    let kinds = kinds(run, &opts.inputs)?;
    if ferry_engine::inputs_unchanged(t, run)? == Some(false) {
        return Err(anyhow!(
            "the inputs of run {run} changed since it ran (their content no longer matches the journal's hash), so their row numbers may no longer be the run's: import the current files again and ask for that run's rejected rows"
        )
        .into());
    }
    if info.errors == 0 {
        say!("Run {run} rejected no rows: nothing to write.");
        return Ok(0);
    }
    let jobs = plan(&opts.inputs, &kinds, out)?;
    for job in &jobs {
        write(t, run, job, &opts)?;
    }
    Ok(0)
}

/// Each input's kind; an input that is gone, or an XML file, stops the command.
fn kinds(run: i64, inputs: &[PathBuf]) -> Result<Vec<Kind>, Failure> {
    let mut out = vec![];
    for input in inputs {
        if !input.exists() {
            return Err(anyhow!(
                "{}: this input of run {run} is no longer there (inputs are found as the import named them, from the folder it ran in)",
                input.display()
            )
            .into());
        }
        out.push(match ferry_sources::detect(input)? {
            Container::Xlsx => Kind::Workbook,
            Container::CsvFile => Kind::CsvFile,
            Container::CsvFolder => Kind::CsvFolder,
            Container::Xml => {
                return Err(anyhow!(
                    "{}: rejected rows are offered for workbooks and CSV files, not yet for XML files (`ferry import --annotate` and the findings log locate an XML file's errors)",
                    input.display()
                )
                .into())
            }
        });
    }
    Ok(out)
}

/// Where each input's rejected rows go: `out` itself for a run of one input (unless `out` is a
/// folder); otherwise `<stem>-rejected.<ext>` in the folder `out`, made when missing.
fn plan(inputs: &[PathBuf], kinds: &[Kind], out: &Path) -> Result<Vec<Job>, Failure> {
    let folder = out.is_dir() || inputs.len() > 1 || out.to_string_lossy().ends_with('/');
    if !folder {
        let (input, kind) = (&inputs[0], kinds[0]);
        let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !ext.eq_ignore_ascii_case(kind.ext()) {
            return Err(anyhow!(
                "--out {}: {} read {}, so its rejected rows are {}: give a name ending in .{}",
                out.display(),
                input.display(),
                kind_of_input(kind),
                kind.what(),
                kind.ext()
            )
            .into());
        }
        let job = Job {
            index: 0,
            input: input.clone(),
            kind,
            out: out.to_path_buf(),
        };
        not_an_input(inputs, &job.out)?;
        return Ok(vec![job]);
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("--out {}: cannot make this folder", out.display()))?;
    let mut jobs: Vec<Job> = vec![];
    for (index, (input, kind)) in inputs.iter().zip(kinds).enumerate() {
        let name = out_name(input, *kind, |n| jobs.iter().any(|j| j.out == out.join(n)));
        let job = Job {
            index,
            input: input.clone(),
            kind: *kind,
            out: out.join(name),
        };
        not_an_input(inputs, &job.out)?;
        jobs.push(job);
    }
    Ok(jobs)
}

fn kind_of_input(kind: Kind) -> &'static str {
    match kind {
        Kind::Workbook => "a workbook",
        Kind::CsvFile => "a CSV file",
        Kind::CsvFolder => "a CSV folder",
    }
}

/// `<stem>-rejected.<ext>` (a folder's name for a CSV folder), numbered when `taken`.
fn out_name(input: &Path, kind: Kind, taken: impl Fn(&str) -> bool) -> String {
    let stem = match kind {
        Kind::CsvFolder => input.file_name(),
        _ => input.file_stem(),
    }
    .map(|s| s.to_string_lossy().into_owned())
    .unwrap_or_else(|| "input".into());
    let mut name = format!("{stem}-rejected.{}", kind.ext());
    let mut k = 2;
    while taken(&name) {
        name = format!("{stem}-rejected-{k}.{}", kind.ext());
        k += 1;
    }
    name
}

/// Refuses an output that would overwrite one of the inputs.
fn not_an_input(inputs: &[PathBuf], out: &Path) -> Result<(), Failure> {
    let real = ferry_annotate::real_path;
    let Some(o) = real(out) else {
        return Err(anyhow!("--out {}: its folder does not exist", out.display()).into());
    };
    if inputs.iter().any(|i| real(i).as_ref() == Some(&o)) {
        return Err(anyhow!(
            "--out {}: this is an input of the run; write the rejected rows elsewhere",
            out.display()
        )
        .into());
    }
    Ok(())
}

/// Writes one input's rejected rows; says where (stdout) and how many (stderr). An input
/// without rejected rows gets no file.
fn write(
    t: &Target,
    run: i64,
    job: &Job,
    opts: &ferry_engine::ImportOptions,
) -> Result<(), Failure> {
    // The run's findings name its input as the run showed it (as uploaded, for a console run).
    let shown = opts.shown.get(job.index).cloned();
    let name = shown
        .clone()
        .unwrap_or_else(|| job.input.display().to_string());
    let read = ReadOptions {
        encoding: opts.encoding,
        limits: crate::limits_from_env()?,
        raw: None,
        shown_as: shown.map(|n| (job.input.clone(), n)),
    };
    // The library writes a zip for CSV input; a single CSV file's one part is taken out of it.
    let written = if job.kind == Kind::CsvFile {
        part_file(&job.out)
    } else {
        job.out.clone()
    };
    let result = ferry_report::rejected::write_rejected(t, run, &job.input, &read, &written);
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&written);
            return Err(anyhow!("{name}: {e}").into());
        }
    };
    if summary.rows == 0 {
        let _ = std::fs::remove_file(&written);
        say!("{name}: no rejected rows (its errors, if any, are not of one row).");
        return Ok(());
    }
    if job.kind == Kind::CsvFile {
        let unzipped = only_part(&written, &job.out);
        let _ = std::fs::remove_file(&written);
        unzipped?;
    }
    out!("{}", job.out.display());
    say!(
        "{name}: {} rejected rows written to {} ({}).",
        summary.rows,
        job.out.display(),
        job.kind.what()
    );
    Ok(())
}

/// A scratch name beside `out` for the zip a CSV file's rows are first written to.
fn part_file(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!(".{name}.{}.zip", std::process::id()))
}

/// Copies the one file of the zip `zip` to `out`.
fn only_part(zip: &Path, out: &Path) -> Result<(), Failure> {
    let file = std::fs::File::open(zip).with_context(|| format!("{}", zip.display()))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| anyhow!(e))?;
    if archive.len() != 1 {
        return Err(anyhow!("internal: {} parts for one CSV file", archive.len()).into());
    }
    let mut part = archive.by_index(0).map_err(|e| anyhow!(e))?;
    let mut dest = std::fs::File::create(out)
        .with_context(|| format!("--out {}: cannot write there", out.display()))?;
    std::io::copy(&mut part, &mut dest)
        .with_context(|| format!("--out {}: cannot write there", out.display()))?;
    Ok(())
}
