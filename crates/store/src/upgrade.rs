//! Upgrading a target to this build's schema version (SPEC §12): the pending migrations and what
//! they change, the customization audit (every object in the target that Ferry's schema for its
//! version does not have, marked when a pending migration would drop or break it), and applying
//! the migrations in one transaction with the post-upgrade checks (row counts and ledger totals
//! unchanged, every reference valid) deciding between commit and rollback.

use crate::schema::{self, quote, statements, unquote, SCHEMA_VERSION};
use crate::{params, Result, StoreError, Target};
use ferry_catalogue::ENTITIES;
use std::collections::{BTreeMap, BTreeSet};

/// What a statement of a migration does to the schema (read from the migration's own SQL, so
/// the audit cannot drift from what is applied).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    CreateTable {
        table: String,
    },
    CreateIndex {
        index: String,
        table: String,
    },
    AddColumn {
        table: String,
        column: String,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameTable {
        table: String,
        to: String,
    },
    DropTable {
        table: String,
    },
    DropIndex {
        index: String,
    },
    /// `UPDATE t SET c = NULL …`: the column's values are removed (the schema stays).
    ClearColumn {
        table: String,
        column: String,
    },
    /// `DELETE FROM t WHERE …`: rows are removed (`condition`: the statement's WHERE).
    DeleteRows {
        table: String,
        condition: String,
    },
}

/// One migration not yet applied to a target.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pending {
    pub version: i64,
    /// The first paragraph of the migration's opening comment.
    pub title: String,
    pub changes: Vec<Change>,
}

/// Reads the changes of one migration's SQL.
pub fn changes_of(sql: &str) -> Vec<Change> {
    let mut out = vec![];
    for st in statements(sql) {
        let w: Vec<String> = st
            .split_whitespace()
            .map(|w| w.trim_end_matches([';', '(']).to_string())
            .collect();
        let u: Vec<String> = w.iter().map(|w| w.to_ascii_uppercase()).collect();
        let at = |i: usize| w.get(i).map(|s| unquote(s)).unwrap_or_default();
        let is = |i: usize, s: &str| u.get(i).map(String::as_str) == Some(s);
        if is(0, "CREATE") && is(1, "TABLE") {
            out.push(Change::CreateTable { table: at(2) });
        } else if is(0, "CREATE") && (is(1, "INDEX") || (is(1, "UNIQUE") && is(2, "INDEX"))) {
            let k = if is(1, "UNIQUE") { 3 } else { 2 };
            out.push(Change::CreateIndex {
                index: at(k),
                table: at(k + 2),
            });
        } else if is(0, "ALTER") && is(1, "TABLE") {
            let table = at(2);
            if is(3, "ADD") {
                let k = if is(4, "COLUMN") { 5 } else { 4 };
                out.push(Change::AddColumn {
                    table,
                    column: at(k),
                });
            } else if is(3, "RENAME") && is(4, "COLUMN") && is(6, "TO") {
                out.push(Change::RenameColumn {
                    table,
                    from: at(5),
                    to: at(7),
                });
            } else if is(3, "RENAME") && is(4, "TO") {
                out.push(Change::RenameTable { table, to: at(5) });
            } else if is(3, "DROP") {
                let k = if is(4, "COLUMN") { 5 } else { 4 };
                out.push(Change::DropColumn {
                    table,
                    column: at(k),
                });
            }
        } else if is(0, "DROP") && is(1, "TABLE") {
            let k = if is(2, "IF") { 4 } else { 2 };
            out.push(Change::DropTable { table: at(k) });
        } else if is(0, "DROP") && is(1, "INDEX") {
            let k = if is(2, "IF") { 4 } else { 2 };
            out.push(Change::DropIndex { index: at(k) });
        } else if is(0, "UPDATE") && is(2, "SET") && is(4, "=") && is(5, "NULL") {
            out.push(Change::ClearColumn {
                table: at(1),
                column: at(3),
            });
        } else if is(0, "DELETE") && is(1, "FROM") {
            let condition = match u.iter().position(|x| x == "WHERE") {
                Some(i) => w[i + 1..].join(" ").trim_end_matches(';').to_string(),
                None => String::new(),
            };
            out.push(Change::DeleteRows {
                table: at(2),
                condition,
            });
        }
    }
    out
}

