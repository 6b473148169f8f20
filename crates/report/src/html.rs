//! The self-contained HTML report of a run (SPEC §10), in one file that makes no network
//! request, in the order a person reads it: the totals, what was rejected ("2,294 User records
//! rejected (+18,372 dependent records)") and the counts per code (errors, warnings, notes; root
//! causes first), then the findings table (location and message side by side, readable at
//! 1,024 px), then the run's facts and options, the reconciliation and the counts per entity.
//!
//! The static parts (everything a person reads before the table) are written first from a
//! [`Context`]; the findings are then streamed, one at a time, into one compact JSON array inside
//! a `<script type="application/json">` block, and a small vanilla script renders them into a
//! windowed table, so the page holds a few dozen rows in its DOM however many findings there are.
//!
//! Hostile input: every text of the static parts is HTML-escaped; in the JSON, `<`, `>` and `&`
//! are written as `\u003c`, `\u003e`, `\u0026`, so the data cannot close its script element or
//! open a comment; the script inserts texts with `textContent` only. A Content-Security-Policy
//! meta forbids every network access.

use crate::reconcile::Reconciliation;
use ferry_findings::{Code, Finding, Severity};
use ferry_store::journal::{RunInfo, RunMode};
use ferry_store::{StoreError, Target};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The policy of the report: nothing may be fetched, inline style and script only.
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// Findings of one severity and code in one entity type (`""` for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingCount {
    pub severity: Severity,
    pub code: String,
    pub entity: String,
    pub count: u64,
}

/// What the report says besides the findings themselves.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub run: i64,
    pub info: Option<RunInfo>,
    /// The target as shown (a path, or a URL without its password).
    pub target: Option<String>,
    pub reconciliation: Option<Reconciliation>,
    /// Counts per severity, code and entity; `None` leaves the counts section out.
    pub counts: Option<Vec<FindingCount>>,
    /// What was rejected, in a line (`FindingsSummary::headline`); `None` or empty: nothing.
    pub headline: Option<String>,
}

impl Context {
    /// A report of findings only (nothing known about the run but its id).
    pub fn bare(run: i64) -> Context {
        Context {
            run,
            ..Default::default()
        }
    }
}

/// Everything the report says about `run`, read from the journal of `target`.
pub fn context(target: &Target, run: i64) -> Result<Context, StoreError> {
    let mut counts = vec![];
    target.each(
        "SELECT severity, code, coalesce(entity, ''), count(*) FROM run_finding WHERE run_id = ?1 GROUP BY severity, code, entity",
        ferry_store::params![run],
        |r| {
            counts.push(FindingCount {
                severity: Severity::parse(&r.text(0)).unwrap_or(Severity::Error),
                code: r.text(1),
                entity: r.text(2),
                count: r.int(3) as u64,
            });
            Ok(())
        },
    )?;
    Ok(Context {
        run,
        info: target.run(run)?,
        target: Some(target.name()),
        reconciliation: crate::reconcile::reconcile(target, run)?,
        counts: Some(counts),
        headline: Some(crate::findings_summary::summary(target, run)?.headline()),
    })
}

/// Text for an element's content or a quoted attribute. Written here rather than taken from a
/// crate: the report has no template engine, and this is the one escaper it needs (the five
/// characters HTML gives meaning to; `'` as `&#39;`, which every browser and the snapshot know).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Writes `s` as a JSON string that is also safe inside a `<script>` element.
fn json_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    let b = s.as_bytes();
    let mut start = 0;
    for (i, ch) in s.char_indices() {
        let rep: Option<&[u8]> = match ch {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            '<' => Some(b"\\u003c"),
            '>' => Some(b"\\u003e"),
            '&' => Some(b"\\u0026"),
            '\u{2028}' => Some(b"\\u2028"),
            '\u{2029}' => Some(b"\\u2029"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => None,
            _ => continue,
        };
        out.write_all(&b[start..i])?;
        match rep {
            Some(r) => out.write_all(r)?,
            None => write!(out, "\\u{:04x}", ch as u32)?,
        }
        start = i + ch.len_utf8();
    }
    out.write_all(&b[start..])?;
    out.write_all(b"\"")
}

/// Strings that repeat across findings (codes, entities, files, sheets, fields), written once.
#[derive(Default)]
struct Dict {
    index: HashMap<String, u32>,
    list: Vec<String>,
}

impl Dict {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        let i = self.list.len() as u32;
        self.index.insert(s.to_string(), i);
        self.list.push(s.to_string());
        i
    }
}

/// Streams one run's report: [`HtmlWriter::begin`] writes the static parts, [`HtmlWriter::write`]
/// one finding, [`HtmlWriter::finish`] the dictionaries and the script.
pub struct HtmlWriter<W: Write> {
    out: W,
    rows: u64,
    dicts: [Dict; 5],
}

const D_CODE: usize = 0;
const D_ENTITY: usize = 1;
const D_FILE: usize = 2;
const D_SHEET: usize = 3;
const D_FIELD: usize = 4;

