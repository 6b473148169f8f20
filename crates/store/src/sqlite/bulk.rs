//! SQLite's bulk path: queued rows written as multi-row INSERTs.

use crate::schema::{quote, quote_list};
use crate::{Cell, Result};
use rusqlite::{params_from_iter, Connection};

/// Writes rows (`columns.len()` cells each) up to 256 rows per statement, within SQLite's
/// 32,766 parameters.
///
/// Statements hold a power of two of rows (256, then 128, 64, … for the rest), so that a table
/// needs at most nine statement texts, each prepared once and then taken from the connection's
/// cache: a statement sized to whatever rows were left would be prepared anew at nearly every
/// flush (a few hundred microseconds to parse thousands of placeholders).
pub(crate) fn write_rows(
    c: &Connection,
    table: &str,
    columns: &[String],
    cells: &[Cell],
) -> Result<()> {
    let n = columns.len().max(1);
    let most = (32_766 / n).clamp(1, 256);
    let per = 1usize << most.ilog2();
    let head = format!(
        "INSERT INTO {} ({}) VALUES ",
        quote(table),
        quote_list(columns)
    );
    let one = format!("({})", vec!["?"; n].join(", "));
    let mut rest = cells;
    while !rest.is_empty() {
        let left = rest.len() / n;
        let k = if left >= per {
            per
        } else {
            1 << left.max(1).ilog2()
        };
        let (rows, after) = rest.split_at((k * n).min(rest.len()));
        let sql = format!("{head}{}", vec![one.as_str(); k].join(", "));
        c.prepare_cached(&sql)?
            .execute(params_from_iter(rows.iter()))?;
        rest = after;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row is written once, in order, whatever the count.
    #[test]
    fn any_number_of_rows_is_written_in_order() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (a INTEGER, b TEXT)")
            .unwrap();
        let cols = ["a".to_string(), "b".to_string()];
        let mut written = 0i64;
        for count in [0i64, 1, 2, 3, 255, 256, 257, 600, 1000] {
            let cells: Vec<Cell> = (0..count)
                .flat_map(|i| {
                    [
                        Cell::Int(written + i),
                        Cell::Text(format!("r{}", written + i)),
                    ]
                })
                .collect();
            write_rows(&c, "t", &cols, &cells).unwrap();
            written += count;
        }
        let (n, ordered): (i64, i64) = c
            .query_row(
                "SELECT count(*), sum(a = rowid - 1 AND b = 'r' || a) FROM t",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((n, ordered), (written, written));
    }
}
