//! The import summary a person reads: the outcome in one line, the findings grouped by code,
//! the entity types that had anything rejected, skipped or updated, the ledger, and where the
//! rest is. Results and diagnostics are returned apart (stdout and stderr).

use crate::digest;
use crate::text::{count, number};
use anyhow::Result;
use ferry_engine::Summary;
use ferry_store::journal::{Counts, RunMode};
use ferry_store::Target;
use std::fmt::Write as _;
use std::path::Path;

/// Codes of each severity the import summary shows with examples, and examples per code.
const CODES: usize = 6;
const EXAMPLES: usize = 2;

/// What a person sees after an import: `(results, diagnostics)`.
pub struct Shown {
    pub results: String,
    pub diagnostics: String,
}

/// `Run 1 (test-only): completed with errors — 21 errors, 7 warnings.`
pub fn outcome_line(s: &Summary) -> String {
    // An import says only its mode; another kind (certification, config) names itself.
    let kind = if s.kind.is_import() {
        String::new()
    } else {
        format!("{}, ", s.kind)
    };
    let mut tally = vec![
        count(s.errors, "error", "errors"),
        count(s.warnings, "warning", "warnings"),
    ];
    if s.infos > 0 {
        tally.push(count(s.infos, "note", "notes"));
    }
    format!(
        "Run {} ({kind}{}): {} — {}.",
        s.run,
        s.mode,
        s.status.to_string().replace('-', " "),
        tally.join(", ")
    )
}

/// The whole summary of a finished run.
/// `temporary`: the run went into a temporary target that is gone with it (a rehearsal without
/// a target), so neither `ferry runs show` nor the target keeps anything of it.
pub fn summary(
    t: &Target,
    s: &Summary,
    log: Option<&Path>,
    verbose: bool,
    temporary: bool,
) -> Result<Shown> {
    let mut out = String::new();
    let mut diag = String::new();
    let _ = writeln!(out, "{}", outcome_line(s));
    let groups = digest::digest(t, s.run, EXAMPLES)?;
    if !groups.is_empty() {
        out.push('\n');
        out.push_str(&digest::render(
            &groups,
            if verbose { usize::MAX } else { CODES },
            verbose,
        ));
    }
    out.push('\n');
    out.push_str(&counts_table(&s.counts, verbose));
    if let Some(l) = &s.logins {
        let _ = writeln!(out, "{}", logins_line(l));
    }
    if let Ok(Some(r)) = ferry_report::reconcile::reconcile(t, s.run) {
        let text = ferry_report::reconcile::ledger_text(&r);
        if !text.is_empty() {
            let _ = writeln!(out, "{}", text.trim_end());
        }
    }
    if !s.added_components.is_empty() {
        let _ = writeln!(
            out,
            "--add-missing-components added {} to programs for the migration; remove them afterwards where the programs no longer contain them:",
            count(s.added_components.len() as u64, "component", "components")
        );
        for a in &s.added_components {
            let _ = writeln!(out, "  program {}: component {}", a.program, a.component);
        }
    }
    if let Some(b) = &s.backup {
        let _ = writeln!(out, "Backup of the target before this run: {}", b.display());
    }
    fingerprint_notes(s, &mut diag);
    out.push('\n');
    match log {
        Some(log) => {
            let _ = writeln!(out, "All findings: {}", log.display());
        }
        None if temporary && s.errors + s.warnings + s.infos > 0 => {
            let _ = writeln!(
                out,
                "All findings: run again with --log findings.csv (or .jsonl, .html); this rehearsal's target is gone."
            );
        }
        None if s.errors + s.warnings + s.infos > 0 => {
            let _ = writeln!(
                out,
                "All findings: `ferry runs show {}`, or run again with --log findings.csv (or .jsonl, .html).",
                s.run
            );
        }
        None => {}
    }
    if s.mode == RunMode::TestOnly && temporary {
        let _ = writeln!(
            out,
            "Test-only: nothing was kept (there was no target: it rehearsed in a temporary one)."
        );
    } else if s.mode == RunMode::TestOnly {
        let _ = writeln!(
            out,
            "Test-only: nothing was kept but the run record and its findings."
        );
    }
    Ok(Shown {
        results: out,
        diagnostics: diag,
    })
}