/// The tables whose rows a migration changes (values cleared, rows deleted): a trigger on them
/// runs during the upgrade, and their old row versions are scrubbed afterwards.
pub fn rows_changed(changes: &[Change]) -> BTreeSet<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::ClearColumn { table, .. } | Change::DeleteRows { table, .. } => {
                Some(table.clone())
            }
            _ => None,
        })
        .collect()
}

/// The migrations a target at `version` still needs.
pub fn pending(version: i64) -> Vec<Pending> {
    schema::MIGRATIONS
        .iter()
        .filter(|(v, _)| *v > version)
        .map(|(v, sql)| Pending {
            version: *v,
            // The first paragraph of the migration's opening comment.
            title: sql
                .lines()
                .map(|l| l.trim())
                .take_while(|l| l.starts_with("--") && l.trim_start_matches('-').trim() != "")
                .map(|l| l.trim_start_matches('-').trim())
                .collect::<Vec<_>>()
                .join(" "),
            changes: changes_of(sql),
        })
        .collect()
}

/// The kind of a database object found by the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Table,
    Column,
    View,
    MaterializedView,
    Index,
    Trigger,
    Function,
    Procedure,
    Sequence,
}

impl ObjectKind {
    pub fn word(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Sequence => "sequence",
        }
    }
}

/// One object of a schema as the audit reads it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Object {
    pub(crate) kind: ObjectKind,
    /// For a column: `table.column`.
    pub(crate) name: String,
    /// The table an index, trigger or column belongs to.
    pub(crate) table: Option<String>,
    /// Its definition (view query, trigger and function body, index definition), for finding
    /// what it uses.
    pub(crate) sql: String,
}

/// A change for people.
pub fn describe(c: &Change) -> String {
    match c {
        Change::CreateTable { table } => format!("creates table {table}"),
        Change::CreateIndex { index, table } => format!("creates index {index} on {table}"),
        Change::AddColumn { table, column } => format!("adds column {table}.{column}"),
        Change::RenameColumn { table, from, to } => {
            format!("renames column {table}.{from} to {to}")
        }
        Change::DropColumn { table, column } => format!("drops column {table}.{column}"),
        Change::RenameTable { table, to } => format!("renames table {table} to {to}"),
        Change::DropTable { table } => format!("drops table {table}"),
        Change::DropIndex { index } => format!("drops index {index}"),
        Change::ClearColumn { table, column } => {
            format!("clears every value of column {table}.{column}")
        }
        Change::DeleteRows { table, condition } if condition.is_empty() => {
            format!("deletes every row of {table}")
        }
        Change::DeleteRows { table, condition } => {
            format!("deletes the rows of {table} where {condition}")
        }
    }
}

/// What a pending migration would do to a customization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// It would be removed with the object it belongs to.
    Dropped,
    /// It uses something the migration renames or removes: it may stop working.
    Breaks,
    /// Its name is one the migration creates: the migration would fail while it exists.
    Conflicts,
    /// A trigger on a table whose rows the migration changes: it runs during the upgrade.
    Fires,
}

impl Effect {
    pub fn word(self) -> &'static str {
        match self {
            Effect::Dropped => "DROPPED",
            Effect::Breaks => "BREAKS",
            Effect::Conflicts => "CONFLICTS",
            Effect::Fires => "FIRES",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Impact {
    pub effect: Effect,
    pub migration: i64,
    pub reason: String,
}

/// A database object that is not part of Ferry's schema for the target's version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Customization {
    pub kind: ObjectKind,
    pub name: String,
    pub table: Option<String>,
    pub impacts: Vec<Impact>,
}

/// The lower-case identifiers a SQL text mentions (quotes removed).
fn identifiers(sql: &str) -> BTreeSet<String> {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// A customized object as the audit sees it: what it names, and whether it is code (a view,
/// trigger or routine) that breaks when something it uses goes.
struct Subject<'a> {
    o: &'a Object,
    uses: BTreeSet<String>,
    code: bool,
}

impl Subject<'_> {
    /// Whether the object is on, or uses, table `t` (and its column `col`, if given).
    fn mentions(&self, t: &str, col: Option<&str>) -> bool {
        let on_table = self.o.table.as_deref() == Some(t) || self.uses.contains(t);
        on_table && col.map(|c| self.uses.contains(c)).unwrap_or(true)
    }

