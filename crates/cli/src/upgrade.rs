//! `ferry upgrade check|rehearse|apply`: glue over `ferry_store::upgrade` — opening the target at
//! any version, the copy a rehearsal runs on, the backup before an upgrade, and the report.

use crate::Failure;
use anyhow::anyhow;
use ferry_store::upgrade::{Applied, Check, Customization, UpgradeError};
use ferry_store::{pg, Target};
use std::path::PathBuf;

/// Prints a line to stderr, never panicking on a closed stream.
fn say(s: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{s}");
}

fn print_json(v: &serde_json::Value) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_default()
    );
}

fn stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

fn print_check(c: &Check) {
    say(&format!(
        "Target {} ({}): schema version {}; this Ferry uses version {}.",
        c.target, c.backend, c.version, c.current
    ));
    if c.pending.is_empty() {
        say("No pending migrations: the target is up to date.");
    } else {
        say(&format!("Pending migrations ({}):", c.pending.len()));
        for p in &c.pending {
            say(&format!("  {:>3}  {}", p.version, p.title));
            for ch in &p.changes {
                say(&format!("         {}", ferry_store::upgrade::describe(ch)));
            }
        }
    }
    if c.customizations.is_empty() {
        say(&format!(
            "Customizations: none (every object is part of Ferry's schema for version {}).",
            c.version
        ));
        return;
    }
    say(&format!(
        "Customizations: {} object(s) not in Ferry's schema for version {}:",
        c.customizations.len(),
        c.version
    ));
    let width = c
        .customizations
        .iter()
        .map(|x| x.name.chars().count())
        .max()
        .unwrap_or(0);
    for x in &c.customizations {
        let on = match (&x.table, x.kind) {
            (Some(t), k) if k != ferry_store::upgrade::ObjectKind::Column => format!(" on {t}"),
            _ => String::new(),
        };
        let line = format!(
            "  {:<17} {:<width$}{on}",
            x.kind.word(),
            x.name,
            width = width
        );
        say(line.trim_end());
        for i in &x.impacts {
            say(&format!("      {}: {}", i.effect.word(), i.reason));
        }
    }
    let risky: Vec<&Customization> = c.at_risk().collect();
    if risky.is_empty() {
        say("None of them is touched by the pending migrations.");
    } else {
        say(&format!(
            "{} of them would be dropped, broken, in the way or run by the migrations: replace or remove them before `ferry upgrade apply` (or apply with --force).",
            risky.len()
        ));
    }
}

fn print_applied(a: &Applied, target: &str, rehearsal: bool) {
    let rows: i64 = a.before.rows.values().sum();
    say(&format!(
        "{} {target} from schema version {} to {} (migration{} {}).",
        if rehearsal {
            "Rehearsed the upgrade of"
        } else {
            "Upgraded"
        },
        a.from,
        a.to,
        if a.migrations.len() == 1 { "" } else { "s" },
        a.migrations
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    say(&format!(
        "Checks passed: {} tables with {rows} rows unchanged; ledger totals unchanged; every account's ledger sums unchanged; {} references checked, none broken by the upgrade.",
        a.before.rows.len(),
        a.after.broken.len()
    ));
    for (name, n) in &a.broken_before {
        say(&format!(
            "  note: {n} rows had a broken reference {name} before the upgrade already"
        ));
    }
    for (table, why) in &a.not_scrubbed {
        say(&format!(
            "  note: the old row versions of {table} could not be scrubbed ({why}); run VACUUM FULL on it"
        ));
    }
}

fn applied_json(a: &Applied) -> serde_json::Value {
    serde_json::json!({
        "from": a.from,
        "to": a.to,
        "migrations": a.migrations,
        "rows": a.after.rows,
        "ledger": a.after.ledger.iter().map(|(k, (amount, disbursed))| (k.clone(), serde_json::json!({"amount_e4": amount, "disbursed_e4": disbursed}))).collect::<serde_json::Map<_, _>>(),
        "broken_references": a.after.broken.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), serde_json::json!(n))).collect::<serde_json::Map<_, _>>(),
        "broken_before": a.broken_before,
    })
}

