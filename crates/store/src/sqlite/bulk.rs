//! SQLite's bulk path: queued rows written as multi-row INSERTs.

use crate::schema::quote;
use crate::{Cell, Result};
use rusqlite::{params_from_iter, Connection};

/// Writes rows (`columns.len()` cells each) up to 256 rows per statement, within SQLite's
/// 32,766 parameters.
pub(crate) fn write_rows(
    c: &Connection,
    table: &str,
    columns: &[String],
    cells: &[Cell],
) -> Result<()> {
    let n = columns.len();
    let per = (32_766 / n.max(1)).clamp(1, 256);
    for rows in cells.chunks(per * n) {
        let k = rows.len() / n;
        let one = format!("({})", vec!["?"; n].join(", "));
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            quote(table),
            columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            vec![one; k].join(", ")
        );
        c.prepare_cached(&sql)?
            .execute(params_from_iter(rows.iter()))?;
    }
    Ok(())
}