    fn is(&self, kind: ObjectKind) -> bool {
        self.o.kind == kind
    }
}

/// Marks each customization with what the pending migrations would do to it.
fn judge(custom: &mut [Customization], objects: &[Object], pending: &[Pending]) {
    for (c, o) in custom.iter_mut().zip(objects) {
        let subject = Subject {
            o,
            uses: identifiers(&o.sql),
            code: matches!(
                o.kind,
                ObjectKind::View
                    | ObjectKind::MaterializedView
                    | ObjectKind::Trigger
                    | ObjectKind::Function
                    | ObjectKind::Procedure
            ),
        };
        for p in pending {
            for ch in &p.changes {
                if let Some((effect, reason)) = impact_of(&subject, p.version, ch) {
                    c.impacts.push(Impact {
                        effect,
                        migration: p.version,
                        reason,
                    });
                }
            }
        }
    }
}

/// What change `ch` of migration `v` does to a customized object, if anything.
fn impact_of(s: &Subject<'_>, v: i64, ch: &Change) -> Option<(Effect, String)> {
    match ch {
        Change::CreateTable { table } | Change::CreateIndex { index: table, .. }
            if !s.is(ObjectKind::Column) && &s.o.name == table =>
        {
            Some((
                Effect::Conflicts,
                format!("migration {v} creates an object named {table}"),
            ))
        }
        Change::AddColumn { table, column }
            if s.is(ObjectKind::Column) && s.o.name == format!("{table}.{column}") =>
        {
            Some((
                Effect::Conflicts,
                format!("migration {v} adds a column {table}.{column}"),
            ))
        }
        Change::RenameColumn { table, from, to } => renamed_column(s, v, table, from, to),
        Change::DropColumn { table, column }
            if (s.code || s.is(ObjectKind::Index)) && s.mentions(table, Some(column)) =>
        {
            Some((
                if s.is(ObjectKind::Index) {
                    Effect::Dropped
                } else {
                    Effect::Breaks
                },
                format!("uses {table}.{column}, which migration {v} drops"),
            ))
        }
        Change::DropTable { table } | Change::RenameTable { table, .. } => {
            table_gone(s, v, ch, table)
        }
        Change::ClearColumn { table, .. } | Change::DeleteRows { table, .. }
            if s.is(ObjectKind::Trigger) && s.o.table.as_deref() == Some(table.as_str()) =>
        {
            Some((
                Effect::Fires,
                format!(
                    "runs when migration {v} {} (a copy it makes of the old values outlives the upgrade)",
                    describe(ch)
                ),
            ))
        }
        _ => None,
    }
}

/// What renaming `table.from` to `to` does to a customized object.
fn renamed_column(
    s: &Subject<'_>,
    v: i64,
    table: &str,
    from: &str,
    to: &str,
) -> Option<(Effect, String)> {
    if s.is(ObjectKind::Column) && s.o.name == format!("{table}.{to}") {
        Some((
            Effect::Conflicts,
            format!("migration {v} renames {table}.{from} to this name"),
        ))
    } else if s.code && s.mentions(table, Some(from)) {
        Some((
            Effect::Breaks,
            format!("uses {table}.{from}, which migration {v} renames to {to}"),
        ))
    } else {
        None
    }
}

/// What dropping or renaming `table` (change `ch`) does to a customized object.
fn table_gone(s: &Subject<'_>, v: i64, ch: &Change, table: &str) -> Option<(Effect, String)> {
    let (dropped, what) = match ch {
        Change::RenameTable { to, .. } => (false, format!("renames to {to}")),
        _ => (true, "drops".to_string()),
    };
    let on = s.o.table.as_deref() == Some(table);
    if on && dropped {
        Some((
            Effect::Dropped,
            format!("belongs to {table}, which migration {v} drops"),
        ))
    } else if s.code && s.mentions(table, None) {
        Some((
            Effect::Breaks,
            format!("uses {table}, which migration {v} {what}"),
        ))
    } else {
        None
    }
}

