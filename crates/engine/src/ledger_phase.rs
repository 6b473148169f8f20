//! The ledger stream of a run (SPEC §7): each Debit, Credit, CloseInvoice and Payment, in source
//! order across accounts, is planned against its account's book (and, for payments, the books
//! of the accounts below it), then applied and written: invoices, ledger lines, disbursements.

use crate::close_batch::{BatchRow, Batches};
use crate::RunError;
use ferry_catalogue::Known;
use ferry_findings::{Code, Finding};
use ferry_ledger::{credit_amount, disbursement, tax, Book, Close, Invoice, Refusal, Target};
use ferry_store::cells::{money_e4, money_from_e4};
use ferry_store::Cell;
use ferry_store::Target as Store;
use ferry_validate::{Record, Value};
use rust_decimal::Decimal;
// Accounts, invoices and tax codes come from the input: foldhash, seeded per process; ledger keys
// (BLAKE3) and row ids are Ferry's own: Fx.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use rustc_hash::{FxHashMap, FxHashSet};

/// Per account: what the source held, and where it went (reconciliation, SPEC §10).
#[derive(Debug, Clone, Default)]
pub(crate) struct Sums {
    pub source: Decimal,
    pub imported: Decimal,
    pub rejected: Decimal,
    pub skipped: Decimal,
}