fn sev_rank(s: Severity) -> u8 {
    match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

impl<W: Write> HtmlWriter<W> {
    pub fn begin(mut out: W, ctx: &Context) -> io::Result<HtmlWriter<W>> {
        out.write_all(static_part(ctx).as_bytes())?;
        out.write_all(b"<script type=\"application/json\" id=\"ferry-findings\">[")?;
        Ok(HtmlWriter {
            out,
            rows: 0,
            dicts: Default::default(),
        })
    }

    /// One finding as `[severity, code, entity, key, file, sheet, row, column, field, value,
    /// message, hint]`, with the repeating texts as dictionary indexes.
    pub fn write(&mut self, f: &Finding) -> io::Result<()> {
        let o = &mut self.out;
        o.write_all(if self.rows == 0 { b"\n[" } else { b",\n[" })?;
        self.rows += 1;
        let code = self.dicts[D_CODE].id(f.code.as_str());
        let entity = self.dicts[D_ENTITY].id(f.entity.unwrap_or(""));
        let file = self.dicts[D_FILE].id(&f.location.file);
        let sheet = self.dicts[D_SHEET].id(f.location.sheet.as_deref().unwrap_or(""));
        let field = self.dicts[D_FIELD].id(f.field.as_deref().unwrap_or(""));
        write!(o, "{},{code},{entity},", sev_rank(f.severity))?;
        json_str(o, f.key.as_deref().unwrap_or(""))?;
        write!(o, ",{file},{sheet},{},", f.location.row)?;
        match f.location.column {
            Some(c) => json_str(o, &c.render())?,
            None => o.write_all(b"\"\"")?,
        }
        write!(o, ",{field},")?;
        json_str(o, f.value.as_deref().unwrap_or(""))?;
        o.write_all(b",")?;
        json_str(o, &f.message)?;
        o.write_all(b",")?;
        json_str(o, f.hint.as_deref().unwrap_or(""))?;
        o.write_all(b"]")
    }

    /// What has been written so far.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Ends the report; gives back the writer and the number of findings written.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        let o = &mut self.out;
        o.write_all(b"\n]</script>\n<script type=\"application/json\" id=\"ferry-dicts\">{")?;
        for (i, (name, d)) in ["code", "entity", "file", "sheet", "field"]
            .iter()
            .zip(&self.dicts)
            .enumerate()
        {
            if i > 0 {
                o.write_all(b",")?;
            }
            write!(o, "\"{name}\":[")?;
            for (j, s) in d.list.iter().enumerate() {
                if j > 0 {
                    o.write_all(b",")?;
                }
                json_str(o, s)?;
            }
            o.write_all(b"]")?;
        }
        o.write_all(b",\"doc\":{")?;
        for (j, s) in self.dicts[D_CODE].list.iter().enumerate() {
            if j > 0 {
                o.write_all(b",")?;
            }
            json_str(o, s)?;
            o.write_all(b":")?;
            json_str(o, Code::parse(s).map(|c| c.doc()).unwrap_or(""))?;
        }
        o.write_all(b"}}</script>\n<script>")?;
        o.write_all(SCRIPT.as_bytes())?;
        o.write_all(b"</script>\n</body>\n</html>\n")?;
        o.flush()?;
        Ok((self.out, self.rows))
    }
}

/// `completed-with-errors` → `completed with errors`.
fn words(s: &str) -> String {
    s.replace('-', " ")
}

fn plural(n: u64, one: &str, many: &str) -> String {
    ferry_findings::words::count(n, one, many)
}

/// 1234567 → `1,234,567`.
fn group(n: u64) -> String {
    ferry_findings::words::number(n)
}

/// A JSON option value as a person reads it.
fn option_text(v: &serde_json::Value) -> (String, bool) {
    match v {
        serde_json::Value::Null => ("not set".into(), true),
        serde_json::Value::Bool(b) => ((if *b { "yes" } else { "no" }).into(), false),
        serde_json::Value::String(s) if s.is_empty() => ("(empty)".into(), true),
        serde_json::Value::String(s) => (s.clone(), false),
        serde_json::Value::Array(a) if a.is_empty() => ("none".into(), true),
        other => (other.to_string(), false),
    }
}

fn option_table(h: &mut String, obj: &serde_json::Map<String, serde_json::Value>, skip: &[&str]) {
    h.push_str("<table class=\"kv\"><tbody>\n");
    // Sorted by name here: a JSON object's order depends on serde_json's features, which any
    // crate in the build may switch.
    let mut rows: Vec<_> = obj
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in rows {
        let (t, muted) = option_text(v);
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\"><code>{}</code></th><td{}>{}</td></tr>",
            esc(k),
            if muted { " class=\"muted\"" } else { "" },
            esc(&t)
        );
    }
    h.push_str("</tbody></table>\n");
}

fn badge(s: Severity) -> String {
    format!("<span class=\"b b-{0}\">{0}</span>", s.as_str())
}

