//! Plain indexes built after the load (PostgreSQL): a live run committed in chunks that finds
//! one of their tables empty drops the table's index in its first data transaction and builds
//! it again before its last commit, so that its rows are not indexed one at a time as they are
//! copied in. (A run of one transaction — test-only, `--all-or-nothing` — keeps them: the drop
//! would lock the table against readers until its end.)
//!
//! # Why the target stays whole
//!
//! - Only plain (non-unique) indexes that nothing reads while a run writes are deferred: no key,
//!   no `ON CONFLICT`, no lookup of the engine uses them. A missing one makes some reads slower
//!   (the console's account page, `ferry export`), never different.
//! - The drop is in the run's first data transaction: a run killed before that commit rolls
//!   it back with the rows.
//! - A run that ends commits the build with its last chunk; a run that fails or is cancelled
//!   builds it while it is closed in the journal.
//! - A process killed between its first and its last commit leaves the index missing. Whoever
//!   takes the writer role next — the resume, another import, `ferry rollback`, `ferry upgrade
//!   apply`, `ferry certification migrate` — builds it first ([`Target::build_deferred_indexes`]
//!   in `writer.rs`), before it writes or upgrades anything.

use crate::schema::{quote, MIGRATIONS_PG};
use crate::{params, Result, StoreError, Target};

/// The deferred indexes: (index, table). Each is created by a `CREATE INDEX <index> ON …` line
/// of the PostgreSQL migrations (the last one that creates it is its definition).
const DEFERRED: &[(&str, &str)] = &[
    ("ledger_line_user", "ledger_line"),
    ("contact_email_account", "contact_email"),
];

/// The `CREATE INDEX` statement of `index` in the PostgreSQL migrations.
fn definition(index: &str) -> Option<&'static str> {
    let bare = format!("CREATE INDEX {index} ON ");
    let quoted = format!("CREATE INDEX \"{index}\" ON ");
    MIGRATIONS_PG
        .iter()
        .rev()
        .flat_map(|(_, sql)| sql.lines().rev())
        .find(|l| l.starts_with(&bare) || l.starts_with(&quoted))
}

impl Target {
    /// The deferred indexes the target has now.
    fn deferred_present(&self) -> Result<Vec<String>> {
        let names: Vec<&str> = DEFERRED.iter().map(|(i, _)| *i).collect();
        Ok(self
            .rows(
                "SELECT indexname::text FROM pg_catalog.pg_indexes WHERE schemaname = current_schema() AND indexname = ANY(string_to_array(?1, ','))",
                params![names.join(",")],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect())
    }

    /// In a run's first data transaction (PostgreSQL; nothing on SQLite): drops the deferred
    /// index of each of their tables that is empty. [`Target::build_deferred_indexes`] builds
    /// them again.
    pub fn defer_indexes(&self) -> Result<()> {
        if !self.is_postgres() {
            return Ok(());
        }
        let present = self.deferred_present()?;
        for (index, table) in DEFERRED {
            if !present.iter().any(|p| p == index) {
                continue;
            }
            let sql = format!(
                "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT 1) t",
                quote(table)
            );
            if self.int(&sql, &[])? == 0 {
                self.batch(&format!("DROP INDEX {}", quote(index)))?;
            }
        }
        Ok(())
    }

    /// Builds each deferred index the target lacks (PostgreSQL; nothing on SQLite): at the end
    /// of a run, and by whoever takes the writer role after a run that was killed.
    pub fn build_deferred_indexes(&self) -> Result<()> {
        if !self.is_postgres() {
            return Ok(());
        }
        let present = self.deferred_present()?;
        for (index, _) in DEFERRED {
            if present.iter().any(|p| p == index) {
                continue;
            }
            let sql = definition(index).ok_or_else(|| {
                StoreError::Other(format!(
                    "internal: no CREATE INDEX {index} in the migrations"
                ))
            })?;
            self.batch(&sql.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every deferred index is a plain index of its table in the migrations.
    #[test]
    fn every_deferred_index_has_its_definition() {
        for (index, table) in DEFERRED {
            let sql = definition(index).unwrap_or_else(|| panic!("{index}"));
            assert!(!sql.contains("UNIQUE"), "{sql}");
            assert!(
                sql.contains(&format!(" ON {table} ("))
                    || sql.contains(&format!(" ON \"{table}\" (")),
                "{sql}"
            );
        }
    }
}
