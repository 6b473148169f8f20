//! The legacy certification migration (SPEC §11, seed 002): as each legacy record is accepted,
//! the certification model is written beside it (`cert_program`, `cert_component`,
//! `cert_program_component`, `cert_registration`, `cert_enrollment`), in the same chunk
//! transaction and with the run's id, so that test-only, resume and rollback treat it as they
//! treat the record itself.
//!
//! Rules from seed 002: migrated programs and components do not require approval; components
//! require a grade (an enrollment is never completed automatically: its status is the legacy
//! status as given); legacy fields with no equivalent go to the Description as `Label: value`
//! lines; a registration for a component its program does not contain is a warning and is not
//! migrated, unless `--add-missing-components` adds the component to the program (listed).

use super::{Accepted, AcceptedRecord, EntityRule, Env, Proceed};
use crate::log_sink::FindingSink;
use crate::RunError;
use ferry_catalogue::Known;
use ferry_findings::Code;
use ferry_store::params;
use ferry_store::{Cell, Target};
use ferry_validate::{Record, Value};
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};

/// The legacy program fields that have no equivalent, in Description order (label = field).
pub const PROGRAM_EXTRA: [&str; 9] = [
    "Established",
    "IndustryCode",
    "UF_1",
    "UF_2",
    "UF_3",
    "UF_4",
    "Coordinators",
    "Notes",
    "Prerequisites",
];

/// The legacy component fields that have no equivalent, in Description order.
pub const COMPONENT_EXTRA: [&str; 3] = ["Address", "Prerequisites", "Instructors"];

/// A component `--add-missing-components` added to a program (to remove afterwards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddedComponent {
    pub program: String,
    pub component: String,
}

/// The certification rule: the model the run knows, and `--add-missing-components`.
pub(crate) struct Certification {
    /// The certification model (loaded on first use).
    model: Option<Model>,
    add_missing_components: bool,
}

/// What the run knows of the target's certification model.
///
/// It also knows which rows exist (the target's and this run's), so that a new row goes
/// through the bulk path ([`ferry_store::Target::append`]: multi-row INSERT on SQLite, COPY on
/// PostgreSQL) and only a row that exists is upserted one statement at a time. The result is
/// the rows the upserts would have made: a key is new exactly when the upsert would have
/// inserted, since nothing but this run writes these tables while it holds the writer role.
#[derive(Default)]
struct Model {
    /// (program, component) pairs the programs contain: the target's and this run's.
    pairs: HashSet<(String, String)>,
    /// Program code → title, for the warning (and which programs exist).
    titles: HashMap<String, String>,
    /// What this run added with `--add-missing-components` (also before a resume).
    added: Vec<AddedComponent>,
    /// Component codes that exist.
    components: HashSet<String>,
    /// (user, program) → id of the program registrations that exist.
    registrations: HashMap<(String, String), i64>,
    /// The seqns of the enrollments that exist.
    seqns: HashSet<i64>,
    /// Ids reserved for new registrations (see [`Target::reserve_ids`]), in order.
    ids: VecDeque<i64>,
    /// How many ids to reserve next: growing, so that a small run reserves few.
    block: usize,
}

impl Model {
    /// Reads the model from the target.
    fn load(t: &Target, run: i64) -> Result<Model, RunError> {
        let mut c = Model {
            block: 16,
            ..Model::default()
        };
        t.each(
            "SELECT program_code, component_code, run_id, added_by_migration FROM cert_program_component ORDER BY id",
            &[],
            |r| {
                let pair = (r.text(0), r.text(1));
                if r.opt_int(2) == Some(run) && r.int(3) == 1 {
                    c.added.push(AddedComponent {
                        program: pair.0.clone(),
                        component: pair.1.clone(),
                    });
                }
                c.pairs.insert(pair);
                Ok(())
            },
        )?;
        t.each("SELECT code, title FROM cert_program", &[], |r| {
            c.titles.insert(r.text(0), r.text(1));
            Ok(())
        })?;
        t.each("SELECT code FROM cert_component", &[], |r| {
            c.components.insert(r.text(0));
            Ok(())
        })?;
        t.each(
            "SELECT \"user\", program_code, id FROM cert_registration",
            &[],
            |r| {
                c.registrations.insert((r.text(0), r.text(1)), r.int(2));
                Ok(())
            },
        )?;
        t.each("SELECT seqn FROM cert_enrollment", &[], |r| {
            c.seqns.insert(r.int(0));
            Ok(())
        })?;
        Ok(c)
    }

