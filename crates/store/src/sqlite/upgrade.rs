//! What `ferry upgrade` reads of a SQLite target: the objects of its schema, and those of
//! Ferry's own schema at a version, built in an in-memory database.

use super::Sqlite;
use crate::schema;
use crate::upgrade::{Object, ObjectKind};
use crate::{params, Result, Target};
use std::collections::BTreeMap;
use std::path::Path;

/// The schema objects of the target.
pub(super) fn schema_objects(t: &Target) -> Result<Vec<Object>> {
    let mut out = vec![];
    sqlite_objects(t, &mut out)?;
    Ok(out)
}

/// The objects of Ferry's own schema at `version`: the migrations applied to an in-memory
/// database.
pub(super) fn expected_objects(version: i64) -> Result<Vec<Object>> {
    let c = rusqlite::Connection::open_in_memory()?;
    for (v, sql) in schema::MIGRATIONS {
        if *v <= version {
            c.execute_batch(sql)?;
        }
    }
    let mem = Target::file_at(Sqlite::new(c), Path::new(":memory:"));
    schema_objects(&mem)
}

/// After an upgrade that removed values: the deleted content was overwritten
/// (`secure_delete`, switched on by [`before_scrub`]); the WAL is checkpointed and emptied.
pub(super) fn scrub(t: &Target) -> BTreeMap<String, String> {
    let mut failed = BTreeMap::new();
    let _ = t.batch("PRAGMA secure_delete = OFF");
    if let Err(e) = t.batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        failed.insert("(write-ahead log)".into(), e.to_string());
    }
    failed
}

/// Before an upgrade that removes values: SQLite overwrites deleted content while this is on.
pub(super) fn before_scrub(t: &Target) -> Result<()> {
    t.batch("PRAGMA secure_delete = ON")
}

/// SQLite: the tables (with their columns), views, indexes and triggers.
fn sqlite_objects(t: &Target, out: &mut Vec<Object>) -> Result<()> {
    let rows = t.rows(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master
         WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
        &[],
    )?;
    for r in rows {
        let (kind, name, table, sql) = (r.text(0), r.text(1), r.text(2), r.text(3));
        let kind = match kind.as_str() {
            "table" => ObjectKind::Table,
            "view" => ObjectKind::View,
            "index" => ObjectKind::Index,
            "trigger" => ObjectKind::Trigger,
            _ => continue,
        };
        if kind == ObjectKind::Table {
            for c in t.rows(
                "SELECT name FROM pragma_table_info(?1)",
                params![name.clone()],
            )? {
                out.push(Object {
                    kind: ObjectKind::Column,
                    name: format!("{name}.{}", c.text(0)),
                    table: Some(name.clone()),
                    sql: String::new(),
                });
            }
        }
        let table = (kind != ObjectKind::Table && kind != ObjectKind::View).then_some(table);
        out.push(Object {
            kind,
            name,
            table,
            sql,
        });
    }
    Ok(())
}