/// The document up to the findings data: head, summary, reconciliation, counts, table frame.
pub fn static_part(ctx: &Context) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let run = ctx.run;
    let status = ctx.info.as_ref().map(|i| i.status.as_str()).unwrap_or("");
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"generator\" content=\"Ferry\">\n\
<title>Ferry run {run}{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        if status.is_empty() {
            String::new()
        } else {
            format!(" — {}", esc(&words(status)))
        }
    );

    // Header and summary.
    h.push_str("<header class=\"top\">\n<div class=\"brand\">Ferry · import report</div>\n");
    let _ = write!(h, "<h1>Run {run}");
    if let Some(i) = &ctx.info {
        let _ = write!(
            h,
            " <span class=\"st st-{}\">{}</span> <span class=\"mode\">{}</span>",
            esc(status),
            esc(&words(status)),
            i.mode.as_str()
        );
    }
    h.push_str("</h1>\n</header>\n<main>\n<section id=\"summary\">\n<h2>Summary</h2>\n");
    let (errors, warnings, infos) = match (&ctx.info, &ctx.counts) {
        (Some(i), _) => (i.errors as u64, i.warnings as u64, i.infos as u64),
        (None, Some(c)) => {
            let sum = |s: Severity| c.iter().filter(|x| x.severity == s).map(|x| x.count).sum();
            (
                sum(Severity::Error),
                sum(Severity::Warning),
                sum(Severity::Info),
            )
        }
        (None, None) => (0, 0, 0),
    };
    if ctx.info.is_some() || ctx.counts.is_some() {
        h.push_str("<div class=\"totals\">\n");
        for (n, sev, one, many) in [
            (errors, "error", "error", "errors"),
            (warnings, "warning", "warning", "warnings"),
            (infos, "info", "note", "notes"),
        ] {
            let _ = writeln!(
                h,
                "<a class=\"total t-{sev}{}\" href=\"#findings\" data-sev=\"{sev}\"><b>{}</b> {}</a>",
                if n == 0 { " zero" } else { "" },
                group(n),
                if n == 1 { one } else { many }
            );
        }
        h.push_str("</div>\n");
    }
    if let Some(line) = ctx.headline.as_deref().filter(|l| !l.is_empty()) {
        let _ = writeln!(h, "<p class=\"headline\">{}</p>", esc(line));
    }
    if let Some(c) = &ctx.counts {
        by_code(&mut h, c);
    }
    h.push_str("</section>\n");
    findings_frame(&mut h, ctx);
    h.push_str("<section id=\"run\">\n<h2>The run</h2>\n<dl class=\"facts\">\n");
    let _ = writeln!(h, "<dt>Run</dt><dd>{run}</dd>");
    if let Some(i) = &ctx.info {
        let mode = match i.mode {
            RunMode::Live => "live — the data of this run is kept in the target",
            RunMode::TestOnly => {
                "test-only — everything was checked and written, then rolled back; only the run record and its findings are kept"
            }
        };
        if i.kind == ferry_store::journal::RunKind::Certification {
            let _ = writeln!(
                h,
                "<dt>Kind</dt><dd>legacy certification migration (<code>ferry certification migrate</code>)</dd>"
            );
        }
        let _ = writeln!(h, "<dt>Mode</dt><dd>{}</dd>", esc(mode));
        let _ = writeln!(
            h,
            "<dt>Status</dt><dd><span class=\"st st-{}\">{}</span></dd>",
            esc(status),
            esc(&words(status))
        );
        let _ = writeln!(h, "<dt>Started</dt><dd>{}</dd>", esc(&i.started_at));
        let _ = writeln!(
            h,
            "<dt>Finished</dt><dd>{}</dd>",
            i.finished_at
                .as_deref()
                .map(esc)
                .unwrap_or_else(|| "<span class=\"muted\">not finished</span>".into())
        );
        if let Some(e) = &i.error {
            let _ = writeln!(h, "<dt>Stopped by</dt><dd class=\"bad\">{}</dd>", esc(e));
        }
    }
    if let Some(t) = &ctx.target {
        let _ = writeln!(h, "<dt>Target</dt><dd><code>{}</code></dd>", esc(t));
    }
    if let Some(i) = &ctx.info {
        h.push_str("<dt>Inputs</dt><dd><ul class=\"inputs\">");
        // The console's runs name their inputs as uploaded, never by their server path.
        let shown = i
            .options
            .get("command_line")
            .and_then(|c| c.get("shown"))
            .filter(|s| s.as_array().is_some_and(|a| !a.is_empty()));
        match shown.unwrap_or(&i.inputs) {
            serde_json::Value::Array(a) => {
                for v in a {
                    let t = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    let _ = write!(h, "<li><code>{}</code></li>", esc(&t));
                }
            }
            other => {
                let _ = write!(h, "<li><code>{}</code></li>", esc(&other.to_string()));
            }
        }
        h.push_str("</ul></dd>\n");
        if let Some(r) = &ctx.reconciliation {
            let read: u64 = r.counts.iter().map(|(_, c)| c.read).sum();
            let _ = writeln!(h, "<dt>Records read</dt><dd>{}</dd>", group(read));
        }
    }
    h.push_str("</dl>\n");
    if let Some(i) = &ctx.info {
        let eff = i.options.get("effective").and_then(|v| v.as_object());
        let cmd = i.options.get("command_line").and_then(|v| v.as_object());
        if let Some(eff) = eff {
            h.push_str("<h3>Options in effect</h3>\n<p class=\"note\">The command line's flags merged with the inputs' Options sheets.</p>\n");
            option_table(&mut h, eff, &[]);
        }
        if let Some(cmd) = cmd {
            if eff.is_some() {
                h.push_str("<details><summary>As given on the command line</summary>\n");
            } else {
                h.push_str("<h3>Options (as given on the command line)</h3>\n");
            }
            option_table(&mut h, cmd, &["inputs"]);
            if eff.is_some() {
                h.push_str("</details>\n");
            }
        }
    }
    h.push_str("</section>\n");

    if let Some(r) = &ctx.reconciliation {
        reconciliation(&mut h, r);
    }
    if let Some(c) = &ctx.counts {
        by_entity(&mut h, c);
    }
    h.push_str("</main>\n");
    h
}

/// The findings table's frame; the script fills it.
fn findings_frame(h: &mut String, ctx: &Context) {
    let total = ctx
        .counts
        .as_ref()
        .map(|c| c.iter().map(|x| x.count).sum::<u64>());
    h.push_str("<section id=\"findings\">\n<h2>Findings");
    if let Some(t) = total {
        let _ = write!(h, " <span class=\"count\">{}</span>", group(t));
    }
    h.push_str("</h2>\n");
    h.push_str(FINDINGS_FRAME);
    let _ = writeln!(
        h,
        "<p class=\"print-note\">The findings table is interactive and not printed{}. Open this file in a browser to filter and sort it, or write the log as <code>.csv</code> or <code>.jsonl</code>.</p>",
        total
            .map(|t| format!(" ({})", plural(t, "finding", "findings")))
            .unwrap_or_default()
    );
    h.push_str("</section>\n");
}

