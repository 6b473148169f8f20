//! A run's findings grouped by code for the terminal: how many of each, the first few places
//! and messages, errors before warnings before notes, and root causes before knock-on records.

use crate::text::{count, file_name, number, place};
use anyhow::Result;
use ferry_findings::{Code, Finding, Severity};
use ferry_store::Target;
use std::collections::HashMap;
use std::fmt::Write as _;

/// All findings of one code in a run.
pub struct Group {
    pub code: Code,
    pub severity: Severity,
    pub count: u64,
    /// The first few, as `(place, message)`.
    pub examples: Vec<(String, String)>,
}

/// The run's findings by code, in reading order: errors, warnings, notes; within each, root
/// causes first (records rejected because a record they refer to was, last), then the most
/// frequent. Keeps `examples` of each code; reads the findings once, whatever their number.
pub fn digest(t: &Target, run: i64, examples: usize) -> Result<Vec<Group>> {
    let mut groups: Vec<Group> = vec![];
    let mut at: HashMap<(Code, Severity), usize> = HashMap::new();
    t.findings(run, |f| {
        let i = *at.entry((f.code, f.severity)).or_insert_with(|| {
            groups.push(Group {
                code: f.code,
                severity: f.severity,
                count: 0,
                examples: vec![],
            });
            groups.len() - 1
        });
        let g = &mut groups[i];
        g.count += 1;
        if g.examples.len() < examples {
            g.examples.push(example(&f));
        }
        Ok(())
    })?;
    groups.sort_by_key(|g| {
        (
            std::cmp::Reverse(g.severity),
            knock_on(g.code),
            std::cmp::Reverse(g.count),
            g.code.as_str(),
        )
    });
    Ok(groups)
}

/// Whether a code says only that a record went with the record it refers to.
pub fn knock_on(code: Code) -> bool {
    code == Code::RejectedParent
}

/// One finding as a place and a message (the input's path shortened to its name, the hint
/// added).
fn example(f: &Finding) -> (String, String) {
    let mut message = f
        .message
        .replace(&*f.location.file, file_name(&f.location.file));
    if let Some(h) = &f.hint {
        message = format!("{} ({h})", message.trim_end_matches('.'));
    }
    (place(&f.location, f.field.as_deref()), message)
}

fn noun(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Error => ("error", "errors"),
        Severity::Warning => ("warning", "warnings"),
        Severity::Info => ("note", "notes"),
    }
}

/// The groups as text, a section per severity (notes only when `notes`): at most `codes`
/// codes of each with their count and first places; the other codes counted in one line.
pub fn render(groups: &[Group], codes: usize, notes: bool) -> String {
    let mut out = String::new();
    for sev in [Severity::Error, Severity::Warning, Severity::Info] {
        let of: Vec<&Group> = groups.iter().filter(|g| g.severity == sev).collect();
        if of.is_empty() {
            continue;
        }
        let (one, many) = noun(sev);
        let total: u64 = of.iter().map(|g| g.count).sum();
        let title = format!("{}{}", many[..1].to_uppercase(), &many[1..]);
        if sev == Severity::Info && !notes {
            let _ = writeln!(out, "{title} ({}): {}", number(total), codes_line(&of));
            continue;
        }
        let _ = writeln!(out, "{title} by code ({}):", number(total));
        for g in of.iter().take(codes) {
            section(&mut out, g, one, many);
        }
        if of.len() > codes {
            let _ = writeln!(out, "  also: {}", codes_line(&of[codes..]));
        }
    }
    out
}

/// One code: its count, then its first places and messages.
fn section(out: &mut String, g: &Group, one: &str, many: &str) {
    let why = if knock_on(g.code) {
        " (rejected because a record they refer to was rejected: fix that one first)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "  {} — {}{why}",
        g.code.as_str(),
        count(g.count, one, many)
    );
    let width = g
        .examples
        .iter()
        .map(|e| e.0.chars().count())
        .max()
        .unwrap_or(0);
    for (p, m) in &g.examples {
        let _ = writeln!(out, "      {p:<width$}  {m}");
    }
    let more = g.count.saturating_sub(g.examples.len() as u64);
    if more > 0 {
        let _ = writeln!(out, "      … and {} more", number(more));
    }
}

/// `value.date_invalid 1, value.email_invalid 1`.
fn codes_line(groups: &[&Group]) -> String {
    groups
        .iter()
        .map(|g| format!("{} {}", g.code.as_str(), number(g.count)))
        .collect::<Vec<_>>()
        .join(", ")
}
