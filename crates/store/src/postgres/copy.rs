//! PostgreSQL's bulk path: queued rows written with binary COPY, typed by the table's columns.

use super::conn::Pg;
use super::error::classify;
use crate::schema::quote;
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
            columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let writer = self.client.copy_in(&sql).map_err(|e| classify(e, &shown))?;
        let mut w = BinaryCopyInWriter::new(writer, &types);
        for row in cells.chunks(columns.len().max(1)) {
            let refs: Vec<&(dyn ToSql + Sync)> = row.iter().map(|c| c as _).collect();
            w.write(&refs).map_err(|e| classify(e, &shown))?;
        }
        w.finish().map_err(|e| classify(e, &shown))?;
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