fn reconciliation(h: &mut String, r: &Reconciliation) {
    h.push_str("<section id=\"reconciliation\">\n<h2>Reconciliation</h2>\n");
    let entities_ok = r.counts.iter().all(|(_, c)| c.balanced());
    let _ = writeln!(
        h,
        "<p class=\"verdict {}\">{}</p>",
        if r.balanced { "ok" } else { "bad" },
        if r.balanced {
            "Reconciled: every record read was imported, updated, skipped or rejected with a finding, and every account's ledger balances."
        } else if !entities_ok {
            "Does NOT reconcile: records of the types marked below are not accounted for."
        } else {
            "Does NOT reconcile: the ledger of some accounts does not balance (see below)."
        }
    );
    h.push_str("<h3>Records per entity type</h3>\n<p class=\"note\">read = imported + updated + skipped + rejected</p>\n");
    h.push_str("<table class=\"grid-static num\">\n<thead><tr><th>entity</th><th>read</th><th>imported</th><th>updated</th><th>skipped</th><th>rejected</th><th>check</th></tr></thead>\n<tbody>\n");
    let mut t = ferry_store::journal::Counts::default();
    for (e, c) in &r.counts {
        t.read += c.read;
        t.imported += c.imported;
        t.updated += c.updated;
        t.skipped += c.skipped;
        t.rejected += c.rejected;
        let _ = writeln!(
            h,
            "<tr{}><th scope=\"row\"><a href=\"#findings\" data-entity=\"{}\">{}</a></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td></tr>",
            if c.balanced() { "" } else { " class=\"off\"" },
            esc(e),
            esc(e),
            group(c.read),
            group(c.imported),
            group(c.updated),
            group(c.skipped),
            if c.rejected > 0 { " class=\"rej\"" } else { "" },
            group(c.rejected),
            check(c)
        );
    }
    h.push_str("</tbody>\n");
    let _ = writeln!(
        h,
        "<tfoot><tr><th scope=\"row\">all</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></tfoot>\n</table>",
        group(t.read),
        group(t.imported),
        group(t.updated),
        group(t.skipped),
        group(t.rejected),
        check(&t)
    );

    h.push_str("<h3>Ledger per account</h3>\n");
    if r.ledger_accounts == 0 {
        h.push_str("<p class=\"note\">No ledger records in this run.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        h,
        "<p class=\"note\">source = imported + rejected + skipped{}. {} with ledger records, <span class=\"{}\">{} not balanced</span>.</p>",
        if r.live {
            ", and the target holds what was imported"
        } else {
            " (test-only or rolled back: the target was not compared)"
        },
        plural(r.ledger_accounts, "account", "accounts"),
        if r.unbalanced > 0 { "bad" } else { "ok" },
        group(r.unbalanced)
    );
    if r.already_there > 0 {
        let _ = writeln!(
            h,
            "<p class=\"note\">{} with ledger records skipped as already in the target balance and are not listed.</p>",
            plural(r.already_there, "account", "accounts")
        );
    }
    if r.accounts.is_empty() {
        h.push_str(
            "<p class=\"note\">Every account's ledger balances: nothing rejected.</p>\n</section>\n",
        );
        return;
    }
    h.push_str("<p class=\"note\">Listed: the accounts that do not balance or have rejected ledger records.</p>\n");
    h.push_str("<table class=\"grid-static num\">\n<thead><tr><th>account</th><th>source</th><th>imported</th><th>rejected</th><th>skipped</th>");
    if r.live {
        h.push_str("<th>held by target</th>");
    }
    h.push_str("<th>check</th></tr></thead>\n<tbody>\n");
    for a in &r.accounts {
        let _ = write!(
            h,
            "<tr{}><th scope=\"row\"><code>{}</code></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            if a.balanced { "" } else { " class=\"off\"" },
            esc(&a.user),
            esc(&a.source),
            esc(&a.imported),
            esc(&a.rejected),
            esc(&a.skipped)
        );
        if r.live {
            let _ = write!(h, "<td>{}</td>", esc(a.target.as_deref().unwrap_or("")));
        }
        let _ = writeln!(
            h,
            "<td>{}</td></tr>",
            if a.balanced {
                "<span class=\"ok\">✓</span>"
            } else {
                "<span class=\"bad\">✗ does not balance</span>"
            }
        );
    }
    h.push_str("</tbody>\n</table>\n");
    if r.unlisted > 0 {
        let _ = writeln!(
            h,
            "<p class=\"note\">… and {} more not listed here.</p>",
            plural(r.unlisted, "account", "accounts")
        );
    }
    h.push_str("</section>\n");
}

fn check(c: &ferry_store::journal::Counts) -> String {
    if c.balanced() {
        "<span class=\"ok\">✓</span>".into()
    } else {
        let acc = c.imported + c.updated + c.skipped + c.rejected;
        format!(
            "<span class=\"bad\">✗ {} {}</span>",
            group(c.read.abs_diff(acc)),
            if acc < c.read {
                "unaccounted for"
            } else {
                "counted twice"
            }
        )
    }
}