/// The schema objects of the database a target's connection sees (its main schema).
fn inventory(t: &Target) -> Result<Vec<Object>> {
    t.backend.schema_objects(t)
}

/// The objects of Ferry's own schema at `version`, on this target's backend: the migrations up
/// to `version` applied where they cannot touch the target (an in-memory SQLite database; on
/// PostgreSQL a scratch schema inside a transaction that is rolled back).
fn expected(t: &Target, version: i64) -> Result<Vec<Object>> {
    t.backend.expected_objects(t, version)
}

/// Everything `ferry upgrade check` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub target: String,
    pub backend: &'static str,
    pub version: i64,
    pub current: i64,
    pub pending: Vec<Pending>,
    pub customizations: Vec<Customization>,
}

impl Check {
    /// Customizations a pending migration would drop, break or fail on.
    pub fn at_risk(&self) -> impl Iterator<Item = &Customization> {
        self.customizations.iter().filter(|c| !c.impacts.is_empty())
    }
}

impl Target {
    /// The pending migrations and the customization audit.
    pub fn upgrade_check(&self) -> Result<Check> {
        let version = self
            .schema_version()?
            .ok_or_else(|| StoreError::NotATarget(self.name()))?;
        let pending = pending(version);
        let want = expected(self, version)?;
        let known: BTreeSet<(ObjectKind, &str)> =
            want.iter().map(|o| (o.kind, o.name.as_str())).collect();
        let have = inventory(self)?;
        let (objects, mut custom): (Vec<Object>, Vec<Customization>) = have
            .into_iter()
            .filter(|o| !known.contains(&(o.kind, o.name.as_str())))
            // A column of a table that is itself a customization is part of it.
            .filter(|o| {
                o.kind != ObjectKind::Column
                    || o.table
                        .as_deref()
                        .map(|t| known.contains(&(ObjectKind::Table, t)))
                        .unwrap_or(false)
            })
            .map(|o| {
                let c = Customization {
                    kind: o.kind,
                    name: o.name.clone(),
                    table: o.table.clone(),
                    impacts: vec![],
                };
                (o, c)
            })
            .unzip();
        judge(&mut custom, &objects, &pending);
        Ok(Check {
            target: self.name(),
            backend: self.backend_name(),
            version,
            current: SCHEMA_VERSION,
            pending,
            customizations: custom,
        })
    }

    /// What the post-upgrade checks compare: rows per table, the ledger's totals and a digest
    /// of every account's sums, and the references that do not resolve.
    pub fn measure(&self) -> Result<Measure> {
        let mut m = Measure::default();
        let tables: Vec<String> = inventory(self)?
            .into_iter()
            .filter(|o| o.kind == ObjectKind::Table)
            .map(|o| o.name)
            .collect();
        let has = |t: &str| tables.iter().any(|x| x == t);
        for t in &tables {
            m.rows.insert(
                t.clone(),
                self.int(&format!("SELECT count(*) FROM {}", quote(t)), &[])?,
            );
        }
        if has("ledger_line") {
            for r in self.rows(
                "SELECT kind, count(*), coalesce(sum(amount_e4), 0), coalesce(sum(disbursed_e4), 0) FROM ledger_line GROUP BY kind ORDER BY kind",
                &[],
            )? {
                m.ledger.insert(format!("ledger_line {}", r.text(0)), (r.int(2), r.int(3)));
            }
            let mut digest = 0xcbf29ce484222325u64;
            self.each(
                "SELECT \"user\", sum(amount_e4), sum(disbursed_e4) FROM ledger_line GROUP BY \"user\" ORDER BY \"user\"",
                &[],
                |r| {
                    for b in format!("{}|{}|{};", r.text(0), r.int(1), r.int(2)).bytes() {
                        digest = (digest ^ b as u64).wrapping_mul(0x100000001b3);
                    }
                    Ok(())
                },
            )?;
            m.accounts_digest = format!("{digest:016x}");
        }
        if has("invoice") {
            let r = self.first(
                "SELECT coalesce(sum(total_e4), 0), coalesce(sum(disbursed_e4), 0) FROM invoice",
                &[],
            )?;
            if let Some(r) = r {
                m.ledger.insert("invoice".into(), (r.int(0), r.int(1)));
            }
        }
        if has("disbursement") {
            m.ledger.insert(
                "disbursement".into(),
                (
                    self.int("SELECT coalesce(sum(amount_e4), 0) FROM disbursement", &[])?,
                    0,
                ),
            );
        }
        let columns: BTreeSet<String> = inventory(self)?
            .into_iter()
            .filter(|o| o.kind == ObjectKind::Column)
            .map(|o| o.name)
            .collect();
        for c in reference_checks() {
            // A reference whose columns this version does not have (yet) is not checked.
            if c.needs.iter().all(|n| columns.contains(n)) {
                m.broken.insert(c.name, self.int(&c.sql, &[])?);
            }
        }
        Ok(m)
    }
}