/// What version 1 kept of card and account numbers that the upgrade removes: whether the
/// fingerprint key was in the target, and how many fingerprints were made with it.
fn legacy_secrets(t: &Target) -> (bool, i64) {
    let key = t
        .int(
            "SELECT count(*) FROM ferry_meta WHERE key = 'fingerprint_key'",
            &[],
        )
        .unwrap_or(0)
        > 0;
    let fingerprints = t
        .int(
            "SELECT (SELECT count(card_fingerprint) FROM user_payment_method_credit_card) + (SELECT count(account_fingerprint) FROM user_payment_method_ach)",
            &[],
        )
        .unwrap_or(0);
    (key, fingerprints)
}

/// Other copies of a SQLite target beside it (`<file>.….bak`): made before the upgrade, they
/// hold what it removed.
fn older_copies(db: &str) -> Vec<String> {
    let path = std::path::Path::new(db);
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return vec![];
    };
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.starts_with(&format!("{name}.")) && n.ends_with(".bak"))
                .map(|n| dir.join(n).display().to_string())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Says what the upgrade removed of version 1's card fingerprints and which copies still hold it.
fn print_secrets(removed: (bool, i64), db: &str, backup: Option<&str>, postgres: bool) {
    let (key, n) = removed;
    if !key && n == 0 {
        return;
    }
    say(&format!(
        "Card and account numbers: version 1 kept their fingerprint key in the target, so any copy of the target was enough to recover the numbers. The upgrade removed the key{} (a key kept outside the target makes new ones when the numbers are imported again).",
        if n > 0 { format!(" and the {n} fingerprint(s) made with it") } else { String::new() }
    ));
    let mut copies: Vec<String> = if postgres { vec![] } else { older_copies(db) };
    if let Some(b) = backup {
        if postgres {
            copies.push(format!("the database {b}"));
        } else if !copies.iter().any(|c| c.ends_with(b)) {
            copies.push(b.to_string());
        }
    }
    say(&format!(
        "  Every copy of the target from before the upgrade still holds the old key: {}any dump or file copy of it. Anyone with one can recover the numbers: delete them once the upgrade is verified.",
        if copies.is_empty() { String::new() } else { format!("{}, ", copies.join(", ")) }
    ));
}

fn failed(e: UpgradeError) -> Failure {
    let code = match e {
        UpgradeError::Newer { .. } | UpgradeError::Store(_) => 2,
        _ => 1,
    };
    Failure {
        code,
        error: anyhow!(e),
    }
}

pub fn check(db: &str, json: bool) -> Result<u8, Failure> {
    let t = Target::open_unchecked(db)?;
    let c = t.upgrade_check()?;
    if json {
        print_json(&serde_json::to_value(&c).unwrap_or_default());
    } else {
        print_check(&c);
    }
    Ok(0)
}

/// Where a rehearsal's copy goes: beside a SQLite file, or a new database on the same server.
fn copy_name(db: &str, what: &str) -> Result<String, Failure> {
    if pg::is_url(db) {
        let base = pg::dbname(db)?;
        // PostgreSQL names are at most 63 bytes.
        let suffix = format!("_{what}_{}", stamp().to_lowercase());
        let keep = 63usize.saturating_sub(suffix.len());
        let mut cut = base.len().min(keep);
        while !base.is_char_boundary(cut) {
            cut -= 1;
        }
        Ok(format!("{}{suffix}", &base[..cut]))
    } else {
        Ok(format!("{db}.{what}-{}", stamp()))
    }
}

pub fn rehearse(db: &str, json: bool, keep: bool) -> Result<u8, Failure> {
    let t = Target::open_unchecked(db)?;
    let c = t.upgrade_check()?;
    if c.pending.is_empty() {
        if json {
            print_json(
                &serde_json::json!({"target": c.target, "version": c.version, "pending": [], "result": "up to date"}),
            );
        }
        say(&format!(
            "Target {} is at schema version {}: nothing to rehearse.",
            c.target, c.version
        ));
        return Ok(0);
    }
    let name = copy_name(db, "rehearsal")?;
    let copy = if t.is_postgres() {
        drop(t);
        pg::copy_database(db, &name)?
    } else {
        t.backup_to(&PathBuf::from(&name))?;
        drop(t);
        name.clone()
    };
    let shown = if pg::is_url(&copy) {
        pg::shown(&copy)
    } else {
        copy.clone()
    };
    say(&format!("Rehearsing on a copy of the target: {shown}"));
    let result = Target::open_unchecked(&copy)
        .map_err(UpgradeError::from)
        .and_then(|c| {
            let r = c.upgrade_apply();
            drop(c);
            r
        });
    let removed = if keep {
        false
    } else if pg::is_url(&copy) {
        pg::drop_database(&copy).is_ok()
    } else {
        std::fs::remove_file(&copy).is_ok()
    };
    let kept = if removed {
        "the copy was removed"
    } else {
        "the copy was kept"
    };
    match result {
        Ok(a) => {
            if json {
                let mut v = applied_json(&a);
                v["rehearsal"] = serde_json::json!(true);
                v["copy"] = serde_json::json!(if removed { None } else { Some(&shown) });
                v["customizations_at_risk"] =
                    serde_json::to_value(c.at_risk().collect::<Vec<_>>()).unwrap_or_default();
                print_json(&v);
            }
            print_applied(&a, &c.target, true);
            let risky = c.at_risk().count();
            if risky > 0 {
                say(&format!("{risky} customization(s) would be dropped, broken, in the way or run by the migrations: see `ferry upgrade check`."));
            }
            say(&format!("The target itself was not touched; {kept}."));
            Ok(0)
        }
        Err(e) => {
            say(&format!(
                "The rehearsal failed; the target itself was not touched; {kept}."
            ));
            Err(failed(e))
        }
    }
}