/// One line of a charge: its kind, the tax rank of a tax line, the amount.
type ChargeLine = (&'static str, Option<i64>, Decimal);

/// What an accepted ledger record will do, decided before anything changes.
pub(crate) enum Plan {
    Charge {
        user: String,
        target: Target,
        lines: Vec<ChargeLine>,
        total: Decimal,
    },
    Close {
        user: String,
        close: Close,
        delivered: bool,
    },
    Payment {
        user: String,
        amount: Decimal,
        to: Option<(String, usize)>,
    },
}

pub(crate) struct LedgerState {
    run: i64,
    books: HashMap<String, Book>,
    /// The account whose book was asked for last: its book is kept across a flush (below).
    last_book: String,
    /// Accounts that have invoices in the target (before the run, or written by it since), by a
    /// hash of their name (their books are loaded on touch). A hash, not the name: 8 bytes per
    /// account instead of a `String` in a set (about 60 bytes at a million accounts), and a false
    /// match only loads a book from the target that holds none of its invoices — an empty book,
    /// as without it.
    with_invoices: AccountSet,
    children: HashMap<String, Vec<String>>,
    rates: HashMap<String, Vec<(i64, Decimal)>>,
    /// Every account's own tax code (by index into `tax_names`), loaded once, when the first
    /// taxed charge needs one: the accounts and their tax attributes do not change during the
    /// ledger phase (User and UserAttributeTaxCode come before it, SPEC §7), and one query per
    /// account would cost a round trip each on a server.
    account_tax: Option<HashMap<Box<str>, u32>>,
    tax_names: Vec<String>,
    next_invoice: i64,
    next_line: i64,
    next_disbursement: i64,
    pub seq: i64,
    /// `ledger_key`s of ledger rows stored before this run.
    earlier: FxHashSet<i64>,
    /// `ledger_key`s of ledger rows this run stored before an interruption (empty unless
    /// resuming): what the rows done before it did, for their batches.
    this_run: FxHashSet<i64>,
    /// A retry's (`--retry-of`): how many rows of each `ledger_key` the runs it retries stored,
    /// and the last of those runs — rows this run may skip as already imported, in every
    /// `--on-existing` mode, each stored row once ([`crate::retry_family`]).
    retried: FxHashMap<i64, (u32, i64)>,
    /// The open batch of each account, for its unnamed close.
    batches: Batches,
    pub sums: HashMap<String, Sums>,
    /// A run whose data are committed only at its end (test-only, `--all-or-nothing`) cannot
    /// store its sums with each chunk: they go to this scratch file instead, one segment per
    /// chunk (one line per account, then `-`), so that memory does not grow with the accounts.
    spill: Option<std::io::BufWriter<std::fs::File>>,
    /// Invoices changed since they were last written, in the order they changed.
    dirty_invoices: HashSet<(String, usize)>,
    dirty_order: Vec<(String, usize)>,
    /// The first invoice id not written yet: invoices from here on were opened since the
    /// last flush.
    unwritten_invoices: i64,
    /// The first id of an invoice this run opens: invoices from it on have no prior state to
    /// keep for rollback. (Ids are given in order from the target's largest plus one, so this
    /// is the set of invoices opened here without one entry per invoice; on resume, the
    /// invoices opened before the interruption are below it and keep their state, which is
    /// this run's own and so never copied.)
    first_new_invoice: i64,
}

/// A set of account names kept as hashes (seeded per process: the names come from the input).
#[derive(Default)]
struct AccountSet {
    hashes: FxHashSet<u64>,
    hasher: foldhash::quality::RandomState,
}

impl AccountSet {
    fn hash(&self, user: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(user)
    }
    fn insert(&mut self, user: &str) {
        let h = self.hash(user);
        self.hashes.insert(h);
    }
    /// Whether `user` may be in the set (it is when it was inserted).
    fn may_contain(&self, user: &str) -> bool {
        self.hashes.contains(&self.hash(user))
    }
}

impl LedgerState {
    pub fn load(
        store: &Store,
        run: i64,
        parents: &std::collections::HashMap<String, String>,
    ) -> Result<LedgerState, RunError> {
        let mut with_invoices = AccountSet::default();
        store.each("SELECT DISTINCT \"user\" FROM invoice", &[], |r| {
            with_invoices.insert(&r.text(0));
            Ok(())
        })?;
        let mut rates: HashMap<String, Vec<(i64, Decimal)>> = HashMap::new();
        store.each("SELECT tax_code, rank, percent FROM tax_rate", &[], |r| {
            if let Ok(p) = r.text(2).parse::<Decimal>() {
                rates.entry(r.text(0)).or_default().push((r.int(1), p));
            }
            Ok(())
        })?;
        let (mut earlier, mut this_run) = (FxHashSet::default(), FxHashSet::default());
        for t in ferry_catalogue::LEDGER_TYPES {
            let e = ferry_catalogue::entity(t).expect("ledger type");
            // A resumed run's own rows are not duplicates of themselves.
            let sql = format!(
                "SELECT ledger_key, CASE WHEN coalesce(run_id, 0) = ?1 THEN 1 ELSE 0 END FROM {} WHERE ledger_key IS NOT NULL",
                ferry_store::schema::quote(&e.table())
            );
            store.each(&sql, ferry_store::params![run], |r| {
                match r.int(1) {
                    0 => earlier.insert(r.int(0)),
                    _ => this_run.insert(r.int(0)),
                };
                Ok(())
            })?;
        }
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for (child, parent) in parents {
            children
                .entry(parent.clone())
                .or_default()
                .push(child.clone());
        }
        for v in children.values_mut() {
            v.sort();
        }
        let max = |table: &str| {
            let sql = format!("SELECT coalesce(max(id), 0) + 1 FROM {table}");
            store.int(&sql, &[])
        };
        let max_seq = {
            let mut m = 0i64;
            for t in ferry_catalogue::LEDGER_TYPES {
                let e = ferry_catalogue::entity(t).expect("ledger type");
                m = m.max(store.int(
                    &format!(
                        "SELECT coalesce(max(ledger_seq), 0) FROM {}",
                        ferry_store::schema::quote(&e.table())
                    ),
                    &[],
                )?);
            }
            m
        };
        let next_invoice = max("invoice")?;
        Ok(LedgerState {
            run,
            books: HashMap::new(),
            last_book: String::new(),
            with_invoices,
            children,
            rates,
            account_tax: None,
            tax_names: vec![],
            next_invoice,
            unwritten_invoices: next_invoice,
            next_line: max("ledger_line")?,
            next_disbursement: max("disbursement")?,
            seq: max_seq,
            earlier,
            this_run,
            retried: FxHashMap::default(),
            batches: Batches::default(),
            sums: HashMap::new(),
            spill: None,
            dirty_invoices: HashSet::new(),
            dirty_order: vec![],
            first_new_invoice: next_invoice,
        })
    }

    fn book(&mut self, store: &Store, user: &str) -> Result<&mut Book, RunError> {
        if self.last_book != user {
            self.last_book.clear();
            self.last_book.push_str(user);
        }
        if !self.books.contains_key(user) {
            let mut book = Book::default();
            if self.with_invoices.may_contain(user) {
                store.each(
                    "SELECT id, name, closed, delivered, is_current, total_e4, disbursed_e4 FROM invoice WHERE \"user\" = ?1 ORDER BY id",
                    ferry_store::params![user],
                    |r| {
                        if r.int(4) != 0 {
                            book.current = Some(book.invoices.len());
                        }
                        book.invoices.push(Invoice {
                            id: r.int(0),
                            name: r.text(1),
                            closed: r.int(2) != 0,
                            delivered: r.int(3) != 0,
                            total: money_from_e4(r.int(5)),
                            disbursed: money_from_e4(r.int(6)),
                        });
                        Ok(())
                    },
                )?;
            }
            self.books.insert(user.to_string(), book);
        }
        Ok(self.books.get_mut(user).expect("inserted"))
    }

    /// The account's own tax code: its UserAttributeTaxCode, else the User's TaxCode.
    /// (By its index into `tax_names`.)
    fn account_tax_code(&mut self, store: &Store, user: &str) -> Result<Option<u32>, RunError> {
        if self.account_tax.is_none() {
            let mut map: HashMap<Box<str>, u32> = HashMap::new();
            let mut names: Vec<String> = vec![];
            let mut idx: HashMap<String, u32> = HashMap::new();
            let mut add = |user: String, code: String| {
                let n = names.len();
                let i = *idx.entry(code.clone()).or_insert_with(|| {
                    names.push(code);
                    n as u32
                });
                // The attribute (read first) wins over the account's own field.
                map.entry(user.into_boxed_str()).or_insert(i);
            };
            let mut rows = vec![];
            store.each(
                "SELECT \"user\", tax_code FROM user_attribute_tax_code WHERE tax_code IS NOT NULL ORDER BY id",
                &[],
                |r| {
                    rows.push((r.text(0), r.text(1)));
                    Ok(())
                },
            )?;
            for (u, c) in rows {
                add(u, c);
            }
            store.each(
                "SELECT name, tax_code FROM \"user\" WHERE tax_code IS NOT NULL",
                &[],
                |r| {
                    add(r.text(0), r.text(1));
                    Ok(())
                },
            )?;
            self.account_tax = Some(map);
            self.tax_names = names;
        }
        Ok(self.account_tax.as_ref().and_then(|m| m.get(user)).copied())
    }

    /// The identity of a ledger row across runs: (type, User, Date, amount, Description, Invoice).
    pub fn ledger_key(rec: &Record) -> i64 {
        let mut h = blake3::Hasher::new();
        h.update(rec.entity.name.as_bytes());
        let mut buf = String::new();
        for f in ["User", "Date", "Debit", "Credit", "Description", "Invoice"] {
            h.update(&[0x1e]);
            if let Some(v) = rec.get(f) {
                h.update(v.canonical_in(&mut buf).as_bytes());
            }
        }
        i64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
    }

    /// The identity of a CloseInvoice without `Invoice`, and whether an earlier run stored it
    /// (a duplicate). `row` is the close (its `key` is the close's own `ledger_key`). Such a close
    /// has no date or amount of its own; it is the close of its batch (`close_batch`):
    /// - a row of the batch is new in this run: a new close (of the invoice those rows are on);
    /// - otherwise, with rows stored before (the same rows again, perhaps with rows rejected now
    ///   or before): the hash of those rows, so that re-running them finds the close stored with
    ///   them. A close stored by a Ferry that did not count batches (schema version 1) has the
    ///   close's own key: found too;
    /// - no stored row before it (a close on its own): the invoice it closes (`close_target`), so
    ///   that closing the invoice a later run left open is new, and re-running the same close
    ///   finds the invoice it closed.
    pub fn unnamed_close(
        &mut self,
        store: &Store,
        user: &str,
        row: &BatchRow,
    ) -> Result<(i64, bool), RunError> {
        let batch = self.batches.current(row);
        let key = |closes: &[u8]| {
            let mut h = blake3::Hasher::new();
            h.update(&row.key.to_le_bytes());
            h.update(&batch.rows.to_le_bytes());
            h.update(closes);
            i64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
        };
        if batch.new {
            return Ok((key(b""), false));
        }
        if batch.rows != 0 {
            let k = key(b"");
            return Ok((
                k,
                self.earlier.contains(&k) || self.earlier.contains(&row.key),
            ));
        }
        let closes = self.close_target(store, user)?.unwrap_or_default();
        let k = key(closes.as_bytes());
        Ok((k, self.earlier.contains(&k)))
    }

    /// The invoice an unnamed close of `user` applies to, for its identity: the current invoice,
    /// else the account's last one (a close re-run after it was closed), else none.
    fn close_target(&mut self, store: &Store, user: &str) -> Result<Option<String>, RunError> {
        let book = self.book(store, user)?;
        let i = book.current.or(book.invoices.len().checked_sub(1));
        Ok(i.map(|i| book.invoices[i].name.clone()))
    }

    /// Loads the ledger rows the runs of a retry's family stored (see `retried`).
    pub fn load_retried(&mut self, store: &Store, family: &[i64]) -> Result<(), RunError> {
        for t in ferry_catalogue::LEDGER_TYPES {
            let e = ferry_catalogue::entity(t).expect("ledger type");
            let sql = format!(
                "SELECT ledger_key FROM {} WHERE run_id = ?1 AND ledger_key IS NOT NULL",
                ferry_store::schema::quote(&e.table())
            );
            for &run in family {
                store.each(&sql, ferry_store::params![run], |r| {
                    let seen = self.retried.entry(r.int(0)).or_insert((0, run));
                    seen.0 += 1;
                    seen.1 = seen.1.max(run);
                    Ok(())
                })?;
            }
        }
        Ok(())
    }

    /// Whether a retry may skip a duplicate row of `key` as one its family imported: the run that
    /// did, taking one of the rows it stored.
    pub fn claim_retried(&mut self, key: i64) -> Option<i64> {
        let seen = self.retried.get_mut(&key)?;
        if seen.0 == 0 {
            return None;
        }
        seen.0 -= 1;
        Some(seen.1)
    }

    pub fn is_earlier_duplicate(&self, key: i64) -> bool {
        self.earlier.contains(&key)
    }

    /// Notes a processed ledger row for its account's batch: `stored`, it is a duplicate of a
    /// row an earlier run stored; `imported`, this run stored it.
    pub fn note_row(&mut self, row: &BatchRow, stored: bool, imported: bool) {
        self.batches.note(row, stored, imported);
    }

    /// Notes a row processed before the interruption of this run, from what the target holds.
    pub fn replay(&mut self, row: &BatchRow) {
        let stored = self.earlier.contains(&row.key);
        let imported = self.this_run.contains(&row.key);
        self.batches.note(row, stored, imported);
    }

    /// The signed amount a record carries as given (for the reconciliation's source sums).
    pub fn source_amount(rec: &Record) -> Option<Decimal> {
        let dec = |f: &str| decimal(rec, f);
        match rec.entity.known() {
            Some(Known::Debit) => dec("Debit"),
            Some(Known::Credit) => Some(-credit_amount(
                dec("Credit")?,
                dec("BulkAmount").unwrap_or(Decimal::ONE),
            )),
            Some(Known::Payment) => Some(-dec("Credit")?),
            _ => Some(Decimal::ZERO),
        }
    }

    /// Moves the sums gathered since the last call to the scratch file (see `spill`).
    pub fn spill_sums(&mut self) -> Result<(), RunError> {
        use std::io::Write;
        if self.sums.is_empty() {
            return Ok(());
        }
        if self.spill.is_none() {
            self.spill = Some(std::io::BufWriter::new(tempfile::tempfile()?));
        }
        let w = self.spill.as_mut().expect("just made");
        for (u, s) in self.sums.drain() {
            let line = (
                u,
                e4(s.source),
                e4(s.imported),
                e4(s.rejected),
                e4(s.skipped),
            );
            serde_json::to_writer(&mut *w, &line).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
        }
        w.write_all(b"-\n")?;
        Ok(())
    }

    /// Adds the sums gathered since the last call to the stored ones (with the chunk, or at the
    /// end), and forgets them: memory holds only what changed within a chunk.
    pub fn store_sums(&mut self, store: &Store) -> Result<(), RunError> {
        if let Some(w) = self.spill.take() {
            use std::io::{BufRead, Seek};
            let mut f = w.into_inner().map_err(|e| e.into_error())?;
            f.seek(std::io::SeekFrom::Start(0))?;
            let mut segment: Vec<Vec<Cell>> = vec![];
            for line in std::io::BufReader::new(f).lines() {
                let line = line?;
                if line == "-" {
                    // One chunk's accounts are distinct: one upsert may hold them all.
                    add_sums(store, &segment)?;
                    segment.clear();
                    continue;
                }
                let (u, a, b, c, d): (String, i64, i64, i64, i64) =
                    serde_json::from_str(&line).map_err(std::io::Error::other)?;
                segment.push(ferry_store::params![&self.run, &u, &a, &b, &c, &d].to_vec());
            }
        }
        let mut sums: Vec<(String, Sums)> = self.sums.drain().collect();
        sums.sort_by(|a, b| a.0.cmp(&b.0));
        let rows: Vec<Vec<Cell>> = sums
            .into_iter()
            .map(|(u, s)| {
                ferry_store::params![
                    &self.run,
                    &u,
                    &e4(s.source),
                    &e4(s.imported),
                    &e4(s.rejected),
                    &e4(s.skipped)
                ]
                .to_vec()
            })
            .collect();
        add_sums(store, &rows)
    }

    pub fn count(&mut self, user: &str, amount: Option<Decimal>, outcome: Outcome) {
        // (No key made for an account already counted: most records are.)
        if !self.sums.contains_key(user) {
            self.sums.insert(user.to_string(), Sums::default());
        }
        let s = self.sums.get_mut(user).expect("inserted");
        let a = amount.unwrap_or(Decimal::ZERO);
        s.source += a;
        match outcome {
            Outcome::Imported => s.imported += a,
            Outcome::Rejected => s.rejected += a,
            Outcome::Skipped => s.skipped += a,
        }
    }

    /// Decides what an otherwise valid ledger record does; findings are warnings, or the error
    /// that rejects it (then `Err` carries it and nothing changed).
    pub fn plan(
        &mut self,
        store: &Store,
        rec: &Record,
        warnings: &mut Vec<Finding>,
    ) -> Result<Result<Plan, Finding>, RunError> {
        let user = rec.text("User").unwrap_or_default().to_string();
        let invoice = rec.text("Invoice").map(str::to_string);
        let planned = match rec.entity.known() {
            Some(Known::Debit | Known::Credit) => {
                self.plan_charge(store, rec, user.clone(), invoice, warnings)?
            }
            Some(Known::CloseInvoice) => {
                self.plan_close(store, rec, user.clone(), invoice, warnings)?
            }
            _ => self.plan_payment(store, rec, user.clone(), invoice)?,
        };
        Ok(planned.map_err(|r| refused(rec, &user, r)))
    }

    /// A Debit or Credit: its lines (with the taxes of its tax code, or its account's) and the
    /// invoice it goes to.
    fn plan_charge(
        &mut self,
        store: &Store,
        rec: &Record,
        user: String,
        invoice: Option<String>,
        warnings: &mut Vec<Finding>,
    ) -> Result<Result<Plan, Refusal>, RunError> {
        let own_code = rec.text("TaxCode");
        let account_code = match own_code {
            Some(_) => None,
            None => self.account_tax_code(store, &user)?,
        };
        // Borrowed, not copied: a charge's lines are made before its book is touched.
        let code = own_code.or_else(|| account_code.map(|i| self.tax_names[i as usize].as_str()));
        let rates = code
            .and_then(|c| self.rates.get(c))
            .map_or(&[][..], Vec::as_slice);
        let mut lines = vec![];
        let total = if rec.entity.is(Known::Debit) {
            debit_lines(rec, code, rates, &mut lines, warnings)
        } else {
            -credit_lines(rec, code, rates, &mut lines, warnings)
        };
        let book = self.book(store, &user)?;
        Ok(book
            .plan_charge(&user, invoice.as_deref())
            .map(|target| Plan::Charge {
                user,
                target,
                lines,
                total,
            }))
    }

    /// A CloseInvoice: the invoice it closes (a warning when there is none to close).
    fn plan_close(
        &mut self,
        store: &Store,
        rec: &Record,
        user: String,
        invoice: Option<String>,
        warnings: &mut Vec<Finding>,
    ) -> Result<Result<Plan, Refusal>, RunError> {
        let delivered = matches!(rec.get("Delivered"), Some(Value::Bool(true)));
        let book = self.book(store, &user)?;
        let close = match book.plan_close(invoice.as_deref()) {
            Ok(close) => close,
            Err(r) => return Ok(Err(r)),
        };
        match (&close, &invoice) {
            (Close::Nothing, _) => warnings.push(rec.finding(
                Code::NothingToClose,
                Some("User"),
                format!("Account \"{user}\" has no current invoice to close."),
            )),
            (Close::AlreadyClosed(_), Some(n)) => warnings.push(rec.finding(
                Code::NothingToClose,
                Some("Invoice"),
                format!("Invoice \"{n}\" of account \"{user}\" is already closed."),
            )),
            _ => {}
        }
        Ok(Ok(Plan::Close {
            user,
            close,
            delivered,
        }))
    }

    /// A Payment: the invoice it pays, on its account or on one account below it.
    fn plan_payment(
        &mut self,
        store: &Store,
        rec: &Record,
        user: String,
        invoice: Option<String>,
    ) -> Result<Result<Plan, Refusal>, RunError> {
        let amount = decimal(rec, "Credit").unwrap_or_default();
        let Some(name) = invoice else {
            return Ok(Ok(Plan::Payment {
                user,
                amount,
                to: None,
            }));
        };
        if let Some(i) = self.book(store, &user)?.find(&name) {
            return Ok(Ok(Plan::Payment {
                user: user.clone(),
                amount,
                to: Some((user, i)),
            }));
        }
        // The accounts below it in the child tree, all levels.
        let mut found = vec![];
        let mut queue: Vec<String> = self.children.get(&user).cloned().unwrap_or_default();
        let mut seen = HashSet::new();
        while let Some(acc) = queue.pop() {
            if !seen.insert(acc.clone()) {
                continue;
            }
            if let Some(i) = self.book(store, &acc)?.find(&name) {
                found.push((acc.clone(), i));
            }
            queue.extend(self.children.get(&acc).cloned().unwrap_or_default());
        }
        match found.len() {
            0 => Ok(Err(Refusal::InvoiceUnknown(name))),
            1 => Ok(Ok(Plan::Payment {
                user,
                amount,
                to: found.pop(),
            })),
            _ => {
                let mut names: Vec<String> = found.into_iter().map(|(a, _)| a).collect();
                names.sort();
                Ok(Err(Refusal::InvoiceAmbiguous(name, names)))
            }
        }
    }

    /// Applies a plan for the stored row `row_id` of `entity`; returns the invoice it touched.
    pub fn apply(
        &mut self,
        store: &Store,
        plan: Plan,
        entity: &str,
        row_id: i64,
    ) -> Result<Option<i64>, RunError> {
        match plan {
            Plan::Charge {
                user,
                target,
                lines,
                total,
            } => self
                .apply_charge(store, &user, target, lines, total, (entity, row_id))
                .map(Some),
            Plan::Close {
                user,
                close,
                delivered,
            } => {
                let book = self.book(store, &user)?;
                book.apply_close(&close, delivered);
                let touched = match close {
                    Close::Close(i) | Close::AlreadyClosed(i) => Some(book.invoices[i].clone()),
                    Close::Nothing => None,
                };
                if let Close::Close(i) | Close::AlreadyClosed(i) = close {
                    self.mark_dirty(&user, i);
                }
                Ok(touched.map(|i| i.id))
            }
            Plan::Payment { user, amount, to } => {
                self.apply_payment(store, &user, amount, to, (entity, row_id))
            }
        }
    }

    /// A charge's invoice (a new one, or the one it goes to) and lines; returns the invoice.
    fn apply_charge(
        &mut self,
        store: &Store,
        user: &str,
        target: Target,
        lines: Vec<ChargeLine>,
        total: Decimal,
        (entity, row_id): (&str, i64),
    ) -> Result<i64, RunError> {
        let new_id = self.next_invoice;
        let before = self.book(store, user)?.current;
        let book = self.books.get_mut(user).expect("loaded");
        let is_new = matches!(target, Target::New(_));
        let i = book.apply_charge(target, total, new_id);
        if is_new {
            self.next_invoice += 1;
        }
        let inv_id = book.invoices[i].id;
        if let Some(b) = before.filter(|b| *b != i) {
            self.mark_dirty(user, b);
        }
        self.mark_dirty(user, i);
        for (kind, rank, amount) in lines {
            self.line(
                store,
                user,
                Some(inv_id),
                kind,
                rank,
                amount,
                Decimal::ZERO,
                false,
                entity,
                row_id,
            )?;
        }
        Ok(inv_id)
    }

    /// A payment's line, and its disbursement to the invoice it pays; returns the invoice.
    fn apply_payment(
        &mut self,
        store: &Store,
        user: &str,
        amount: Decimal,
        to: Option<(String, usize)>,
        (entity, row_id): (&str, i64),
    ) -> Result<Option<i64>, RunError> {
        let (disbursed, invoice) = match to {
            Some((acc, i)) => {
                let book = self.book(store, &acc)?;
                let d = disbursement(amount, &book.invoices[i]);
                book.invoices[i].disbursed += d;
                let id = book.invoices[i].id;
                self.mark_dirty(&acc, i);
                (d, Some(id))
            }
            None => (Decimal::ZERO, None),
        };
        let line = self.line(
            store,
            user,
            invoice,
            "payment",
            None,
            amount,
            disbursed,
            invoice.is_none(),
            entity,
            row_id,
        )?;
        if let (Some(inv), false) = (invoice, disbursed.is_zero()) {
            let id = self.next_disbursement;
            self.next_disbursement += 1;
            store.append(
                "disbursement",
                &["id", "run_id", "payment_line_id", "invoice_id", "amount_e4"],
                ferry_store::params![&id, &self.run, &line, &inv, &e4(disbursed)].to_vec(),
            )?;
        }
        Ok(invoice)
    }

    fn mark_dirty(&mut self, user: &str, index: usize) {
        // An account's rows come together: most marks repeat the last one, which is in the set
        // (the set and the order are filled and emptied together).
        if self
            .dirty_order
            .last()
            .is_some_and(|(u, i)| *i == index && u == user)
        {
            return;
        }
        let key = (user.to_string(), index);
        if self.dirty_invoices.insert(key.clone()) {
            self.dirty_order.push(key);
        }
    }

    /// Writes the invoices changed since the last call (before each data commit), so that a
    /// ledger record costs its own row and lines, not an invoice update.
    pub fn flush_invoices(&mut self, store: &Store) -> Result<(), RunError> {
        let dirty = std::mem::take(&mut self.dirty_order);
        self.dirty_invoices.clear();
        const COLUMNS: [&str; 9] = [
            "id",
            "run_id",
            "user",
            "name",
            "closed",
            "delivered",
            "is_current",
            "total_e4",
            "disbursed_e4",
        ];
        let mut rows = Vec::with_capacity(dirty.len());
        let mut new_rows = Vec::with_capacity(dirty.len());
        for (user, i) in dirty {
            let book = &self.books[&user];
            let inv = &book.invoices[i];
            let is_current = book.current == Some(i);
            let row = self.invoice_row(store, &user, inv, is_current)?;
            // An invoice opened since the last flush is not in the target yet: appended (the
            // bulk path, COPY on PostgreSQL), not upserted.
            if inv.id >= self.unwritten_invoices {
                new_rows.push(row);
            } else {
                rows.push(row);
            }
        }
        // All of the chunk's invoices in a few statements.
        store.upsert(
            "invoice",
            &COLUMNS,
            &["id"],
            "closed = excluded.closed, delivered = excluded.delivered, is_current = excluded.is_current,
             total_e4 = excluded.total_e4, disbursed_e4 = excluded.disbursed_e4",
            &rows,
        )?;
        for row in new_rows {
            store.append("invoice", &COLUMNS, row)?;
        }
        self.unwritten_invoices = self.next_invoice;
        // Every book is now what the target holds: forget them (they load again when touched),
        // so that memory follows the chunk, not the number of accounts — all but the last one
        // asked for, whose account most often goes on in the next chunk: reloading it would be
        // the chunk's first statement, which waits for the commit the writer thread is running.
        let keep = self.books.remove_entry(self.last_book.as_str());
        for (user, book) in self.books.drain() {
            if !book.invoices.is_empty() {
                self.with_invoices.insert(&user);
            }
        }
        if let Some((user, book)) = keep {
            if !book.invoices.is_empty() {
                self.with_invoices.insert(&user);
            }
            self.books.insert(user, as_reloaded(book));
        }
        Ok(())
    }

    /// Forgets unwritten invoice changes (a rolled-back test-only run).
    pub fn discard_invoices(&mut self) {
        self.dirty_order.clear();
        self.dirty_invoices.clear();
    }

    /// An invoice's row for the chunk's upsert. An invoice of an earlier run that this run
    /// changes first keeps its prior state for rollback, once per run (the first change).
    fn invoice_row(
        &self,
        store: &Store,
        user: &str,
        inv: &Invoice,
        is_current: bool,
    ) -> Result<Vec<Cell>, RunError> {
        if inv.id < self.first_new_invoice {
            store.exec(
            "INSERT INTO run_change (run_id, entity, row_id, action, before)
             SELECT CAST(?1 AS BIGINT), 'invoice', id, 'update', json_object('closed', closed, 'delivered', delivered, 'is_current', is_current, 'total_e4', total_e4, 'disbursed_e4', disbursed_e4)
             FROM invoice WHERE id = ?2 AND coalesce(run_id, 0) <> ?1
               AND NOT EXISTS (SELECT 1 FROM run_change WHERE run_id = ?1 AND entity = 'invoice' AND row_id = ?2)",
                ferry_store::params![&self.run, &inv.id],
            )?;
        }
        Ok(ferry_store::params![
            &inv.id,
            &self.run,
            &user,
            &inv.name,
            &(inv.closed as i64),
            &(inv.delivered as i64),
            &(is_current as i64),
            &e4(inv.total),
            &e4(inv.disbursed)
        ]
        .to_vec())
    }

    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        store: &Store,
        user: &str,
        invoice: Option<i64>,
        kind: &str,
        rank: Option<i64>,
        amount: Decimal,
        disbursed: Decimal,
        auto: bool,
        entity: &str,
        row_id: i64,
    ) -> Result<i64, RunError> {
        let id = self.next_line;
        self.next_line += 1;
        store.append(
            "ledger_line",
            &[
                "id",
                "run_id",
                "user",
                "invoice_id",
                "kind",
                "tax_rank",
                "amount_e4",
                "disbursed_e4",
                "auto_disburse",
                "entity",
                "row_id",
            ],
            ferry_store::params![
                &id,
                &self.run,
                &user,
                &invoice,
                &kind,
                &rank,
                &e4(amount),
                &e4(disbursed),
                &(auto as i64),
                &entity,
                &row_id
            ]
            .to_vec(),
        )?;
        Ok(id)
    }
}

