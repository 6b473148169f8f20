//! `ferry runs` (the journal, one line per run) and `ferry runs show RUN` (one run: what it
//! was asked, its options one per line, counters, findings by code, the ledger), on stdout.

use crate::digest;
use crate::summary::counts_table;
use crate::text::count;
use anyhow::{anyhow, Result};
use ferry_store::Target;
use serde_json::Value;
use std::fmt::Write as _;

/// The run journal, newest last.
pub fn list(t: &Target) -> Result<String> {
    let runs = t.runs()?;
    let mut out = String::new();
    if runs.is_empty() {
        out.push_str("No runs yet.\n");
        return Ok(out);
    }
    let _ = writeln!(
        out,
        "{:>5}  {:<13}  {:<9}  {:<21}  {:<25}  {:>7} {:>8}  inputs",
        "run", "kind", "mode", "status", "started", "errors", "warnings"
    );
    for r in runs {
        let inputs: Vec<&str> = r
            .inputs
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:>5}  {:<13}  {:<9}  {:<21}  {:<25}  {:>7} {:>8}  {}",
            r.id,
            r.kind.as_str(),
            r.mode.as_str(),
            r.status.as_str(),
            r.started_at,
            r.errors,
            r.warnings,
            inputs.join(" ")
        );
    }
    Ok(out)
}

/// One run, whole.
pub fn show(t: &Target, run: i64, verbose: bool) -> Result<String> {
    let info = t
        .run(run)?
        .ok_or_else(|| anyhow!("there is no run {run} in this target"))?;
    let mut out = String::new();
    let _ = writeln!(out, "run        {}", info.id);
    let _ = writeln!(out, "kind       {}", info.kind.as_str());
    let _ = writeln!(out, "mode       {}", info.mode.as_str());
    let _ = writeln!(out, "status     {}", info.status.as_str());
    let _ = writeln!(out, "started    {}", info.started_at);
    let _ = writeln!(
        out,
        "finished   {}",
        info.finished_at.clone().unwrap_or_default()
    );
    let _ = writeln!(out, "inputs     {}", plain(&info.inputs));
    if let Some(m) = info.options.get("mapping").filter(|m| !m.is_null()) {
        let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
        let _ = writeln!(
            out,
            "mapping    {} ({}, content hash {})",
            s("given").trim_start_matches(ferry_engine::mapping::SAVED),
            if s("from") == "saved" {
                "kept in the target"
            } else {
                "file"
            },
            s("hash")
        );
    }
    let _ = writeln!(
        out,
        "findings   {}, {}, {}",
        count(info.errors.max(0) as u64, "error", "errors"),
        count(info.warnings.max(0) as u64, "warning", "warnings"),
        count(info.infos.max(0) as u64, "note", "notes")
    );
    if let Some(e) = &info.error {
        let _ = writeln!(out, "error      {e}");
    }
    out.push_str(&options(&info.options));
    out.push('\n');
    out.push_str(&counts_table(&t.counts(run)?, verbose));
    let groups = digest::digest(t, run, 5)?;
    if !groups.is_empty() {
        out.push('\n');
        out.push_str(&digest::render(&groups, usize::MAX, true));
    }
    if let Some(r) = ferry_report::reconcile::reconcile(t, run)? {
        out.push_str(&ferry_report::reconcile::ledger_text(&r));
    }
    Ok(out)
}

/// The recorded options as a list: those the run went by (`effective`: flags merged with the
/// Options sheets), then what the command line or the console asked for where it differs.
fn options(o: &Value) -> String {
    let mut out = String::new();
    let effective = o.get("effective").and_then(Value::as_object);
    if let Some(eff) = effective {
        out.push_str("\noptions (as the run used them)\n");
        for (k, v) in sorted(eff) {
            let _ = writeln!(out, "  {}: {}", name(k), plain(v));
        }
    }
    let asked: Vec<(&String, &Value)> = o
        .get("command_line")
        .and_then(Value::as_object)
        .map(sorted)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, v)| *k != "inputs" && effective.and_then(|e| e.get(*k)) != Some(*v))
        .collect();
    if !asked.is_empty() {
        out.push_str("\nasked for (command line or console)\n");
        for (k, v) in asked {
            let _ = writeln!(out, "  {}: {}", name(k), plain(v));
        }
    }
    out
}

/// Keys in order (a JSON object's order is not to be relied on).
fn sorted(m: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut v: Vec<(&String, &Value)> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

/// `on_existing` → `on-existing`, as the flag is spelled.
fn name(k: &str) -> String {
    k.replace('_', "-")
}

/// A value as a person writes it: text without quotes, lists joined, null as "not set".
fn plain(v: &Value) -> String {
    match v {
        Value::Null => "not set".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}
