//! Entity rows: ids, inserts (queued for the bulk path), updates, and reads by key, by hash and
//! in export form.

use crate::pending::Shape;
use crate::schema::{self, quote, quote_list};
use crate::{cells, params, Cell, Result, RowMeta, StoreError, Target};
use ferry_catalogue::Entity;
use std::sync::Arc;

impl Target {
    pub fn next_id(&self, e: &Entity) -> Result<i64> {
        let sql = format!("SELECT coalesce(max(id), 0) + 1 FROM {}", quote(&e.table()));
        self.int(&sql, &[])
    }

    /// `n` ids, ascending, for new rows of `table` (an `id INTEGER PRIMARY KEY` table) that the
    /// caller writes with their id through [`Self::append`], because other rows name them
    /// before they are written.
    ///
    /// SQLite: max(id) + 1 …, the ids the rows would have been given had they been inserted one
    /// statement each (queued rows of the table are written first, so they count); nothing else
    /// takes them, as the caller holds the writer role and is the only one inserting into the
    /// table. PostgreSQL: values of the column's identity sequence, never max + 1, so that a
    /// later insert that takes its id from the sequence cannot meet one of them (the unused
    /// ones are a gap, as a rolled-back insert leaves).
    pub fn reserve_ids(&self, table: &str, n: usize) -> Result<Vec<i64>> {
        if self.is_postgres() {
            let sql = format!(
                "SELECT nextval(pg_get_serial_sequence('{}', 'id')) FROM generate_series(1, {n})",
                table.replace('\'', "''")
            );
            let mut ids = Vec::with_capacity(n);
            self.each(&sql, &[], |r| {
                ids.push(r.int(0));
                Ok(())
            })?;
            ids.sort_unstable();
            return Ok(ids);
        }
        let sql = format!("SELECT coalesce(max(id), 0) + 1 FROM {}", quote(table));
        let first = self.int(&sql, &[])?;
        Ok((first..first + n as i64).collect())
    }

    /// Inserts a row: its field cells in table order, then its derived cells in the order of
    /// [`schema::extra_columns`] (fewer may be given; the rest stay NULL). The row is queued for
    /// the bulk path (see [`Pending`]); its cells are moved into its table's batch.
    pub fn insert(
        &self,
        e: &'static Entity,
        id: i64,
        cells: Vec<Cell>,
        extra: Vec<Cell>,
        meta: RowMeta,
        hash: i64,
    ) -> Result<()> {
        let shape = self
            .shapes
            .borrow_mut()
            .entry((e.name, extra.len()))
            .or_insert_with(|| {
                let mut columns: Vec<String> = schema::SYSTEM_COLUMNS
                    .iter()
                    .map(|(c, _)| c.to_string())
                    .collect();
                columns.extend(cells::field_column_names(e));
                columns.extend(
                    schema::extra_columns(e)
                        .iter()
                        .take(extra.len())
                        .map(|(c, _)| c.to_string()),
                );
                Arc::new(Shape {
                    table: e.table(),
                    columns,
                })
            })
            .clone();
        self.queue_with(shape, |row| {
            row.extend([
                Cell::Int(id),
                meta.run_id.map(Cell::Int).unwrap_or(Cell::Null),
                meta.file.map(Cell::Text).unwrap_or(Cell::Null),
                meta.sheet.map(Cell::Text).unwrap_or(Cell::Null),
                meta.row.map(Cell::Int).unwrap_or(Cell::Null),
                meta.col.map(Cell::Text).unwrap_or(Cell::Null),
                Cell::Int(hash),
            ]);
            row.extend(cells);
            row.extend(extra);
        })
    }

    /// Overwrites a row's field cells (an update), keeping its origin.
    pub fn update(&self, e: &Entity, id: i64, cells: &[Cell], hash: i64) -> Result<()> {
        let cols = cells::field_column_names(e);
        let sets: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = ?{}", quote(c), i + 3))
            .collect();
        let sql = format!(
            "UPDATE {} SET rec_hash = ?2{}{} WHERE id = ?1",
            quote(&e.table()),
            if sets.is_empty() { "" } else { ", " },
            sets.join(", ")
        );
        let mut all = vec![Cell::Int(id), Cell::Int(hash)];
        all.extend_from_slice(cells);
        self.exec(&sql, &all)?;
        Ok(())
    }

