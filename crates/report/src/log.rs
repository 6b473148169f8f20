//! Findings logs (SPEC §10): `.jsonl`, `.csv` (formula-safe) and a self-contained `.html`
//! (written by [`crate::html`]).

use crate::html::{self, HtmlWriter};
use ferry_findings::Finding;
use ferry_store::journal::FindingOrder;
use ferry_store::Target;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// The log format chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Jsonl,
    Csv,
    Html,
}

impl LogFormat {
    pub fn from_path(p: &Path) -> Option<LogFormat> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "jsonl" | "json" => Some(LogFormat::Jsonl),
            "csv" => Some(LogFormat::Csv),
            "html" | "htm" => Some(LogFormat::Html),
            _ => None,
        }
    }
}

/// The columns of the CSV log, in order (SPEC §10).
pub const COLUMNS: [&str; 14] = [
    "run", "severity", "code", "entity", "key", "file", "sheet", "row", "column", "field", "value",
    "message", "hint", "location",
];

/// A cell that a spreadsheet could run as a formula gets a leading `'`.
pub fn formula_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Where a log's findings go.
enum Sink {
    Jsonl(BufWriter<std::fs::File>),
    Csv(Box<csv::Writer<BufWriter<std::fs::File>>>),
    Html(Box<HtmlWriter<BufWriter<std::fs::File>>>),
}

/// Streams findings into a log file.
pub struct LogWriter {
    sink: Sink,
    run: i64,
    rows: u64,
}

impl LogWriter {
    /// A log of findings only; an HTML log says nothing about the run but its id (see
    /// [`LogWriter::for_run`]).
    pub fn create(path: &Path, run: i64) -> io::Result<LogWriter> {
        LogWriter::with_context(path, &html::Context::bare(run))
    }

    /// A log of `run`; an HTML log also carries the run's summary, reconciliation and counts
    /// from the journal of `target` (or only the findings, if those cannot be read).
    pub fn for_run(path: &Path, target: &Target, run: i64) -> io::Result<LogWriter> {
        let ctx = if LogFormat::from_path(path) == Some(LogFormat::Html) {
            html::context(target, run).unwrap_or_else(|_| html::Context::bare(run))
        } else {
            html::Context::bare(run)
        };
        LogWriter::with_context(path, &ctx)
    }

    fn with_context(path: &Path, ctx: &html::Context) -> io::Result<LogWriter> {
        let format = LogFormat::from_path(path)
            .ok_or_else(|| io::Error::other("the log's name must end in .jsonl, .csv or .html"))?;
        let out = BufWriter::with_capacity(256 * 1024, std::fs::File::create(path)?);
        let sink = match format {
            LogFormat::Csv => {
                let mut c = csv::Writer::from_writer(out);
                c.write_record(COLUMNS)?;
                Sink::Csv(Box::new(c))
            }
            LogFormat::Html => Sink::Html(Box::new(HtmlWriter::begin(out, ctx)?)),
            LogFormat::Jsonl => Sink::Jsonl(out),
        };
        Ok(LogWriter {
            sink,
            run: ctx.run,
            rows: 0,
        })
    }

    pub fn write(&mut self, f: &Finding) -> io::Result<()> {
        self.rows += 1;
        match &mut self.sink {
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, &f.to_json(self.run))?;
                out.write_all(b"\n")
            }
            Sink::Csv(c) => {
                let j = f.to_json(self.run);
                let get = |k: &str| match &j[k] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let mut row: Vec<String> = COLUMNS[..13]
                    .iter()
                    .map(|c| formula_safe(&get(c)))
                    .collect();
                row.push(formula_safe(&f.location.to_string()));
                c.write_record(&row).map_err(io::Error::other)
            }
            Sink::Html(h) => h.write(f),
        }
    }

    pub fn finish(self) -> io::Result<u64> {
        match self.sink {
            Sink::Csv(mut c) => c.flush()?,
            Sink::Html(h) => {
                h.finish()?;
            }
            Sink::Jsonl(mut out) => out.flush()?,
        }
        Ok(self.rows)
    }
}

/// Writes every finding of `run` from the journal to `path` (.csv, .jsonl or .html by its name):
/// what `--log` and the console's downloads write. The logs a script reads keep the order the
/// findings were found in; the HTML report lists them as the console does (errors, warnings,
/// notes; root causes first).
pub fn write_run_log(target: &Target, run: i64, path: &Path) -> io::Result<()> {
    let mut w = LogWriter::for_run(path, target, run)?;
    let order = match LogFormat::from_path(path) {
        Some(LogFormat::Html) => FindingOrder::Reading,
        _ => FindingOrder::Found,
    };
    target
        .findings_in(run, order, |f| w.write(&f))
        .map_err(io::Error::other)?;
    w.finish().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_safety() {
        assert_eq!(formula_safe("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(formula_safe("-5"), "'-5");
        assert_eq!(formula_safe("@x"), "'@x");
        assert_eq!(formula_safe("plain"), "plain");
    }
}
