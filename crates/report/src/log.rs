//! Findings logs (SPEC §10): `.jsonl`, `.csv` (formula-safe) and a self-contained `.html`.

use ferry_findings::Finding;
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

/// Streams findings into a log file.
pub struct LogWriter {
    format: LogFormat,
    out: BufWriter<std::fs::File>,
    csv: Option<csv::Writer<BufWriter<std::fs::File>>>,
    run: i64,
    rows: u64,
}

impl LogWriter {
    pub fn create(path: &Path, run: i64) -> io::Result<LogWriter> {
        let format = LogFormat::from_path(path)
            .ok_or_else(|| io::Error::other("the log's name must end in .jsonl, .csv or .html"))?;
        let file = std::fs::File::create(path)?;
        let mut w = LogWriter {
            format,
            out: BufWriter::new(file.try_clone()?),
            csv: None,
            run,
            rows: 0,
        };
        match format {
            LogFormat::Csv => {
                let mut c = csv::Writer::from_writer(BufWriter::new(file));
                c.write_record(COLUMNS)?;
                w.csv = Some(c);
            }
            LogFormat::Html => w
                .out
                .write_all(HTML_HEAD.replace("{run}", &run.to_string()).as_bytes())?,
            LogFormat::Jsonl => {}
        }
        Ok(w)
    }

    pub fn write(&mut self, f: &Finding) -> io::Result<()> {
        self.rows += 1;
        let j = f.to_json(self.run);
        match self.format {
            LogFormat::Jsonl => {
                serde_json::to_writer(&mut self.out, &j)?;
                self.out.write_all(b"\n")
            }
            LogFormat::Csv => {
                let get = |k: &str| match &j[k] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let mut row: Vec<String> = COLUMNS[..13]
                    .iter()
                    .map(|c| formula_safe(&get(c)))
                    .collect();
                row.push(formula_safe(&f.location.to_string()));
                self.csv
                    .as_mut()
                    .expect("csv")
                    .write_record(&row)
                    .map_err(io::Error::other)
            }
            LogFormat::Html => {
                let esc = |s: &str| {
                    s.replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                        .replace('"', "&quot;")
                };
                writeln!(
                    self.out,
                    "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    f.severity.as_str(),
                    f.severity.as_str(),
                    esc(f.code.as_str()),
                    esc(f.entity.unwrap_or("")),
                    esc(f.key.as_deref().unwrap_or("")),
                    esc(&f.location.to_string()),
                    esc(f.field.as_deref().unwrap_or("")),
                    esc(&f.message),
                    esc(f.hint.as_deref().unwrap_or(""))
                )
            }
        }
    }

    pub fn finish(mut self) -> io::Result<u64> {
        match self.format {
            LogFormat::Csv => self.csv.take().expect("csv").flush()?,
            LogFormat::Html => self.out.write_all(HTML_TAIL.as_bytes())?,
            LogFormat::Jsonl => {}
        }
        self.out.flush()?;
        Ok(self.rows)
    }
}

const HTML_HEAD: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry run {run}: findings</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
tr.error td:first-child{color:#b00020;font-weight:600}tr.warning td:first-child{color:#8a6d00}
input{padding:4px;width:24em}
</style></head><body>
<h1>Ferry run {run}: findings</h1>
<p><input id="q" placeholder="Filter (code, entity, file, message…)" oninput="f()"></p>
<table><thead><tr><th>severity</th><th>code</th><th>entity</th><th>key</th><th>location</th><th>field</th><th>message</th><th>hint</th></tr></thead><tbody id="b">
"#;

const HTML_TAIL: &str = r#"</tbody></table>
<script>
function f(){var q=document.getElementById('q').value.toLowerCase();
for(const r of document.getElementById('b').rows){r.style.display=r.textContent.toLowerCase().includes(q)?'':'none'}}
</script></body></html>
"#;

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
