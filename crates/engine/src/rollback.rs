//! `ferry rollback RUN` (SPEC §6.4): removes what a live run created and restores what it changed
//! (updated records, invoices of earlier runs it charged, closed or paid, companies it set on
//! contacts), in one transaction — or refuses, listing them, when later runs built on it.

use crate::RunError;
use ferry_catalogue::{self as cat, Known, Phase};
use ferry_store::journal::{RunMode, RunStatus};
use ferry_store::schema::quote;
use ferry_store::{cells, Target};
use ferry_validate::values::{parse, ValueContext};
use std::collections::BTreeSet;

/// What a rollback did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Undone {
    pub deleted: u64,
    pub restored: u64,
}

/// Later runs that built on `run`'s records, as human-readable lines (empty: safe to roll back).
pub fn dependents(target: &Target, run: i64) -> Result<Vec<String>, RunError> {
    let mut out = BTreeSet::new();
    // Every question below is about rows of a later run (`run_id > run`). Run ids only grow
    // (the journal numbers them and never deletes one) and a row only ever carries the id of
    // a run of the journal, so with no later run there are none: the latest run, the one
    // usually rolled back, is not made to join every table to every table it refers to.
    if target.int(
        "SELECT count(*) FROM run WHERE id > ?1",
        ferry_store::params![run],
    )? == 0
    {
        return Ok(vec![]);
    }
    // Records of later runs that refer to records this run created.
    for e in cat::ENTITIES {
        for r in e.refs {
            let t = cat::entity(r.target).expect("catalogue");
            let on: Vec<String> = r
                .from
                .iter()
                .zip(r.to)
                .map(|(f, g)| {
                    format!(
                        "x.{} = y.{}",
                        quote(&e.field_def(f).expect("field").column()),
                        quote(&t.field_def(g).expect("field").column())
                    )
                })
                .collect();
            let q = format!(
                "SELECT DISTINCT x.run_id FROM {} x JOIN {} y ON {} WHERE y.run_id = ?1 AND x.run_id > ?1",
                quote(&e.table()),
                quote(&t.table()),
                on.join(" AND ")
            );
            target.each(&q, ferry_store::params![run], |row| {
                out.insert(format!(
                    "run {}: {} records refer to {} records of run {run}",
                    row.int(0),
                    e.name,
                    t.name
                ));
                Ok(())
            })?;
        }
    }
    // Ledger lines or closes of later runs on invoices this run created or changed.
    let q = "SELECT DISTINCT l.run_id FROM ledger_line l WHERE l.run_id > ?1 AND l.invoice_id IN (
                SELECT id FROM invoice WHERE run_id = ?1
                UNION SELECT row_id FROM run_change WHERE run_id = ?1 AND entity = 'invoice')
             UNION SELECT DISTINCT run_id FROM close_invoice WHERE run_id > ?1 AND invoice_id IN (
                SELECT id FROM invoice WHERE run_id = ?1
                UNION SELECT row_id FROM run_change WHERE run_id = ?1 AND entity = 'invoice')";
    target.each(q, ferry_store::params![run], |row| {
        out.insert(format!(
            "run {}: ledger records on invoices that run {run} created or changed",
            row.int(0)
        ));
        Ok(())
    })?;
    // Later updates of records this run created or updated (rolled-back runs aside).
    target.each(
        "SELECT DISTINCT a.run_id, a.entity FROM run_change a JOIN run_change b ON a.entity = b.entity AND a.row_id = b.row_id
         WHERE b.run_id = ?1 AND a.run_id > ?1 AND a.run_id NOT IN (SELECT id FROM run WHERE status = 'rolled-back')",
        ferry_store::params![run],
        |row| {
            out.insert(format!("run {}: updated {} records that run {run} changed", row.int(0), row.text(1)));
            Ok(())
        },
    )?;
    for e in cat::ENTITIES {
        let q = format!(
            "SELECT DISTINCT a.run_id FROM run_change a JOIN {} y ON a.row_id = y.id WHERE a.entity = ?2 AND y.run_id = ?1 AND a.run_id > ?1
             AND a.run_id NOT IN (SELECT id FROM run WHERE status = 'rolled-back')",
            quote(&e.table())
        );
        target.each(&q, ferry_store::params![run, e.name], |row| {
            out.insert(format!(
                "run {}: updated {} records that run {run} created",
                row.int(0),
                e.name
            ));
            Ok(())
        })?;
    }
    Ok(out.into_iter().collect())
}