    /// Overwrites a row's derived cells (in the order of [`schema::extra_columns`]).
    pub fn update_extra(&self, e: &Entity, id: i64, extra: &[Cell]) -> Result<()> {
        let cols = schema::extra_columns(e);
        let sets: Vec<String> = cols
            .iter()
            .take(extra.len())
            .enumerate()
            .map(|(i, (c, _))| format!("{} = ?{}", quote(c), i + 2))
            .collect();
        if sets.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE {} SET {} WHERE id = ?1",
            quote(&e.table()),
            sets.join(", ")
        );
        let mut all = vec![Cell::Int(id)];
        all.extend_from_slice(extra);
        self.exec(&sql, &all)?;
        Ok(())
    }

    /// A row's field cells in table order.
    pub fn fetch(&self, e: &Entity, id: i64) -> Result<Vec<Cell>> {
        let cols = cells::field_column_names(e);
        if cols.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE id = ?1",
            quote_list(&cols),
            quote(&e.table())
        );
        match self.first(&sql, params![id])? {
            Some(r) => Ok(r.0),
            None => Err(StoreError::Other(format!(
                "{} row {id} is not in the target",
                e.name
            ))),
        }
    }

    /// Every row's key (the given fields' canonical texts joined), id, hash, and — for rows of
    /// run `run` — where in the source it came from (a resumed run's own records).
    pub fn keys(
        &self,
        e: &Entity,
        fields: &[&str],
        run: Option<i64>,
        mut f: impl FnMut(String, i64, i64, Option<RowMeta>),
    ) -> Result<()> {
        let cols = cells::field_column_names(e);
        let sql = format!(
            "SELECT id, rec_hash, run_id, src_file, src_sheet, src_row, src_col{}{} FROM {}",
            if cols.is_empty() { "" } else { ", " },
            quote_list(&cols),
            quote(&e.table())
        );
        let idx: Vec<usize> = fields
            .iter()
            .map(|k| e.field(k).expect("key field") as usize)
            .collect();
        let sep = ferry_validate::record::KEY_SEP.to_string();
        self.each(&sql, &[], |r| {
            let id = r.int(0);
            let hash = r.int(1);
            let row_run = r.opt_int(2);
            let texts = cells::to_texts(e, &r.0[7..]);
            let parts: Option<Vec<&str>> = idx.iter().map(|&i| texts[i].as_deref()).collect();
            if let Some(parts) = parts {
                let origin = match (run, row_run) {
                    (Some(a), Some(b)) if a == b => Some(RowMeta {
                        run_id: Some(b),
                        file: r.opt_text(3),
                        sheet: r.opt_text(4),
                        row: r.opt_int(5),
                        col: r.opt_text(6),
                    }),
                    _ => None,
                };
                f(parts.join(&sep), id, hash, origin);
            }
            Ok(())
        })
    }

    /// Every row's content hash (for keyless entity types).
    pub fn hashes(&self, e: &Entity, mut f: impl FnMut(i64)) -> Result<()> {
        let sql = format!("SELECT rec_hash FROM {}", quote(&e.table()));
        self.each(&sql, &[], |r| {
            f(r.int(0));
            Ok(())
        })
    }

    /// Every row's fields as canonical texts, in id order, as an export shows them: a card or
    /// account number as its mask (from the stored last four digits), an attachment as `Data`
    /// (base64 of the stored content) rather than the `Path` it was read from.
    pub fn scan(
        &self,
        e: &Entity,
        mut f: impl FnMut(&[Option<String>]) -> std::io::Result<()>,
    ) -> Result<()> {
        let cols = cells::field_column_names(e);
        let extras: Vec<&str> = schema::extra_columns(e).iter().map(|(c, _)| *c).collect();
        let all: Vec<String> = cols
            .iter()
            .map(|c| quote(c))
            .chain(extras.iter().map(|c| quote(c)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY id",
            all.join(", "),
            quote(&e.table())
        );
        self.each(&sql, &[], |r| {
            let (cells, extra) = r.0.split_at(cols.len());
            let mut texts = cells::to_texts(e, cells);
            for (name, cell) in extras.iter().zip(extra) {
                match (*name, cell) {
                    (n, Cell::Text(last4)) if n.ends_with("_last4") => {
                        if let Some(i) = e
                            .fields
                            .iter()
                            .position(|f| f.kind == ferry_catalogue::Kind::SecretNumber)
                        {
                            texts[i] = Some(ferry_findings::mask_number(last4));
                        }
                    }
                    ("content", Cell::Blob(bytes)) => {
                        use base64::Engine as _;
                        if let (Some(d), Some(p)) = (e.field("Data"), e.field("Path")) {
                            texts[d as usize] =
                                Some(base64::engine::general_purpose::STANDARD.encode(bytes));
                            texts[p as usize] = None;
                        }
                    }
                    _ => {}
                }
            }
            f(&texts).map_err(|io| StoreError::Other(io.to_string()))
        })
    }

    pub fn count(&self, e: &Entity) -> Result<i64> {
        self.int(&format!("SELECT count(*) FROM {}", quote(&e.table())), &[])
    }
}