/// Where a record went, for the sums.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Imported,
    Rejected,
    Skipped,
}

/// Adds per-account sums (run, user, source, imported, rejected, skipped; one row per account)
/// to the stored ones.
fn add_sums(store: &Store, rows: &[Vec<Cell>]) -> Result<(), RunError> {
    store.upsert(
        "run_ledger_sum",
        &["run_id", "user", "source_e4", "imported_e4", "rejected_e4", "skipped_e4"],
        &["run_id", "user"],
        "source_e4 = run_ledger_sum.source_e4 + excluded.source_e4, imported_e4 = run_ledger_sum.imported_e4 + excluded.imported_e4,
         rejected_e4 = run_ledger_sum.rejected_e4 + excluded.rejected_e4, skipped_e4 = run_ledger_sum.skipped_e4 + excluded.skipped_e4",
        rows,
    )?;
    Ok(())
}

/// A book as [`LedgerState::book`] would read it back from the target after a flush: the same
/// invoices in id order, their amounts through the stored ten-thousandths (so a kept book and a
/// reloaded one are the same, down to each amount's scale).
fn as_reloaded(mut book: Book) -> Book {
    for inv in &mut book.invoices {
        inv.total = money_from_e4(e4(inv.total));
        inv.disbursed = money_from_e4(e4(inv.disbursed));
    }
    book
}