/// The findings per entity type and severity.
fn by_entity(h: &mut String, c: &[FindingCount]) {
    h.push_str("<section id=\"counts\">\n<h2>Findings by entity type</h2>\n");
    if c.is_empty() {
        h.push_str("<p class=\"note\">No findings.</p>\n</section>\n");
        return;
    }
    h.push_str(
        "<p class=\"note\">Select a name or a number to show those findings in the table.</p>\n",
    );
    // Per entity: errors, warnings, notes.
    let mut ents: Vec<(&str, [u64; 3])> = vec![];
    for x in c {
        let i = match ents.iter().position(|(e, _)| *e == x.entity) {
            Some(i) => i,
            None => {
                ents.push((&x.entity, [0; 3]));
                ents.len() - 1
            }
        };
        ents[i].1[sev_rank(x.severity) as usize] += x.count;
    }
    ents.sort_by(|a, b| {
        let t = |v: &[u64; 3]| v.iter().sum::<u64>();
        t(&b.1).cmp(&t(&a.1)).then(a.0.cmp(b.0))
    });
    h.push_str("<table class=\"grid-static num\" id=\"by-entity\">\n<caption>Per entity type</caption>\n<thead><tr><th>entity</th><th>errors</th><th>warnings</th><th>notes</th><th>total</th></tr></thead>\n<tbody>\n");
    for (e, n) in &ents {
        let name = if e.is_empty() { "(none)" } else { e };
        let _ = write!(
            h,
            "<tr><th scope=\"row\"><a href=\"#findings\" data-entity=\"{0}\">{1}</a></th>",
            esc(e),
            esc(name)
        );
        for (k, sev) in ["error", "warning", "info"].iter().enumerate() {
            if n[k] == 0 {
                h.push_str("<td class=\"muted\">0</td>");
            } else {
                let _ = write!(
                    h,
                    "<td><a href=\"#findings\" data-entity=\"{}\" data-sev=\"{sev}\">{}</a></td>",
                    esc(e),
                    group(n[k])
                );
            }
        }
        let _ = writeln!(h, "<td>{}</td></tr>", group(n.iter().sum()));
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

/// The findings per code, in reading order: errors, warnings, notes; in each, the root causes
/// before the knock-on rejections of records whose parent was rejected.
fn by_code(h: &mut String, c: &[FindingCount]) {
    if c.is_empty() {
        h.push_str("<p class=\"note\">No findings.</p>\n");
        return;
    }
    let knock = Code::RejectedParent.as_str();
    let mut codes: Vec<(Severity, &str, u64)> = vec![];
    for x in c {
        match codes
            .iter_mut()
            .find(|(s, k, _)| *s == x.severity && *k == x.code)
        {
            Some(e) => e.2 += x.count,
            None => codes.push((x.severity, &x.code, x.count)),
        }
    }
    codes.sort_by(|a, b| {
        sev_rank(a.0)
            .cmp(&sev_rank(b.0))
            .then((a.1 == knock).cmp(&(b.1 == knock)))
            .then(b.2.cmp(&a.2))
            .then(a.1.cmp(b.1))
    });
    h.push_str("<table class=\"grid-static num\" id=\"by-code\">\n<caption>Findings per code (select one to list them)</caption>\n<thead><tr><th>severity</th><th>findings</th><th>code</th><th>what it means</th></tr></thead>\n<tbody>\n");
    for (s, code, n) in &codes {
        let doc = Code::parse(code).map(|c| c.doc()).unwrap_or("");
        let _ = writeln!(
            h,
            "<tr{4}><td>{2}</td><td><a href=\"#findings\" data-code=\"{0}\">{3}</a></td><th scope=\"row\"><a href=\"#findings\" data-code=\"{0}\"><code>{0}</code></a></th><td class=\"doc\">{1}</td></tr>",
            esc(code),
            esc(doc),
            badge(*s),
            group(*n),
            if *code == knock { " class=\"knock\"" } else { "" }
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

const FINDINGS_FRAME: &str = r##"<div class="controls" id="controls">
<span class="sevs" role="group" aria-label="Severity">
<label class="chip b-error"><input type="checkbox" id="sev-error" checked> errors <span id="n-error"></span></label>
<label class="chip b-warning"><input type="checkbox" id="sev-warning" checked> warnings <span id="n-warning"></span></label>
<label class="chip b-info"><input type="checkbox" id="sev-info" checked> notes <span id="n-info"></span></label>
</span>
<label>Code <select id="f-code"><option value="">all codes</option></select></label>
<label>Entity <select id="f-entity"><option value="">all entity types</option></select></label>
<input id="f-q" type="search" placeholder="Search key, value, message, file…" aria-label="Search" autocomplete="off">
<button type="button" id="f-clear">Clear filters</button>
<span id="shown" class="shown" aria-live="polite"></span>
</div>
<div id="grid" class="grid" tabindex="0" role="region" aria-label="Findings table">
<table id="table">
<colgroup><col class="w0"><col class="w1"><col class="w2"><col class="w4"><col class="w5"><col></colgroup>
<thead><tr><th data-col="0" class="c0">#</th><th data-col="1" class="c1">severity</th><th data-col="2" class="c2">code</th><th data-col="3" class="c3">entity</th><th data-col="4" class="c4">record</th><th data-col="5" class="c5">where</th><th data-col="6" class="c6">sheet</th><th data-col="7" class="c7 r">row</th><th data-col="8" class="c8">column</th><th data-col="9" class="c9">field</th><th data-col="10" class="c10">value</th><th data-col="11" class="c11">message</th><th data-col="12" class="c12">hint</th></tr></thead>
<tbody id="rows"></tbody>
</table>
</div>
<div id="detail" class="detail" hidden></div>
<noscript><p class="note">The findings table needs JavaScript. The same findings are in <code>ferry runs show</code> and in a <code>.csv</code> or <code>.jsonl</code> log.</p></noscript>
"##;

const STYLE: &str = r#"
:root{--fg:#1d2433;--muted:#667085;--line:#e4e7ec;--bg:#fff;--soft:#f8f9fb;--accent:#2e5aac;
--err:#b42318;--err-bg:#fef3f2;--warn:#93370d;--warn-bg:#fffaeb;--info:#475467;--info-bg:#f2f4f7;--ok:#067647;--ok-bg:#ecfdf3;--sel:#eef4ff;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
@media (prefers-color-scheme:dark){:root{--fg:#e4e7ec;--muted:#98a2b3;--line:#344054;--bg:#101828;--soft:#1d2939;--accent:#84adff;
--err:#fda29b;--err-bg:#55160c;--warn:#fec84b;--warn-bg:#4e1d09;--info:#d0d5dd;--info-bg:#344054;--ok:#75e0a7;--ok-bg:#053321;--sel:#1d2b4f}}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg)}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;padding:1.25rem 2rem 3rem;max-width:1800px}
h1{font-size:1.5rem;margin:.1rem 0 .8rem;font-weight:650}
h2{font-size:1.15rem;margin:2rem 0 .6rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{font-size:.95rem;margin:1.2rem 0 .4rem}
code{font-family:var(--mono);font-size:.92em}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.brand{color:var(--muted);font-size:.8rem;letter-spacing:.06em;text-transform:uppercase}
.mode{font-size:.8rem;font-weight:500;color:var(--muted);border:1px solid var(--line);border-radius:4px;padding:.05rem .4rem;vertical-align:middle}
.st{font-size:.8rem;font-weight:600;border-radius:4px;padding:.1rem .45rem;vertical-align:middle;background:var(--info-bg);color:var(--info)}
.st-succeeded{background:var(--ok-bg);color:var(--ok)}.st-completed-with-errors{background:var(--warn-bg);color:var(--warn)}
.st-failed,.st-interrupted{background:var(--err-bg);color:var(--err)}
.muted,.note{color:var(--muted)}.note{margin:.3rem 0 .6rem}
.ok{color:var(--ok)}.bad{color:var(--err);font-weight:600}
.totals{display:flex;gap:.75rem;flex-wrap:wrap;margin:.4rem 0 1rem}
.total{display:block;min-width:9rem;padding:.55rem .9rem;border:1px solid var(--line);border-left-width:4px;border-radius:6px;color:var(--fg)}
.total b{display:block;font-size:1.5rem;font-variant-numeric:tabular-nums;line-height:1.2}
.t-error{border-left-color:var(--err)}.t-warning{border-left-color:#f79009}.t-info{border-left-color:#98a2b3}.total.zero{opacity:.6}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.25rem;margin:0}
.facts dt{color:var(--muted)}.facts dd{margin:0}.inputs{margin:0;padding:0;list-style:none}
table{border-collapse:collapse}
.kv th,.kv td{text-align:left;padding:.15rem 1.25rem .15rem 0;font-weight:400;vertical-align:top}
details{margin:.6rem 0}summary{cursor:pointer;color:var(--muted)}
.grid-static{margin:.2rem 0 .6rem;font-variant-numeric:tabular-nums}
.grid-static caption{text-align:left;font-weight:600;padding:.2rem 0 .4rem}
.grid-static th,.grid-static td{padding:.28rem .75rem;border-bottom:1px solid var(--line);text-align:left}
.grid-static thead th{font-weight:600;color:var(--muted);font-size:.85rem;border-bottom:1px solid var(--muted)}
.grid-static tbody th{font-weight:400}
.num td{text-align:right}.num td:last-child{text-align:left}
#by-entity td:last-child{text-align:right}
.grid-static tfoot th,.grid-static tfoot td{font-weight:600;border-bottom:0;border-top:1px solid var(--muted)}
tr.off{background:var(--err-bg)}td.rej{color:var(--err)}
.verdict{padding:.55rem .8rem;border-radius:6px;margin:.3rem 0 .8rem;font-weight:500}
.verdict.ok{background:var(--ok-bg);color:var(--ok)}.verdict.bad{background:var(--err-bg);color:var(--err)}
.two{display:flex;gap:2.5rem;flex-wrap:wrap;align-items:flex-start}
.b{display:inline-block;font-size:.75rem;font-weight:600;line-height:1.3;padding:0 .4rem;border-radius:3px}
.b-error{background:var(--err-bg);color:var(--err)}.b-warning{background:var(--warn-bg);color:var(--warn)}.b-info{background:var(--info-bg);color:var(--info)}
h2 .count{font-weight:400;color:var(--muted);font-size:.95rem}
.controls{display:flex;gap:.6rem 1rem;flex-wrap:wrap;align-items:center;margin:.2rem 0 .6rem;position:sticky;top:0;background:var(--bg);padding:.4rem 0;z-index:3}
.controls label{color:var(--muted)}
.chip{padding:.15rem .5rem;border-radius:4px;cursor:pointer;user-select:none;font-size:.85rem}
.chip input{vertical-align:-2px;margin:0 .2rem 0 0}
select,input[type=search],button{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:5px;padding:.25rem .45rem}
select{max-width:22em}input[type=search]{width:22em}button{cursor:pointer}button:hover{background:var(--soft)}
.shown{color:var(--muted);margin-left:auto;font-variant-numeric:tabular-nums}
.grid{height:min(68vh,900px);min-height:14rem;overflow:auto;border:1px solid var(--line);border-radius:6px;position:relative;outline:none}
.grid:focus-visible{box-shadow:0 0 0 2px var(--accent)}
#table{table-layout:fixed;width:100%}
#table .c3,#table .c6,#table .c7,#table .c8,#table .c9,#table .c10,#table .c12{display:none}
#table col.w0{width:3.5em}#table col.w1{width:5.8em}#table col.w2{width:14em}#table col.w4{width:7em}#table col.w5{width:14em}
#table td.c11{white-space:nowrap}
.headline{font-size:1.05rem;font-weight:600;margin:.2rem 0 .8rem}
#by-code{margin-top:.4rem}#by-code caption{text-align:left;color:var(--muted);font-size:.85rem;padding-bottom:.2rem}
#by-code td,#by-code th{text-align:left}#by-code td:nth-child(2){text-align:right}#by-code td.doc{color:var(--muted);font-size:.85rem;white-space:normal;max-width:36em}
#by-code tr.knock td,#by-code tr.knock th{color:var(--muted)}
@media (max-width:1100px){body{padding:1rem 1rem 2rem}}
#table th{position:sticky;top:0;z-index:2;background:var(--soft);text-align:left;font-weight:600;font-size:.82rem;color:var(--muted);
padding:.4rem .5rem;border-bottom:1px solid var(--line);cursor:pointer;user-select:none;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#table th:hover{color:var(--fg)}#table th[aria-sort] {color:var(--fg)}
#table th[aria-sort=ascending]::after{content:" ▲";font-size:.7em}#table th[aria-sort=descending]::after{content:" ▼";font-size:.7em}
#table td{height:28px;padding:0 .5rem;border-bottom:1px solid var(--line);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-size:.88rem}
#table td.c0,#table td.c7{text-align:right;color:var(--muted);font-variant-numeric:tabular-nums}#table th.r{text-align:right}
#table td.c2,#table td.c4,#table td.c8,#table td.c10{font-family:var(--mono);font-size:.82rem}
#table tbody tr.row{cursor:pointer}#table tbody tr.row:hover{background:var(--soft)}
#table tbody tr.sel{background:var(--sel)}
#table tr.sp td{height:auto;padding:0;border:0}
#table td.empty{color:var(--muted);text-align:center;height:4rem}
.detail{margin-top:.6rem;border:1px solid var(--line);border-radius:6px;padding:.6rem .9rem;background:var(--soft)}
.detail dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
.detail dt{color:var(--muted)}.detail dd{margin:0;white-space:pre-wrap;word-break:break-word}
.detail .v{font-family:var(--mono);font-size:.88rem}
.print-note{display:none}
@media print{body{padding:0;font-size:11pt;max-width:none}.controls,.grid,.detail{display:none!important}.print-note{display:block}
a{color:inherit}h2{break-after:avoid}tr{break-inside:avoid}
.b,.st,.verdict,tr.off,.total{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
@page{margin:1.5cm}
"#;

const SCRIPT: &str = r##"
(function () {
'use strict';
var $ = function (id) { return document.getElementById(id); };
var data = JSON.parse($('ferry-findings').textContent);
var dict = JSON.parse($('ferry-dicts').textContent);
var N = data.length;
var SEV = ['error', 'warning', 'info'];
/* Row layout: severity, code, entity, key, file, sheet, row, column, field, value, message, hint.
   Table column c (0 = #) shows row field c - 1; these are dictionary-coded: */
var DICTS = {2: dict.code, 3: dict.entity, 5: dict.file, 6: dict.sheet, 9: dict.field};
/* Where a finding is, the most telling part first: sheet › cell (C52) · file, or line 4 ·
   column 3 · file (the file by its name; the detail and the search have the rest). */
function where(r) {
  var file = dict.file[r[4]].split(/[\\/]/).pop(), sheet = dict.sheet[r[5]], row = r[6], col = r[7], at = '';
  if (sheet) at = sheet + (row ? ' › ' + (/^[A-Z]+$/.test(col) ? col + row : 'row ' + row + (col ? ' · ' + col : '')) : '');
  else if (row) at = 'line ' + row + (col ? ' · ' + col : '');
  else if (col) at = col;
  return [at, file].filter(Boolean).join(' · ');
}
function text(i, c) {
  if (c === 0) return String(i + 1);
  var r = data[i], v = r[c - 1];
  if (c === 1) return SEV[v];
  if (c === 5) return where(r);
  if (DICTS[c]) return DICTS[c][v];
  return c === 7 ? String(v) : v;
}

/* Filters. */
var sevOn = [true, true, true], fCode = -1, fEntity = -1, query = '';
var hay = null;
function haystack() {
  if (hay) return hay;
  hay = new Array(N);
  for (var i = 0; i < N; i++) {
    var r = data[i];
    hay[i] = [dict.code[r[1]], dict.entity[r[2]], r[3], dict.file[r[4]], dict.sheet[r[5]], r[6], r[7],
      dict.field[r[8]], r[9], r[10], r[11]].join('\u0001').toLowerCase();
  }
  return hay;
}
function matches(i) {
  var r = data[i];
  if (!sevOn[r[0]]) return false;
  if (fCode >= 0 && r[1] !== fCode) return false;
  if (fEntity >= 0 && r[2] !== fEntity) return false;
  if (query) {
    var h = haystack()[i];
    for (var k = 0; k < query.length; k++) if (h.indexOf(query[k]) < 0) return false;
  }
  return true;
}

/* Sorting: order holds all rows sorted; view the filtered ones in that order. */
var sortCol = 0, sortDir = 1, order = null, view = [];
function ranks(list) {
  var idx = list.map(function (_, i) { return i; });
  idx.sort(function (a, b) { var x = list[a].toLowerCase(), y = list[b].toLowerCase(); return x < y ? -1 : x > y ? 1 : 0; });
  var rk = new Array(list.length);
  idx.forEach(function (v, k) { rk[v] = k; });
  return rk;
}
function colKey(a, b, c) {
  if (c === 0) return a - b;
  var x = data[a][c - 1], y = data[b][c - 1];
  if (DICTS[c]) { var rk = DICTS[c].rk || (DICTS[c].rk = ranks(DICTS[c])); return rk[x] - rk[y]; }
  if (c === 1 || c === 7) return x - y;
  if (c === 8 && x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}
function sortRows() {
  order = new Array(N);
  for (var i = 0; i < N; i++) order[i] = i;
  if (sortCol !== 0 || sortDir !== 1) {
    var c = sortCol, d = sortDir;
    order.sort(function (a, b) { return d * colKey(a, b, c) || a - b; });
  }
}
function refilter() {
  if (!order) sortRows();
  view = [];
  for (var k = 0; k < N; k++) if (matches(order[k])) view.push(order[k]);
  $('shown').textContent = view.length === N
    ? N.toLocaleString() + (N === 1 ? ' finding' : ' findings')
    : view.length.toLocaleString() + ' of ' + N.toLocaleString() + ' findings';
  grid.scrollTop = 0;
  render();
}

/* Windowed rendering: only the rows in sight (and a few around) are in the DOM. */
var grid = $('grid'), tbody = $('rows'), RH = 29, measured = false, MAXH = 8000000, OVER = 6;
var NC = 13, pool = [], top = mk('tr', 'sp'), bottom = mk('tr', 'sp'), selected = -1;
function mk(tag, cls) { var e = document.createElement(tag); if (cls) e.className = cls; return e; }
/* Spacers span the shown columns only (six: #, severity, code, record, where, message), else the
   hidden ones would take a share of the width. */
var SHOWN = 6;
[top, bottom].forEach(function (s) { var td = mk('td'); td.colSpan = SHOWN; s.appendChild(td); });
var empty = mk('tr'); (function () { var td = mk('td', 'empty'); td.colSpan = SHOWN; td.textContent = 'No findings match these filters.'; empty.appendChild(td); })();
function rowEl(k) {
  if (pool[k]) return pool[k];
  var tr = mk('tr', 'row');
  for (var c = 0; c < NC; c++) tr.appendChild(mk('td', 'c' + c));
  var b = mk('span', 'b'); tr.cells[1].appendChild(b);
  return (pool[k] = tr);
}
var pending = false;
function schedule() { if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; render(); }); } }
function render() {
  var n = view.length;
  tbody.textContent = '';
  if (!n) { tbody.appendChild(empty); return; }
  var head = grid.querySelector('thead').offsetHeight;
  var vh = Math.max(grid.clientHeight - head, RH);
  var total = n * RH, H = Math.min(total, MAXH);
  var ratio = total > H ? (total - vh) / Math.max(H - vh, 1) : 1;
  var st = Math.min(grid.scrollTop, Math.max(H - vh, 0));
  var voff = st * ratio, first = Math.floor(voff / RH);
  var y = st - (voff - first * RH);
  var from = Math.max(0, first - OVER);
  y = Math.max(0, y - (first - from) * RH);
  var to = Math.min(n, first + Math.ceil(vh / RH) + 1 + OVER);
  top.firstChild.style.height = y + 'px';
  bottom.firstChild.style.height = Math.max(0, H - y - (to - from) * RH) + 'px';
  tbody.appendChild(top);
  for (var k = from; k < to; k++) {
    var i = view[k], tr = rowEl(k - from), r = data[i];
    tr.dataset.i = i;
    tr.classList.toggle('sel', i === selected);
    for (var c = 0; c < NC; c++) {
      var td = tr.cells[c], t = text(i, c);
      if (c === 1) { td.firstChild.textContent = t; td.firstChild.className = 'b b-' + t; continue; }
      if (td.textContent !== t) td.textContent = t;
      if (c >= 2) td.title = t;
    }
    tbody.appendChild(tr);
  }
  tbody.appendChild(bottom);
  if (!measured && to > from) {
    measured = true;
    var h = pool[0].getBoundingClientRect().height;
    if (h > 0 && Math.abs(h - RH) > 0.5) { RH = h; render(); }
  }
}
grid.addEventListener('scroll', schedule, {passive: true});
window.addEventListener('resize', schedule);

/* Details of the selected finding: every field, in full. */
var LABELS = ['#', 'severity', 'code', 'entity', 'key', 'where', 'sheet', 'row', 'column', 'field', 'value', 'message', 'hint'];
function showDetail(i) {
  selected = i;
  var d = $('detail');
  d.textContent = '';
  if (i < 0) { d.hidden = true; render(); return; }
  var dl = mk('dl');
  for (var c = 0; c < NC; c++) {
    if (c >= 6 && c <= 8) continue;
    var t = text(i, c);
    if (t === '' && c !== 10) continue;
    var dt = mk('dt'), dd = mk('dd', (c === 2 || c === 4 || c === 10) ? 'v' : '');
    dt.textContent = LABELS[c];
    dd.textContent = t;
    if (c === 2 && dict.doc[t]) { var s = mk('span', 'muted'); s.textContent = ' — ' + dict.doc[t]; dd.appendChild(s); }
    dl.appendChild(dt); dl.appendChild(dd);
  }
  d.appendChild(dl);
  d.hidden = false;
  render();
}
tbody.addEventListener('click', function (e) {
  var tr = e.target.closest('tr.row');
  if (tr) { var i = +tr.dataset.i; showDetail(i === selected ? -1 : i); }
});
grid.addEventListener('keydown', function (e) {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' || !view.length) return;
  e.preventDefault();
  var k = view.indexOf(selected);
  k = k < 0 ? 0 : Math.max(0, Math.min(view.length - 1, k + (e.key === 'ArrowDown' ? 1 : -1)));
  var head = grid.querySelector('thead').offsetHeight, vh = grid.clientHeight - head;
  if (view.length * RH <= MAXH) {
    if (k * RH < grid.scrollTop) grid.scrollTop = k * RH;
    else if ((k + 1) * RH > grid.scrollTop + vh) grid.scrollTop = (k + 1) * RH - vh;
  }
  showDetail(view[k]);
});

/* Sorting by a header. */
var ths = grid.querySelectorAll('thead th');
function markSort() {
  for (var c = 0; c < ths.length; c++) {
    if (c === sortCol && !(c === 0 && sortDir === 1)) ths[c].setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
    else ths[c].removeAttribute('aria-sort');
  }
}
Array.prototype.forEach.call(ths, function (th, c) {
  th.title = 'Sort by ' + th.textContent;
  th.addEventListener('click', function () {
    if (sortCol === c) sortDir = -sortDir; else { sortCol = c; sortDir = 1; }
    order = null; markSort(); refilter();
  });
});

/* Filter controls, filled from the data. */
var perCode = dict.code.map(function () { return 0; }), perEntity = dict.entity.map(function () { return 0; }), perSev = [0, 0, 0];
for (var i = 0; i < N; i++) { perCode[data[i][1]]++; perEntity[data[i][2]]++; perSev[data[i][0]]++; }
function fill(sel, list, counts, none) {
  var idx = list.map(function (_, i) { return i; }).sort(function (a, b) { return list[a] < list[b] ? -1 : 1; });
  idx.forEach(function (i) {
    var o = mk('option'); o.value = String(i);
    o.textContent = (list[i] || none) + ' (' + counts[i].toLocaleString() + ')';
    sel.appendChild(o);
  });
}
fill($('f-code'), dict.code, perCode, '');
fill($('f-entity'), dict.entity, perEntity, '(none)');
SEV.forEach(function (s, k) {
  $('n-' + s).textContent = '(' + perSev[k].toLocaleString() + ')';
  $('sev-' + s).addEventListener('change', function (e) { sevOn[k] = e.target.checked; refilter(); });
});
$('f-code').addEventListener('change', function (e) { fCode = e.target.value === '' ? -1 : +e.target.value; refilter(); });
$('f-entity').addEventListener('change', function (e) { fEntity = e.target.value === '' ? -1 : +e.target.value; refilter(); });
var timer = 0;
$('f-q').addEventListener('input', function (e) {
  clearTimeout(timer);
  timer = setTimeout(function () {
    query = e.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (!query.length) query = '';
    refilter();
  }, N > 20000 ? 250 : 80);
});
function setFilters(sev, code, entity) {
  SEV.forEach(function (s, k) { sevOn[k] = sev === null || sev === s; $('sev-' + s).checked = sevOn[k]; });
  fCode = code === null ? -1 : dict.code.indexOf(code);
  fEntity = entity === null ? -1 : dict.entity.indexOf(entity);
  if (code !== null && fCode < 0) fCode = dict.code.length;
  if (entity !== null && fEntity < 0) fEntity = dict.entity.length;
  $('f-code').value = fCode >= 0 && fCode < dict.code.length ? String(fCode) : '';
  $('f-entity').value = fEntity >= 0 && fEntity < dict.entity.length ? String(fEntity) : '';
  $('f-q').value = ''; query = '';
  selected = -1; $('detail').hidden = true;
  refilter();
}
$('f-clear').addEventListener('click', function () { setFilters(null, null, null); });
/* Names and numbers in the summary filter the table. */
document.addEventListener('click', function (e) {
  var a = e.target.closest('a[data-code],a[data-entity],a[data-sev]');
  if (!a) return;
  e.preventDefault();
  setFilters(a.getAttribute('data-sev'), a.getAttribute('data-code'), a.getAttribute('data-entity'));
  $('findings').scrollIntoView({behavior: 'smooth', block: 'start'});
  grid.focus({preventScroll: true});
});

markSort();
refilter();
window.ferryReport = {rows: function () { return view.length; }, dom: function () { return tbody.rows.length; }};
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_cannot_close_the_script() {
        let mut o = vec![];
        json_str(
            &mut o,
            "</script><script>alert(1)</script><!-- \"q\" \\ \u{1}\u{2028}é",
        )
        .unwrap();
        let s = String::from_utf8(o).unwrap();
        assert!(!s.contains('<') && !s.contains('>'), "{s}");
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(
            back,
            "</script><script>alert(1)</script><!-- \"q\" \\ \u{1}\u{2028}é"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(group(0), "0");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(group(100), "100");
    }
}