    /// The id of a new registration.
    fn new_registration_id(&mut self, t: &Target) -> Result<i64, RunError> {
        if self.ids.is_empty() {
            self.ids
                .extend(t.reserve_ids("cert_registration", self.block)?);
            self.block = (self.block * 2).min(1024);
        }
        self.ids.pop_front().ok_or_else(|| {
            ferry_store::StoreError::Other("the target gave no id for a registration".into()).into()
        })
    }
}

/// The text a value shows in a Description line: dates in ISO form (YYYY-MM-DD).
fn line_value(v: &Value) -> String {
    match v {
        Value::Date { at, .. } => at.format("%Y-%m-%d").to_string(),
        other => other.canonical(),
    }
}

/// The Description of a migrated program or component: one `Label: value` line per given
/// field, in the order of `fields`, joined by line feeds. There is no legacy Description field,
/// so the Description is just these lines; `None` when no field is given.
pub fn description<'a>(
    lines: impl IntoIterator<Item = (&'a str, Option<String>)>,
) -> Option<String> {
    let out: Vec<String> = lines
        .into_iter()
        .filter_map(|(label, v)| {
            let v = v?;
            let v = v.trim();
            (!v.is_empty()).then(|| format!("{label}: {v}"))
        })
        .collect();
    (!out.is_empty()).then(|| out.join("\n"))
}

fn record_description(rec: &Record, fields: &[&'static str]) -> Option<String> {
    description(fields.iter().map(|f| (*f, rec.get(f).map(line_value))))
}

/// The warning of seed 002, verbatim.
pub fn not_in_program_message(
    component: &str,
    student: &str,
    program_title: &str,
    seqn: &str,
) -> String {
    format!("Registration found for component \"{component}\", student id \"{student}\" and program \"{program_title}\" (SEQN {seqn}), but the program does not contain this component.")
}

impl EntityRule for Certification {
    fn before_write(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &Record,
        log: &mut dyn FindingSink,
    ) -> Result<Proceed, RunError> {
        self.check(env, rec, log)
    }

    fn accepted(
        &mut self,
        env: &mut Env<'_, '_>,
        acc: &mut AcceptedRecord<'_>,
        _log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        match acc.how {
            Accepted::Inserted | Accepted::Updated => self.write(env, acc.rec),
            Accepted::Unchanged | Accepted::Identical => Ok(()),
        }
    }
}

impl Certification {
    pub(crate) fn new(add_missing_components: bool) -> Certification {
        Certification {
            model: None,
            add_missing_components,
        }
    }

    fn model(&mut self, env: &Env<'_, '_>) -> Result<&mut Model, RunError> {
        if self.model.is_none() {
            self.model = Some(Model::load(env.target, env.run)?);
        }
        Ok(self.model.as_mut().expect("loaded"))
    }

    /// Before a legacy record is written: a registration for a component its program does not
    /// contain is not migrated (a warning), or, with `--add-missing-components`, the component
    /// is added to the program first (an info, and listed in the run's summary).
    fn check(
        &mut self,
        env: &Env<'_, '_>,
        rec: &Record,
        log: &mut dyn FindingSink,
    ) -> Result<Proceed, RunError> {
        if !rec.entity.is(Known::LegacyRegistration) {
            return Ok(Proceed::Write);
        }
        let Some(component) = rec.text("ComponentCode").map(str::to_string) else {
            return Ok(Proceed::Write);
        };
        let program = rec.text("ProgramCode").unwrap_or_default().to_string();
        let (run, add) = (env.run, self.add_missing_components);
        let target = env.target;
        let c = self.model(env)?;
        let pair = (program.clone(), component.clone());
        if c.pairs.contains(&pair) {
            return Ok(Proceed::Write);
        }
        if add {
            target.exec(
                "INSERT INTO cert_program_component (run_id, program_code, component_code, required, added_by_migration) VALUES (?1, ?2, ?3, 0, 1)",
                params![run, program.as_str(), component.as_str()],
            )?;
            c.pairs.insert(pair);
            c.added.push(AddedComponent {
                program: program.clone(),
                component: component.clone(),
            });
            log.push(&rec.finding(
                Code::ComponentAdded,
                Some("ComponentCode"),
                format!("Component \"{component}\" was added to program \"{program}\" (not required) so that this registration could be migrated (--add-missing-components); remove it from the program afterwards if the program no longer contains it."),
            ))?;
            return Ok(Proceed::Write);
        }
        let title = c.titles.get(&program).cloned().unwrap_or(program);
        let student = rec.text("StudentId").unwrap_or_default();
        let seqn = rec.get("Seqn").map(Value::canonical).unwrap_or_default();
        log.push(
            &rec.finding(
                Code::ComponentNotInProgram,
                Some("ComponentCode"),
                not_in_program_message(&component, student, &title, &seqn),
            )
            .hint(Some(
                "run again with --add-missing-components to add the component to the program for the migration".into(),
            )),
        )?;
        Ok(Proceed::Skip)
    }

    /// After a legacy record was written (inserted or updated): its part of the certification
    /// model. Rows a later run updates keep the run that created them.
    fn write(&mut self, env: &Env<'_, '_>, rec: &Record) -> Result<(), RunError> {
        let (run, t) = (env.run, env.target);
        let text = |f: &str| rec.text(f).unwrap_or_default().to_string();
        match rec.entity.known() {
            Some(Known::LegacyProgram) => {
                let (code, title) = (text("ProgramCode"), text("Title"));
                let desc = record_description(rec, &PROGRAM_EXTRA);
                let m = self.model(env)?;
                let row = vec![
                    run.into(),
                    code.as_str().into(),
                    title.as_str().into(),
                    desc.into(),
                    Cell::Int(0),
                ];
                put(t, m.titles.contains_key(&code), &PROGRAM, row)?;
                m.titles.insert(code, title);
            }
            Some(Known::LegacyComponent) => {
                let (code, title) = (text("ComponentCode"), text("Title"));
                let desc = record_description(rec, &COMPONENT_EXTRA);
                let m = self.model(env)?;
                let row = vec![
                    run.into(),
                    code.as_str().into(),
                    title.into(),
                    desc.into(),
                    Cell::Int(0),
                    Cell::Int(1),
                ];
                put(t, m.components.contains(&code), &COMPONENT, row)?;
                m.components.insert(code);
            }
            Some(Known::LegacyProgramComponent) => {
                let pair = (text("ProgramCode"), text("ComponentCode"));
                let required = matches!(rec.get("Required"), Some(Value::Bool(true))) as i64;
                let m = self.model(env)?;
                let row = vec![
                    run.into(),
                    pair.0.as_str().into(),
                    pair.1.as_str().into(),
                    required.into(),
                    Cell::Int(0),
                ];
                put(t, m.pairs.contains(&pair), &PROGRAM_COMPONENT, row)?;
                m.pairs.insert(pair);
            }
            Some(Known::LegacyRegistration) => {
                let m = self.model(env)?;
                write_registration(m, run, t, rec)?
            }
            _ => {}
        }
        Ok(())
    }

    /// What this run added with `--add-missing-components`.
    pub(crate) fn added(&self) -> Vec<AddedComponent> {
        self.model
            .as_ref()
            .map(|c| c.added.clone())
            .unwrap_or_default()
    }
}

/// How one table of the model is written: a new row through the bulk path (its table and
/// columns), a row that exists by an upsert whose parameters are the same cells in the same
/// order.
struct Put {
    table: &'static str,
    columns: &'static [&'static str],
    upsert: &'static str,
}