fn e4(d: Decimal) -> i64 {
    // Ledger amounts are sums of money with at most 4 decimals; they always fit.
    money_e4(d).unwrap_or(i64::MAX)
}

/// A decimal field's value.
fn decimal(rec: &Record, field: &str) -> Option<Decimal> {
    match rec.get(field) {
        Some(Value::Decimal(d)) => Some(*d),
        _ => None,
    }
}

/// The error that rejects a ledger record the book refuses.
fn refused(rec: &Record, user: &str, r: Refusal) -> Finding {
    match r {
        Refusal::InvoiceClosed(n) => rec.finding(Code::InvoiceClosed, Some("Invoice"), format!("Invoice \"{n}\" of account \"{user}\" is closed; a charge or credit cannot be added to it.")),
        Refusal::InvoiceUnknown(n) => rec.finding(Code::InvoiceUnknown, Some("Invoice"), format!("Account \"{user}\" has no invoice \"{n}\" at this point of the ledger.")),
        Refusal::InvoiceAmbiguous(n, accounts) => rec.finding(
            Code::InvoiceAmbiguous,
            Some("Invoice"),
            format!("Invoice \"{n}\" is not on account \"{user}\" and exists on several accounts below it: {}.", accounts.join(", ")),
        ),
    }
}

/// A Debit's lines: the amount, then each tax its tax code has a rate for (a tax it has none
/// for is ignored, with a warning). Returns the total.
fn debit_lines(
    rec: &Record,
    code: Option<&str>,
    rates: &[(i64, Decimal)],
    lines: &mut Vec<ChargeLine>,
    warnings: &mut Vec<Finding>,
) -> Decimal {
    let amount = decimal(rec, "Debit").unwrap_or_default();
    lines.push(("debit", None, amount));
    let mut sum = amount;
    for (rank, field) in (1..=4i64).zip(["Tax1", "Tax2", "Tax3", "Tax4"]) {
        let Some(t) = decimal(rec, field) else {
            continue;
        };
        if t.is_zero() {
            continue;
        }
        if rates.iter().any(|(r, _)| *r == rank) {
            lines.push(("debit_tax", Some(rank), t));
            sum += t;
        } else {
            let why = match code {
                Some(c) => format!("tax code \"{c}\" has no rate of rank {rank}"),
                None => "the record and its account have no tax code".to_string(),
            };
            warnings.push(rec.finding(
                Code::TaxIgnored,
                Some(field),
                format!(
                    "{field} {} is ignored: {why}.",
                    ferry_validate::values::money_text(t)
                ),
            ));
        }
    }
    sum
}