/// The measurements the post-upgrade checks compare.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Measure {
    pub rows: BTreeMap<String, i64>,
    /// (amount, disbursed) sums in ten-thousandths, by ledger table and line kind.
    pub ledger: BTreeMap<String, (i64, i64)>,
    /// A digest of every account's ledger sums.
    pub accounts_digest: String,
    /// Rows whose reference does not resolve, by reference.
    pub broken: BTreeMap<String, i64>,
}

/// One reference the target's tables hold.
pub struct RefCheck {
    pub name: String,
    /// The `table.column`s it needs.
    pub needs: Vec<String>,
    /// Counts the rows whose reference does not resolve.
    pub sql: String,
}

fn ref_check(name: String, from: &str, cols: &[String], to: &str, to_cols: &[String]) -> RefCheck {
    let not_null: Vec<String> = cols
        .iter()
        .map(|c| format!("x.{} IS NOT NULL", quote(c)))
        .collect();
    let eq: Vec<String> = cols
        .iter()
        .zip(to_cols)
        .map(|(c, d)| format!("y.{} = x.{}", quote(d), quote(c)))
        .collect();
    RefCheck {
        name,
        needs: cols
            .iter()
            .map(|c| format!("{from}.{c}"))
            .chain(to_cols.iter().map(|c| format!("{to}.{c}")))
            .collect(),
        sql: format!(
            "SELECT count(*) FROM {} x WHERE {} AND NOT EXISTS (SELECT 1 FROM {} y WHERE {})",
            quote(from),
            not_null.join(" AND "),
            quote(to),
            eq.join(" AND ")
        ),
    }
}

/// Every reference the target's tables hold: the catalogue's references between entity
/// tables, the ledger rows' invoices, and the references of Ferry's own tables
/// ([`schema::INTERNAL_REFERENCES`]).
pub fn reference_checks() -> Vec<RefCheck> {
    let mut out = vec![];
    for e in ENTITIES {
        for r in e.refs {
            let Some(target) = ferry_catalogue::entity(r.target) else {
                continue;
            };
            let cols = |e: &ferry_catalogue::Entity, fs: &[&str]| -> Option<Vec<String>> {
                fs.iter()
                    .map(|f| e.field_def(f).map(|d| d.column()))
                    .collect()
            };
            let (Some(from), Some(to)) = (cols(e, r.from), cols(target, r.to)) else {
                continue;
            };
            out.push(ref_check(
                format!("{}.{} → {}", e.name, r.from.join("+"), r.target),
                &e.table(),
                &from,
                &target.table(),
                &to,
            ));
        }
        if e.is_ledger() {
            out.push(ref_check(
                format!("{}.invoice_id → invoice", e.name),
                &e.table(),
                &["invoice_id".into()],
                "invoice",
                &["id".into()],
            ));
        }
    }
    for (table, col, target, tcol) in schema::INTERNAL_REFERENCES {
        out.push(ref_check(
            format!("{table}.{col} → {target}"),
            table,
            &[(*col).into()],
            target,
            &[(*tcol).into()],
        ));
    }
    out
}

