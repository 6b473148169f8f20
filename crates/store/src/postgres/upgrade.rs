//! What `ferry upgrade` reads of a PostgreSQL target: the objects of its schema (and views of
//! other schemas that read it), and those of Ferry's own schema at a version, built in a
//! scratch schema that is rolled back.

use crate::schema::{self, quote};
use crate::upgrade::{Object, ObjectKind};
use crate::{Result, Target};
use std::collections::{BTreeMap, BTreeSet};

/// The schema objects of the target's main schema.
pub(super) fn schema_objects(t: &Target) -> Result<Vec<Object>> {
    let mut out = vec![];
    pg_relations(t, &mut out)?;
    pg_views_elsewhere(t, &mut out)?;
    pg_columns_and_indexes(t, &mut out)?;
    pg_code(t, &mut out)?;
    Ok(out)
}

/// The objects of Ferry's own schema at `version`: the migrations applied in a scratch schema
/// inside a transaction that is rolled back.
pub(super) fn expected_objects(t: &Target, version: i64) -> Result<Vec<Object>> {
    let scratch = format!("ferry_audit_{}", std::process::id());
    let tx = t.transaction()?;
    let r = (|| {
        t.batch(&format!(
            "CREATE SCHEMA {0}; SET LOCAL search_path = {0}",
            quote(&scratch)
        ))?;
        for (v, sql) in schema::MIGRATIONS_PG {
            if *v <= version {
                t.batch(sql)?;
            }
        }
        schema_objects(t)
    })();
    tx.rollback()?;
    r
}

/// After an upgrade that removed values: the tables are rewritten (`VACUUM FULL`), so the dead
/// row versions leave the data files. Returns the tables that could not be, with why.
pub(super) fn scrub(t: &Target, tables: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut failed = BTreeMap::new();
    for table in tables {
        if let Err(e) = t.batch(&format!("VACUUM FULL {}", quote(table))) {
            failed.insert(table.clone(), e.to_string());
        }
    }
    failed
}

/// PostgreSQL: the tables, views and sequences of the main schema.
fn pg_relations(t: &Target, out: &mut Vec<Object>) -> Result<()> {
    let rows = t.rows(
        "SELECT c.relname, c.relkind, CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) ELSE '' END
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
         ORDER BY c.relname",
        &[],
    )?;
    for r in rows {
        let kind = match r.text(1).as_str() {
            "v" => ObjectKind::View,
            "m" => ObjectKind::MaterializedView,
            "S" => ObjectKind::Sequence,
            _ => ObjectKind::Table,
        };
        out.push(Object {
            kind,
            name: r.text(0),
            table: None,
            sql: r.text(2),
        });
    }
    Ok(())
}

/// PostgreSQL: views of other schemas that read the main schema's tables.
fn pg_views_elsewhere(t: &Target, out: &mut Vec<Object>) -> Result<()> {
    // Views in other schemas that read the target's tables break with them just the same.
    for r in t.rows(
        "SELECT DISTINCT vn.nspname || '.' || v.relname, CAST(v.relkind AS TEXT), pg_catalog.pg_get_viewdef(v.oid)
         FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite w ON w.oid = d.objid
         JOIN pg_catalog.pg_class v ON v.oid = w.ev_class JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
         JOIN pg_catalog.pg_class c ON c.oid = d.refobjid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND n.nspname = current_schema()
           AND vn.nspname <> current_schema() AND v.oid <> c.oid
         ORDER BY 1",
        &[],
    )? {
        let kind = if r.text(1) == "m" {
            ObjectKind::MaterializedView
        } else {
            ObjectKind::View
        };
        out.push(Object { kind, name: r.text(0), table: None, sql: r.text(2) });
    }
    Ok(())
}

/// PostgreSQL: the main schema's columns, and its indexes that back no constraint.
fn pg_columns_and_indexes(t: &Target, out: &mut Vec<Object>) -> Result<()> {
    for r in t.rows(
        "SELECT c.relname, a.attname FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY c.relname, a.attnum",
        &[],
    )? {
        let table = r.text(0);
        out.push(Object {
            kind: ObjectKind::Column,
            name: format!("{table}.{}", r.text(1)),
            table: Some(table),
            sql: String::new(),
        });
    }
    // Indexes that back a constraint belong to the table's definition.
    for r in t.rows(
        "SELECT i.relname, c.relname, pg_catalog.pg_get_indexdef(i.oid) FROM pg_catalog.pg_index x
         JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace
         WHERE n.nspname = current_schema()
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.oid)
         ORDER BY i.relname",
        &[],
    )? {
        out.push(Object {
            kind: ObjectKind::Index,
            name: r.text(0),
            table: Some(r.text(1)),
            sql: r.text(2),
        });
    }
    Ok(())
}

/// PostgreSQL: the main schema's triggers, functions and procedures.
fn pg_code(t: &Target, out: &mut Vec<Object>) -> Result<()> {
    for r in t.rows(
        "SELECT g.tgname, c.relname, pg_catalog.pg_get_triggerdef(g.oid) || ' ' || coalesce(p.prosrc, '')
         FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_proc p ON p.oid = g.tgfoid
         WHERE n.nspname = current_schema() AND NOT g.tgisinternal
         ORDER BY g.tgname",
        &[],
    )? {
        out.push(Object {
            kind: ObjectKind::Trigger,
            name: r.text(0),
            table: Some(r.text(1)),
            sql: r.text(2),
        });
    }
    for r in t.rows(
        "SELECT p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', CAST(p.prokind AS TEXT), coalesce(p.prosrc, '')
         FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = current_schema()
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
         ORDER BY 1",
        &[],
    )? {
        let kind = if r.text(1) == "p" {
            ObjectKind::Procedure
        } else {
            ObjectKind::Function
        };
        out.push(Object { kind, name: r.text(0), table: None, sql: r.text(2) });
    }
    Ok(())
}