/// A Credit's lines: the amount (times BulkAmount), then with ApplyTax the tax of each rate of
/// its tax code. Returns the total credited (positive).
fn credit_lines(
    rec: &Record,
    code: Option<&str>,
    rates: &[(i64, Decimal)],
    lines: &mut Vec<ChargeLine>,
    warnings: &mut Vec<Finding>,
) -> Decimal {
    let amount = credit_amount(
        decimal(rec, "Credit").unwrap_or_default(),
        decimal(rec, "BulkAmount").unwrap_or(Decimal::ONE),
    );
    lines.push(("credit", None, amount));
    let mut sum = amount;
    if matches!(rec.get("ApplyTax"), Some(Value::Bool(true))) {
        if rates.is_empty() {
            let why = match code {
                Some(c) => format!("tax code \"{c}\" has no rates"),
                None => "the record and its account have no tax code".to_string(),
            };
            warnings.push(rec.finding(
                Code::TaxIgnored,
                Some("ApplyTax"),
                format!("ApplyTax is ignored: {why}, so no tax is credited."),
            ));
        }
        let mut rates = rates.to_vec();
        rates.sort();
        for (rank, pct) in rates {
            let t = tax(amount, pct);
            lines.push(("credit_tax", Some(rank), t));
            sum += t;
        }
    }
    sum
}