/// How `upgrade_apply` went.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Applied {
    pub from: i64,
    pub to: i64,
    pub migrations: Vec<i64>,
    pub before: Measure,
    pub after: Measure,
    /// References that did not resolve before the upgrade already (reported, not failed).
    pub broken_before: BTreeMap<String, i64>,
    /// Tables whose old row versions could not be scrubbed after the upgrade (PostgreSQL's
    /// `VACUUM FULL` failed), with why; the upgrade itself is complete.
    pub not_scrubbed: BTreeMap<String, String>,
}

/// Why an upgrade did not complete (the target is as it was).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpgradeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the target {target} has schema version {found}, newer than this Ferry's {current}: use the Ferry that upgraded it")]
    Newer {
        target: String,
        found: i64,
        current: i64,
    },
    #[error(
        "migration {version} failed at statement {statement} ({cause}); the target is unchanged"
    )]
    Migration {
        version: i64,
        statement: usize,
        cause: StoreError,
    },
    #[error("the post-upgrade checks failed, so nothing was kept: {0}")]
    Checks(String),
}

/// What the post-upgrade checks find changed between `before` and `after`.
fn check_problems(before: &Measure, after: &Measure) -> Vec<String> {
    let mut problems = vec![];
    // `ferry_meta` records the upgrade itself.
    for (t, n) in before.rows.iter().filter(|(t, _)| *t != "ferry_meta") {
        match after.rows.get(t) {
            Some(m) if m == n => {}
            Some(m) => problems.push(format!("{t} had {n} rows, now {m}")),
            None => {}
        }
    }
    if before.ledger != after.ledger {
        problems.push(format!(
            "ledger totals changed: {:?} → {:?}",
            before.ledger, after.ledger
        ));
    }
    if before.accounts_digest != after.accounts_digest {
        problems.push("an account's ledger sums changed".into());
    }
    for (name, n) in &after.broken {
        let was = before.broken.get(name).copied().unwrap_or(0);
        if *n > was {
            problems.push(format!(
                "{n} rows with a broken reference {name} (before: {was})"
            ));
        }
    }
    problems
}

/// Test hook: `FERRY_FAIL_AT=upgrade:N` kills the process (SIGKILL) after the N-th statement of
/// the upgrade; `FERRY_FAIL_AT=upgrade-error:N` makes the N-th statement fail.
fn fail_point(n: usize) -> Option<StoreError> {
    use crate::test_hooks::{fail_at, injected, FailPoint};
    fail_at(FailPoint::Upgrade, n as u64);
    injected(FailPoint::UpgradeError, n as u64)
}

impl Target {
    /// Applies the pending migrations in one transaction, with the post-upgrade checks: row
    /// counts of every table that existed, the ledger's totals and every account's sums must
    /// be unchanged, and no reference may be broken that was not before. Any failure rolls the
    /// whole upgrade back. The caller holds the writer lock and made the backup.
    pub fn upgrade_apply(&self) -> std::result::Result<Applied, UpgradeError> {
        let from = self
            .schema_version()?
            .ok_or_else(|| StoreError::NotATarget(self.name()))?;
        if from > SCHEMA_VERSION {
            return Err(UpgradeError::Newer {
                target: self.name(),
                found: from,
                current: SCHEMA_VERSION,
            });
        }
        let migrations = self.migrations();
        let before = self.measure()?;
        // Values a migration removes (version 1's fingerprint key) must not stay readable in
        // the file's free space: SQLite overwrites deleted content while this is on.
        let scrub: BTreeSet<String> = migrations
            .iter()
            .filter(|(v, _)| *v > from)
            .flat_map(|(_, sql)| rows_changed(&changes_of(sql)))
            .collect();
        if !scrub.is_empty() {
            self.backend.before_scrub(self)?;
        }
        let tx = self.transaction()?;
        let r = (|| -> std::result::Result<Applied, UpgradeError> {
            let applied = self.run_migrations(migrations, from)?;
            self.exec(
                "UPDATE ferry_meta SET value = ?1 WHERE key = 'schema_version'",
                params![SCHEMA_VERSION.to_string()],
            )?;
            self.exec(
                "INSERT INTO ferry_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![format!("upgraded_to_{SCHEMA_VERSION}_at"), crate::journal::now()],
            )?;
            let after = self.measure()?;
            let problems = check_problems(&before, &after);
            if !problems.is_empty() {
                return Err(UpgradeError::Checks(problems.join("; ")));
            }
            let broken_before = before
                .broken
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| (k.clone(), *n))
                .collect();
            Ok(Applied {
                from,
                to: SCHEMA_VERSION,
                migrations: applied,
                before: before.clone(),
                after,
                broken_before,
                not_scrubbed: BTreeMap::new(),
            })
        })();
        // An error leaves the guard to roll the migrations back.
        let mut a = r?;
        tx.commit()?;
        a.not_scrubbed = self.scrub(&scrub);
        Ok(a)
    }

    /// Runs the statements of the migrations after version `from`, one at a time (inside the
    /// caller's transaction). Returns the versions applied.
    fn run_migrations(
        &self,
        migrations: &[(i64, &str)],
        from: i64,
    ) -> std::result::Result<Vec<i64>, UpgradeError> {
        let mut n = 0;
        let mut applied = vec![];
        for (v, sql) in migrations.iter().filter(|(v, _)| *v > from) {
            for (i, st) in statements(sql).iter().enumerate() {
                n += 1;
                let fail = fail_point(n);
                let r = match fail {
                    Some(e) => Err(e),
                    None => self.batch(st),
                };
                r.map_err(|cause| UpgradeError::Migration {
                    version: *v,
                    statement: i + 1,
                    cause,
                })?;
            }
            applied.push(*v);
        }
        Ok(applied)
    }
}