/// Writes `row`: queued for the bulk path when its key is new, else the upsert (which writes
/// the queued rows of its table first, so the order of the writes is kept).
fn put(t: &Target, exists: bool, how: &Put, row: Vec<Cell>) -> Result<(), RunError> {
    if exists {
        t.exec(how.upsert, &row)?;
    } else {
        t.append(how.table, how.columns, row)?;
    }
    Ok(())
}

const PROGRAM: Put = Put {
    table: "cert_program",
    columns: &["run_id", "code", "title", "description", "requires_approval"],
    upsert: "INSERT INTO cert_program (run_id, code, title, description, requires_approval) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (code) DO UPDATE SET title = excluded.title, description = excluded.description",
};

const COMPONENT: Put = Put {
    table: "cert_component",
    columns: &["run_id", "code", "title", "description", "requires_approval", "requires_grade"],
    upsert: "INSERT INTO cert_component (run_id, code, title, description, requires_approval, requires_grade) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (code) DO UPDATE SET title = excluded.title, description = excluded.description",
};

/// A pair an earlier run added for a registration is now the program's own.
const PROGRAM_COMPONENT: Put = Put {
    table: "cert_program_component",
    columns: &["run_id", "program_code", "component_code", "required", "added_by_migration"],
    upsert: "INSERT INTO cert_program_component (run_id, program_code, component_code, required, added_by_migration) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (program_code, component_code) DO UPDATE SET required = excluded.required, added_by_migration = 0",
};