/// Records read = imported + updated + skipped + rejected per entity type. Unless `verbose`,
/// only the types with something updated or rejected (or that do not balance); the others —
/// every record imported, or skipped as already in the target (a re-run, a retry) — are
/// counted in one line.
pub fn counts_table(counts: &[(String, Counts)], verbose: bool) -> String {
    let clean = |c: &Counts| c.balanced() && c.rejected == 0 && c.updated == 0;
    let shown: Vec<(String, Counts)> = counts
        .iter()
        .filter(|(_, c)| verbose || !clean(c))
        .cloned()
        .collect();
    let hidden = counts.len() - shown.len();
    let total = counts.iter().fold(Counts::default(), |mut t, (_, c)| {
        t.read += c.read;
        t.imported += c.imported;
        t.updated += c.updated;
        t.skipped += c.skipped;
        t.rejected += c.rejected;
        t
    });
    let mut out = String::new();
    let types = count(counts.len() as u64, "entity type", "entity types");
    if shown.is_empty() {
        let how = if total.skipped == 0 {
            "every one imported".to_string()
        } else {
            format!(
                "{} imported, {} skipped as already in the target",
                number(total.imported),
                number(total.skipped)
            )
        };
        let _ = writeln!(
            out,
            "Records: {} read, {how} ({types}; --verbose lists them).",
            number(total.read)
        );
        return out;
    }
    let (table, _) = ferry_report::reconcile::counts_text(&shown);
    out.push_str(&table);
    if hidden > 0 {
        let _ = writeln!(
            out,
            "{:<30} (every record imported or already in the target; --verbose lists them)",
            format!("… {}", count(hidden as u64, "other type", "other types"))
        );
    }
    let _ = writeln!(
        out,
        "{:<30} {:>9} {:>9} {:>9} {:>9} {:>9}",
        format!("total ({types})"),
        total.read,
        total.imported,
        total.updated,
        total.skipped,
        total.rejected
    );
    out
}

fn logins_line(l: &ferry_engine::logins::LoginSummary) -> String {
    // Only what happened: no hashing line when no password came with the accounts.
    let mut parts = vec![format!("{} created", number(l.created))];
    if l.passwords_hashed > 0 {
        parts.push(format!(
            "{} hashed with Argon2id (m={} KiB, t={}, p={}) on {} of {} threads",
            count(l.passwords_hashed, "password", "passwords"),
            l.argon2.0,
            l.argon2.1,
            l.argon2.2,
            l.hash_threads_used,
            l.hash_threads
        ));
    }
    if l.legacy_hashes > 0 {
        parts.push(format!(
            "{} kept as given (upgraded at first sign-in)",
            count(l.legacy_hashes, "legacy hash", "legacy hashes")
        ));
    }
    format!("Logins: {}.", parts.join("; "))
}

/// The fingerprint key: what a live run would need, or the new key file to back up.
fn fingerprint_notes(s: &Summary, diag: &mut String) {
    match (&s.fingerprint_key_missing, s.fingerprint_key_temporary) {
        (Some(why), _) => {
            let _ = writeln!(diag, "Warning: the live run of these inputs would stop before writing: {why}.\n  (This test-only run fingerprinted card and account numbers with a throwaway key.)");
        }
        (None, true) => {
            let _ = writeln!(diag, "This target has no fingerprint key for card and account numbers yet: this test-only run used a throwaway one. The live run makes the target's key in a file outside it (where --fingerprint-key FILE says, or in the user's data folder) and says where.");
        }
        (None, false) => {}
    }
    if let Some(k) = &s.fingerprint_key_created {
        let _ = writeln!(
            diag,
            "A new fingerprint key for this target's card and account numbers is in {}.\n  Back it up apart from the database and keep it off the database server and its backups:\n  later runs need it (--fingerprint-key FILE or FERRY_FINGERPRINT_KEY_FILE on another machine),\n  and anyone holding it and a copy of the target could recover the numbers.",
            k.display()
        );
    }
}