/// Rolls back a live run. Refuses (an error listing them) when later runs depend on it.
pub fn rollback(target: &Target, run: i64) -> Result<Undone, RunError> {
    rollback_by(target, run, ferry_store::journal::COMMAND_LINE)
}

/// [`rollback`], done by `actor` (a staff member's e-mail, kept in the journal's `run_event`).
pub fn rollback_by(target: &Target, run: i64, actor: &str) -> Result<Undone, RunError> {
    let info = target
        .run(run)?
        .ok_or_else(|| RunError::Options(format!("there is no run {run} in this target")))?;
    if info.mode != RunMode::Live {
        return Err(RunError::Options(format!(
            "run {run} was test-only: it kept no data, there is nothing to roll back"
        )));
    }
    match info.status {
        RunStatus::RolledBack => {
            return Err(RunError::Options(format!(
                "run {run} is already rolled back"
            )))
        }
        RunStatus::Running => {
            return Err(RunError::Options(format!(
                "run {run} is still running (process {}); stop it first",
                info.pid.unwrap_or(0)
            )))
        }
        _ => {}
    }
    debug_assert!(info.can_roll_back());
    let writer = target.hold_writer(run)?;
    let result = (|| -> Result<Undone, RunError> {
        let deps = dependents(target, run)?;
        if !deps.is_empty() {
            return Err(RunError::Refused(format!("run {run} cannot be rolled back: later runs built on it —\n  {}\nroll those back first", deps.join("\n  "))));
        }
        // A SQLite target is copied first; a PostgreSQL one relies on the transaction (and on
        // the server's own backups).
        if let Some(file) = target.file() {
            let backup = file.with_file_name(format!(
                "{}.before-rollback-{run}.bak",
                file.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("ferry.db")
            ));
            target.backup_to(&backup)?;
        }
        let tx = target.transaction()?;
        let undone = undo(target, run)?;
        target.finish_run(
            run,
            RunStatus::RolledBack,
            Some("rolled back"),
            (info.errors as u64, info.warnings as u64, info.infos as u64),
        )?;
        target.record_run_event(run, ferry_store::journal::RunAction::RolledBack, actor)?;
        tx.commit()?;
        Ok(undone)
    })();
    drop(writer);
    result
}

fn undo(target: &Target, run: i64) -> Result<Undone, RunError> {
    let restored = restore(target, run)?;
    let deleted = delete_created(target, run)?;
    Ok(Undone { deleted, restored })
}

/// One change the run made, from the journal.
struct Change {
    entity: String,
    id: i64,
    action: String,
    before: Option<String>,
}

