//! The statements everything talks to the target through, in this crate and outside it: `?N`
//! placeholders and [`Cell`] parameters, so that no caller depends on a driver. The SQL is the
//! common ground of SQLite and PostgreSQL; the PostgreSQL backend renders its own dialect of it
//! (see `postgres/dialect.rs`).

use crate::{Cell, Result, Target};

impl Target {
    /// Runs several statements without parameters.
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.flush()?;
        self.backend.batch(sql)
    }

    /// Runs a statement; returns the rows changed.
    pub fn exec(&self, sql: &str, params: &[Cell]) -> Result<usize> {
        self.settle(sql)?;
        self.backend.exec(sql, params)
    }

    /// Calls `f` with every row of a query, as the rows are read. `f` must not run statements
    /// on the same target (on PostgreSQL the connection is busy streaming the rows).
    pub fn each(
        &self,
        sql: &str,
        params: &[Cell],
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.settle(sql)?;
        self.backend.each(sql, params, &mut f)
    }

    /// The first row of a query, if any.
    pub fn first(&self, sql: &str, params: &[Cell]) -> Result<Option<Row>> {
        let mut out = None;
        self.each(sql, params, |r| {
            if out.is_none() {
                out = Some(r.clone());
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first column of the first row as a number (0 when there is none).
    pub fn int(&self, sql: &str, params: &[Cell]) -> Result<i64> {
        Ok(self.first(sql, params)?.map(|r| r.int(0)).unwrap_or(0))
    }

    /// The rows of a query, collected (for small results).
    pub fn rows(&self, sql: &str, params: &[Cell]) -> Result<Vec<Row>> {
        let mut out = vec![];
        self.each(sql, params, |r| {
            out.push(r.clone());
            Ok(())
        })?;
        Ok(out)
    }
}

/// One row of a query.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Cell>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Cell::Int(v)) => Some(*v),
            Some(Cell::Text(t)) => t.parse().ok(),
            _ => None,
        }
    }
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Cell::Text(t)) => Some(t.clone()),
            Some(Cell::Int(v)) => Some(v.to_string()),
            Some(Cell::Blob(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}