impl Target {
    /// After an upgrade that removed values: nothing of the old row versions stays in the
    /// target's files. SQLite: the deleted content was overwritten (`secure_delete`); the WAL is
    /// checkpointed and emptied. PostgreSQL: the tables are rewritten (`VACUUM FULL`), so the
    /// dead row versions leave the data files (the server's WAL and its archives keep them as
    /// long as they are kept). Returns the tables that could not be scrubbed, with why.
    fn scrub(&self, tables: &BTreeSet<String>) -> BTreeMap<String, String> {
        if tables.is_empty() {
            return BTreeMap::new();
        }
        self.backend.scrub(self, tables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_read_from_the_sql() {
        let sql = "-- title\nALTER TABLE run ADD COLUMN kind TEXT;\nALTER TABLE \"ledger_line\" RENAME COLUMN rank TO tax_rank;\nCREATE TABLE \"a\" (\n  x TEXT\n);\nCREATE UNIQUE INDEX \"a_key\" ON \"a\" (\"x\");\nALTER TABLE b DROP COLUMN y;\nDROP TABLE IF EXISTS c;\n";
        assert_eq!(
            changes_of(sql),
            vec![
                Change::AddColumn {
                    table: "run".into(),
                    column: "kind".into()
                },
                Change::RenameColumn {
                    table: "ledger_line".into(),
                    from: "rank".into(),
                    to: "tax_rank".into()
                },
                Change::CreateTable { table: "a".into() },
                Change::CreateIndex {
                    index: "a_key".into(),
                    table: "a".into()
                },
                Change::DropColumn {
                    table: "b".into(),
                    column: "y".into()
                },
                Change::DropTable { table: "c".into() },
            ]
        );
    }

    #[test]
    fn clearing_and_deleting_are_read_too() {
        let sql = "DELETE FROM ferry_meta WHERE key = 'fingerprint_key';\nUPDATE user_payment_method_ach SET account_fingerprint = NULL WHERE account_fingerprint IS NOT NULL;\nDELETE FROM \"x\";\n";
        let ch = changes_of(sql);
        assert_eq!(
            ch,
            vec![
                Change::DeleteRows {
                    table: "ferry_meta".into(),
                    condition: "key = 'fingerprint_key'".into()
                },
                Change::ClearColumn {
                    table: "user_payment_method_ach".into(),
                    column: "account_fingerprint".into()
                },
                Change::DeleteRows {
                    table: "x".into(),
                    condition: String::new()
                },
            ]
        );
        assert_eq!(
            describe(&ch[0]),
            "deletes the rows of ferry_meta where key = 'fingerprint_key'"
        );
        assert_eq!(
            describe(&ch[1]),
            "clears every value of column user_payment_method_ach.account_fingerprint"
        );
        assert_eq!(
            rows_changed(&ch).into_iter().collect::<Vec<_>>(),
            ["ferry_meta", "user_payment_method_ach", "x"]
        );
    }

    #[test]
    fn the_real_migrations_have_titles_and_changes() {
        let p = pending(0);
        assert_eq!(p.len(), SCHEMA_VERSION as usize);
        assert!(p
            .iter()
            .all(|p| !p.title.is_empty() && !p.changes.is_empty()));
        assert!(p[1].changes.contains(&Change::RenameColumn {
            table: "ledger_line".into(),
            from: "rank".into(),
            to: "tax_rank".into()
        }));
        // Version 2 takes the fingerprint key out of the target, with its fingerprints.
        assert!(p[1].changes.contains(&Change::DeleteRows {
            table: "ferry_meta".into(),
            condition: "key = 'fingerprint_key'".into()
        }));
        for (table, column) in [
            ("user_payment_method_credit_card", "card_fingerprint"),
            ("user_payment_method_ach", "account_fingerprint"),
        ] {
            assert!(p[1].changes.contains(&Change::ClearColumn {
                table: table.into(),
                column: column.into()
            }));
        }
    }

    fn object(kind: ObjectKind, name: &str, table: Option<&str>, sql: &str) -> Object {
        Object {
            kind,
            name: name.into(),
            table: table.map(Into::into),
            sql: sql.into(),
        }
    }

    /// Customized objects, one for each kind of impact (and one untouched).
    fn sample_objects() -> Vec<Object> {
        vec![
            object(
                ObjectKind::View,
                "tax_lines",
                None,
                "SELECT \"user\", rank FROM ledger_line",
            ),
            object(
                ObjectKind::Trigger,
                "audit_b",
                Some("b"),
                "CREATE TRIGGER audit_b AFTER INSERT ON b BEGIN SELECT 1; END",
            ),
            object(
                ObjectKind::Index,
                "b_y",
                Some("b"),
                "CREATE INDEX b_y ON b (y)",
            ),
            object(ObjectKind::Table, "a", None, ""),
            object(ObjectKind::Column, "run.kind", Some("run"), ""),
            object(
                ObjectKind::View,
                "untouched",
                None,
                "SELECT name FROM invoice",
            ),
            object(
                ObjectKind::Trigger,
                "card_audit",
                Some("cards"),
                "CREATE TRIGGER card_audit AFTER UPDATE ON cards BEGIN SELECT 1; END",
            ),
        ]
    }

    /// A migration that renames, drops, creates, adds and clears.
    fn sample_migration() -> Vec<Pending> {
        vec![Pending {
            version: 9,
            title: String::new(),
            changes: vec![
                Change::RenameColumn {
                    table: "ledger_line".into(),
                    from: "rank".into(),
                    to: "tax_rank".into(),
                },
                Change::DropTable { table: "b".into() },
                Change::CreateTable { table: "a".into() },
                Change::AddColumn {
                    table: "run".into(),
                    column: "kind".into(),
                },
                Change::ClearColumn {
                    table: "cards".into(),
                    column: "fingerprint".into(),
                },
            ],
        }]
    }

    #[test]
    fn customizations_are_marked_by_what_the_migrations_do() {
        let objects = sample_objects();
        let mut custom: Vec<Customization> = objects
            .iter()
            .map(|o| Customization {
                kind: o.kind,
                name: o.name.clone(),
                table: o.table.clone(),
                impacts: vec![],
            })
            .collect();
        let pending = sample_migration();
        judge(&mut custom, &objects, &pending);
        let effects: Vec<Vec<Effect>> = custom
            .iter()
            .map(|c| c.impacts.iter().map(|i| i.effect).collect())
            .collect();
        assert_eq!(
            effects,
            vec![
                vec![Effect::Breaks],
                vec![Effect::Dropped],
                vec![Effect::Dropped],
                vec![Effect::Conflicts],
                vec![Effect::Conflicts],
                vec![],
                vec![Effect::Fires],
            ]
        );
        assert_eq!(
            custom[0].impacts[0].reason,
            "uses ledger_line.rank, which migration 9 renames to tax_rank"
        );
    }
}