pub fn apply(db: &str, json: bool, no_backup: bool, force: bool) -> Result<u8, Failure> {
    let t = Target::open_unchecked(db)?;
    let c = t.upgrade_check()?;
    if c.version > c.current {
        return Err(failed(UpgradeError::Newer {
            target: c.target,
            found: c.version,
            current: c.current,
        }));
    }
    if c.pending.is_empty() {
        if json {
            print_json(
                &serde_json::json!({"target": c.target, "from": c.version, "to": c.version, "migrations": []}),
            );
        }
        say(&format!(
            "Target {} is already at schema version {}: nothing to do.",
            c.target, c.version
        ));
        return Ok(0);
    }
    let secrets = legacy_secrets(&t);
    let risky: Vec<&Customization> = c.at_risk().collect();
    if !risky.is_empty() && !force {
        print_check(&c);
        return Err(Failure {
            code: 1,
            error: anyhow!("not upgraded: {} customization(s) would be dropped, broken, in the way or run by the migrations (listed above); replace or remove them, or apply with --force", risky.len()),
        });
    }
    // The writer lock keeps runs out while the target is copied and migrated. A PostgreSQL copy
    // needs the database idle, so it is taken before this process connects again.
    let (t, backup, before_runs) = if t.is_postgres() {
        let before_runs = t.int("SELECT coalesce(max(id), 0) FROM run", &[])?;
        drop(t);
        let backup = if no_backup {
            None
        } else {
            let name = copy_name(db, &format!("v{}", c.version))?;
            pg::copy_database(db, &name)?;
            Some(name)
        };
        (Target::open_unchecked(db)?, backup, Some(before_runs))
    } else {
        (t, None, None)
    };
    // Given back on every way out.
    let writer = t.hold_writer(0)?;
    if let Some(before_runs) = before_runs {
        if t.int("SELECT coalesce(max(id), 0) FROM run", &[])? != before_runs {
            return Err(anyhow!("a run started while the target was being backed up; run `ferry upgrade apply` again").into());
        }
    }
    let backup = match backup {
        Some(name) => Some(name),
        None if no_backup || t.is_postgres() => None,
        None => {
            let name = copy_name(db, &format!("v{}", c.version))? + ".bak";
            t.backup_to(&PathBuf::from(&name))?;
            Some(name)
        }
    };
    let r = t.upgrade_apply();
    drop(writer);
    match r {
        Ok(a) => {
            if json {
                let mut v = applied_json(&a);
                v["backup"] = serde_json::json!(backup);
                v["fingerprint_key_removed"] = serde_json::json!(secrets.0);
                v["fingerprints_removed"] = serde_json::json!(secrets.1);
                print_json(&v);
            }
            print_applied(&a, &c.target, false);
            match &backup {
                Some(b) if t.is_postgres() => say(&format!("Backup: the database {b} on the same server (a copy taken before the upgrade); drop it when you no longer need it.")),
                Some(b) => say(&format!("Backup: {b} (a copy taken before the upgrade).")),
                None => say("No backup was taken (--no-backup)."),
            }
            print_secrets(secrets, db, backup.as_deref(), t.is_postgres());
            Ok(0)
        }
        Err(e) => {
            say("The upgrade did not complete; the target is as it was.");
            Err(failed(e))
        }
    }
}
