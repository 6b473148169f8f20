//! PostgreSQL's bulk path: queued rows written with binary COPY, typed by the table's columns.

use super::conn::Pg;
use super::error::classify;
use crate::backend::Upsert;
use crate::schema::{quote, quote_list};
use crate::{Cell, StoreError};
use postgres::types::{ToSql, Type};
use std::collections::HashMap;

impl Pg {
    /// Writes rows (`columns.len()` cells each, one after another) with binary COPY.
    pub fn copy_in(
        &mut self,
        table: &str,
        columns: &[&str],
        cells: &[Cell],
    ) -> Result<(), StoreError> {
        use postgres::binary_copy::BinaryCopyInWriter;
        let shown = self.shown.clone();
        let types = self.column_types(table, columns)?;
        let sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            quote(table),
            quote_list(columns)
        );
        // Prepared once per connection: a COPY by its text alone would be parsed by the server
        // in a round trip of its own each time.
        let statement = self.statement(&sql)?;
        let writer = self
            .client
            .copy_in(&statement)
            .map_err(|e| classify(e, &shown))?;
        let mut w = BinaryCopyInWriter::new(writer, &types);
        for row in cells.chunks(columns.len().max(1)) {
            let refs: Vec<&(dyn ToSql + Sync)> = row.iter().map(|c| c as _).collect();
            w.write(&refs).map_err(|e| classify(e, &shown))?;
        }
        w.finish().map_err(|e| classify(e, &shown))?;
        Ok(())
    }

    /// `INSERT … SELECT * FROM unnest($1::type[], …) ON CONFLICT (key) DO UPDATE SET <set>`:
    /// every row in one statement and one round trip, a parameter per column (an array of the
    /// column's type), where multi-row VALUES would take a statement of a few hundred rows
    /// each and the server would parse thousands of parameters. No two rows may share a key.
    pub fn upsert(&mut self, upsert: &Upsert<'_>, rows: &[Vec<Cell>]) -> Result<(), StoreError> {
        let Upsert {
            table,
            columns,
            key,
            set,
        } = *upsert;
        let shown = self.shown.clone();
        let types = self.column_types(table, columns)?;
        let list = |names: &[&str]| quote_list(names);
        let arrays = types
            .iter()
            .enumerate()
            .map(|(i, t)| format!("?{}::{}[]", i + 1, t.name()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM unnest({arrays}) ON CONFLICT ({}) DO UPDATE SET {set}",
            quote(table),
            list(columns),
            list(key)
        );
        let statement = self.statement(&sql)?;
        let by_column: Vec<Vec<&Cell>> = (0..columns.len())
            .map(|j| {
                rows.iter()
                    .map(|r| r.get(j).unwrap_or(&Cell::Null))
                    .collect()
            })
            .collect();
        let params: Vec<&(dyn ToSql + Sync)> = by_column.iter().map(|c| c as _).collect();
        self.client
            .execute(&statement, &params)
            .map_err(|e| classify(e, &shown))?;
        Ok(())
    }

    /// The wire types of `columns` of `table` (the table's are read once, then kept).
    fn column_types(&mut self, table: &str, columns: &[&str]) -> Result<Vec<Type>, StoreError> {
        let shown = self.shown.clone();
        if !self.types.contains_key(table) {
            let rows = self
                .client
                .query(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
                    &[&table],
                )
                .map_err(|e| classify(e, &shown))?;
            let map: HashMap<String, Type> = rows
                .iter()
                .map(|r| {
                    let (name, ty): (String, String) = (r.get(0), r.get(1));
                    (name, wire_type(&ty))
                })
                .collect();
            self.types.insert(table.to_string(), map);
        }
        let known = &self.types[table];
        columns
            .iter()
            .map(|c| {
                known.get(*c).cloned().ok_or_else(|| {
                    StoreError::Other(format!("{shown}: table {table} has no column {c}"))
                })
            })
            .collect()
    }
}

/// The binary COPY type of a column by its `information_schema` data type.
fn wire_type(data_type: &str) -> Type {
    match data_type {
        "bigint" => Type::INT8,
        "integer" => Type::INT4,
        "smallint" => Type::INT2,
        "bytea" => Type::BYTEA,
        "boolean" => Type::BOOL,
        "numeric" => Type::NUMERIC,
        _ => Type::TEXT,
    }
}