/// How a change is undone: changes of one kind are undone together.
#[derive(Clone, Copy)]
enum Undo {
    /// An invoice's totals and flags back to `before`.
    Invoice,
    /// A contact's company cleared.
    SetCompany,
    /// A record's field values back to `before`.
    Update(&'static cat::Entity),
    /// Nothing to write.
    Nothing,
}

impl PartialEq for Undo {
    fn eq(&self, other: &Undo) -> bool {
        match (self, other) {
            (Undo::Update(a), Undo::Update(b)) => a.name == b.name,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl Change {
    fn undo(&self) -> Result<Undo, RunError> {
        Ok(match (self.entity.as_str(), self.action.as_str()) {
            ("invoice", _) => Undo::Invoice,
            (name, "set_company") if Known::named(name) == Some(Known::Contact) => Undo::SetCompany,
            (name, "update") => Undo::Update(cat::entity(name).ok_or_else(|| {
                RunError::Options(format!("unknown entity {name} in the journal"))
            })?),
            _ => Undo::Nothing,
        })
    }
}

/// Restores what the run updated (its prior field values), before deleting anything: the latest
/// change first. Returns how many changes were undone.
///
/// Set-based: a stretch of consecutive changes (latest first) of one kind is written in
/// statements of many rows. Within a stretch every change overwrites the same columns, so a
/// row changed twice ends with the value of the change applied last (its earliest), and only
/// that one is written; the stretches keep their order, so the result is that of undoing the
/// changes one at a time.
fn restore(target: &Target, run: i64) -> Result<u64, RunError> {
    let mut changes: Vec<Change> = vec![];
    target.each(
        "SELECT entity, row_id, action, before FROM run_change WHERE run_id = ?1 ORDER BY id DESC",
        ferry_store::params![run],
        |r| {
            changes.push(Change {
                entity: r.text(0),
                id: r.int(1),
                action: r.text(2),
                before: r.opt_text(3),
            });
            Ok(())
        },
    )?;
    let mut start = 0;
    while start < changes.len() {
        let undo = changes[start].undo()?;
        let mut end = start + 1;
        while end < changes.len() && changes[end].undo()? == undo {
            end += 1;
        }
        undo_stretch(target, undo, &changes[start..end])?;
        start = end;
    }
    Ok(changes.len() as u64)
}

/// The changes of `stretch` whose row no later change of the stretch sets again (the last one
/// applied of each row), in order.
fn last_of_each_row(stretch: &[Change]) -> Vec<&Change> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<&Change> = stretch.iter().rev().filter(|c| seen.insert(c.id)).collect();
    out.reverse();
    out
}

/// Undoes a stretch of changes of one kind.
fn undo_stretch(target: &Target, undo: Undo, stretch: &[Change]) -> Result<(), RunError> {
    let changes = last_of_each_row(stretch);
    match undo {
        Undo::Nothing => {}
        Undo::SetCompany => {
            for group in changes.chunks(500) {
                let ids: Vec<String> = group.iter().map(|c| c.id.to_string()).collect();
                target.exec(
                    &format!(
                        "UPDATE \"contact\" SET contact_company = NULL WHERE id IN ({})",
                        ids.join(", ")
                    ),
                    &[],
                )?;
            }
        }
        Undo::Invoice => restore_invoices(target, &changes)?,
        Undo::Update(e) => {
            let cols = cells::field_column_names(e);
            let mut columns: Vec<&str> = vec!["id"];
            columns.extend(cols.iter().map(String::as_str));
            columns.push("rec_hash");
            // Every row exists (the run updated it, and no later run may have removed it), so
            // each insert meets its id and updates; the row's other columns (where it came
            // from, its derived cells) stay, as an UPDATE leaves them.
            let set: Vec<String> = columns[1..]
                .iter()
                .map(|c| format!("{0} = excluded.{0}", quote(c)))
                .collect();
            let (table, set) = (e.table(), set.join(", "));
            // A few statements' worth of rows at a time: memory stays flat.
            for group in changes.chunks(1024) {
                let rows = group
                    .iter()
                    .map(|c| {
                        let (mut cells, hash) = before_cells(e, c.before.as_deref());
                        cells.insert(0, c.id.into());
                        cells.push(hash.into());
                        cells
                    })
                    .collect::<Vec<_>>();
                target.upsert(&table, &columns, &["id"], &set, &rows)?;
            }
        }
    }
    Ok(())
}

/// Writes back invoices' totals and flags as they were before the run changed them.
fn restore_invoices(target: &Target, changes: &[&Change]) -> Result<(), RunError> {
    const COLS: [&str; 6] = [
        "id",
        "closed",
        "delivered",
        "is_current",
        "total_e4",
        "disbursed_e4",
    ];
    for group in changes.chunks(256) {
        let mut params: Vec<ferry_store::Cell> = Vec::with_capacity(group.len() * COLS.len());
        let mut values = Vec::with_capacity(group.len());
        for c in group {
            let b: serde_json::Value =
                serde_json::from_str(c.before.as_deref().unwrap_or("{}")).unwrap_or_default();
            let g = |k: &str| b.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
            let first = params.len();
            params.push(c.id.into());
            params.extend(COLS[1..].iter().map(|k| g(k).into()));
            // Typed for PostgreSQL (a VALUES list alone would make its parameters text).
            let row: Vec<String> = (first + 1..=params.len())
                .map(|n| format!("CAST(?{n} AS BIGINT)"))
                .collect();
            values.push(format!("({})", row.join(", ")));
        }
        let set: Vec<String> = COLS[1..].iter().map(|c| format!("{c} = v.{c}")).collect();
        target.exec(
            &format!(
                "WITH v ({}) AS (VALUES {}) UPDATE invoice SET {} FROM v WHERE invoice.id = v.id",
                COLS.join(", "),
                values.join(", "),
                set.join(", ")
            ),
            &params,
        )?;
    }
    Ok(())
}

/// The field cells and content hash of a record of `e` whose field values were `before` (the
/// journal's texts).
fn before_cells(e: &'static cat::Entity, before: Option<&str>) -> (Vec<ferry_store::Cell>, i64) {
    let texts: Vec<Option<String>> =
        serde_json::from_str(before.unwrap_or("[]")).unwrap_or_default();
    let ctx = ValueContext::default();
    let values: Vec<Option<ferry_validate::Value>> = e
        .fields
        .iter()
        .zip(texts.iter().chain(std::iter::repeat(&None)))
        .map(|(f, t)| {
            t.as_ref()
                .and_then(|t| parse(f.kind, &ferry_sources::RawValue::Text(t.clone()), &ctx).ok())
        })
        .collect();
    let rec = ferry_validate::Record {
        entity: e,
        location: Default::default(),
        columns: vec![None; e.fields.len()],
        invalid: vec![false; e.fields.len()],
        values,
    };
    (cells::to_cells(e, &rec.values), rec.content_hash())
}

/// Deletes the rows of `table` that run `run` wrote; returns how many.
///
/// On SQLite, when the run wrote every row of the table (the first import of a fresh target),
/// the statement names no row: SQLite then frees the table's and its indexes' pages whole (its
/// truncate optimization; there are no triggers and no foreign keys) instead of taking every
/// row out of every index one at a time. The same rows go, and the count is exact either way.
/// PostgreSQL deletes row by row in both forms (and `TRUNCATE` would change what concurrent
/// readers see), so it keeps the one statement.
fn delete_rows_of(target: &Target, table: &str, run: i64) -> Result<u64, RunError> {
    let t = quote(table);
    let all_of_run = !target.is_postgres()
        && target.int(
            &format!("SELECT NOT EXISTS (SELECT 1 FROM {t} WHERE run_id IS NOT ?1)"),
            ferry_store::params![&run],
        )? == 1;
    let sql = if all_of_run {
        format!("DELETE FROM {t}")
    } else {
        format!("DELETE FROM {t} WHERE run_id = ?1")
    };
    let params: &[ferry_store::Cell] = if all_of_run {
        &[]
    } else {
        ferry_store::params![&run]
    };
    Ok(target.exec(&sql, params)? as u64)
}

/// Removes what the run created; returns how many rows.
fn delete_created(target: &Target, run: i64) -> Result<u64, RunError> {
    let mut deleted = 0u64;
    // Remove what it created: entity rows in reverse dependency order, then derived rows.
    let mut order: Vec<&'static cat::Entity> = vec![];
    for p in cat::dependency_order() {
        match p {
            Phase::Ledger => order.extend(
                cat::LEDGER_TYPES
                    .iter()
                    .map(|t| cat::entity(t).expect("ledger type")),
            ),
            Phase::Entity(id) => order.push(cat::by_id(id)),
        }
    }
    let tables = order.iter().rev().map(|e| e.table());
    // The certification model the run wrote (SPEC §11), enrollments before what they name;
    // then the ledger's and the run's own rows.
    let others = [
        "cert_enrollment",
        "cert_registration",
        "cert_program_component",
        "cert_component",
        "cert_program",
        "disbursement",
        "ledger_line",
        "invoice",
        "pending_login",
        "run_rejected",
    ];
    for table in tables.chain(others.iter().map(|t| t.to_string())) {
        deleted += delete_rows_of(target, &table, run)?;
    }
    // The run's logins, and logins staff gave to its accounts later (they go with the account);
    // their journal stays, no longer pointing at a login id that a later login may take.
    let gone = "SELECT id FROM login WHERE run_id = ?1 OR NOT EXISTS (SELECT 1 FROM \"user\" u WHERE u.name = login.\"user\")";
    target.exec(
        &format!("UPDATE login_event SET login_id = NULL WHERE login_id IN ({gone})"),
        ferry_store::params![&run],
    )?;
    target.exec(
        &format!("DELETE FROM reset_token WHERE login_id IN ({gone})"),
        ferry_store::params![&run],
    )?;
    deleted += target.exec(
        "DELETE FROM login WHERE run_id = ?1 OR NOT EXISTS (SELECT 1 FROM \"user\" u WHERE u.name = login.\"user\")",
        ferry_store::params![&run],
    )? as u64;
    Ok(deleted)
}