const ENROLLMENT: Put = Put {
    table: "cert_enrollment",
    columns: &["run_id", "seqn", "registration_id", "user", "program_code", "component_code", "status", "grade", "registered_date", "completed_date"],
    upsert: "INSERT INTO cert_enrollment (run_id, seqn, registration_id, \"user\", program_code, component_code, status, grade, registered_date, completed_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (seqn) DO UPDATE SET registration_id = excluded.registration_id, \"user\" = excluded.\"user\", program_code = excluded.program_code, component_code = excluded.component_code, status = excluded.status, grade = excluded.grade, registered_date = excluded.registered_date, completed_date = excluded.completed_date",
};

/// The columns of a new registration, with its id: enrollments name it before it is written.
const REGISTRATION: [&str; 7] = [
    "id",
    "run_id",
    "user",
    "program_code",
    "status",
    "registered_date",
    "completed_date",
];

/// Queues a new program registration (its id reserved now, so enrollments can name it) and
/// remembers it; `dates` are (registered, completed).
fn new_registration(
    m: &mut Model,
    run: i64,
    t: &Target,
    key: (String, String),
    status: Cell,
    dates: (Cell, Cell),
) -> Result<i64, RunError> {
    let id = m.new_registration_id(t)?;
    let row = vec![
        id.into(),
        run.into(),
        key.0.as_str().into(),
        key.1.as_str().into(),
        status,
        dates.0,
        dates.1,
    ];
    t.append("cert_registration", &REGISTRATION, row)?;
    m.registrations.insert(key, id);
    Ok(id)
}

/// A legacy registration: a program registration, or a component enrollment (with the program
/// registration it belongs to).
fn write_registration(m: &mut Model, run: i64, t: &Target, rec: &Record) -> Result<(), RunError> {
    let text = |f: &str| rec.text(f).map(str::to_string);
    let date = |f: &str| rec.get(f).map(Value::canonical);
    let key = (
        text("StudentId").unwrap_or_default(),
        text("ProgramCode").unwrap_or_default(),
    );
    let status = text("Status").or_else(|| rec.get("Status").map(Value::canonical));
    let (registered, completed) = (date("RegisteredDate"), date("CompletedDate"));
    let Some(component) = text("ComponentCode") else {
        if m.registrations.contains_key(&key) {
            t.exec(
                "INSERT INTO cert_registration (run_id, \"user\", program_code, status, registered_date, completed_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (\"user\", program_code) DO UPDATE SET status = excluded.status, registered_date = excluded.registered_date, completed_date = excluded.completed_date",
                params![run, key.0.as_str(), key.1.as_str(), status.as_deref(), registered.as_deref(), completed.as_deref()],
            )?;
        } else {
            let dates = (registered.into(), completed.into());
            new_registration(m, run, t, key, status.into(), dates)?;
        }
        return Ok(());
    };
    // The program registration an enrollment belongs to, made if missing (registered, never
    // completed by the migration).
    let reg = match m.registrations.get(&key) {
        Some(id) => *id,
        None => {
            let dates = (registered.clone().into(), Cell::Null);
            new_registration(m, run, t, key.clone(), "Registered".into(), dates)?
        }
    };
    let seqn = match rec.get("Seqn") {
        Some(Value::Int(i)) => *i,
        _ => 0,
    };
    let (user, program) = key;
    let row = vec![
        run.into(),
        seqn.into(),
        reg.into(),
        user.into(),
        program.into(),
        component.into(),
        status.into(),
        text("Grade").into(),
        registered.into(),
        completed.into(),
    ];
    put(t, m.seqns.contains(&seqn), &ENROLLMENT, row)?;
    m.seqns.insert(seqn);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_lines_in_order_without_empty_values() {
        let d = description([
            ("Established", Some("2001-05-04".to_string())),
            ("IndustryCode", None),
            ("UF_1", Some("  ".to_string())),
            ("UF_2", Some("blue".to_string())),
            ("Notes", Some("two words".to_string())),
        ]);
        assert_eq!(
            d.as_deref(),
            Some("Established: 2001-05-04\nUF_2: blue\nNotes: two words")
        );
        assert_eq!(description([("Address", None)]), None);
    }

    #[test]
    fn dates_are_iso() {
        let at = chrono::NaiveDate::from_ymd_opt(1999, 12, 31)
            .unwrap()
            .and_hms_opt(13, 5, 0)
            .unwrap();
        assert_eq!(
            line_value(&Value::Date { at, has_time: true }),
            "1999-12-31"
        );
    }

    #[test]
    fn the_warning_is_seed_002s() {
        assert_eq!(
            not_in_program_message("ABC", "101", "Program A - Initial", "56789"),
            "Registration found for component \"ABC\", student id \"101\" and program \"Program A - Initial\" (SEQN 56789), but the program does not contain this component."
        );
    }
}
