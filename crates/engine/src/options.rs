//! Run options: what the user asked for (from flags, the console's form or the journal), merged
//! over the inputs' Options sheets (SPEC §6.5).

use ferry_findings::{Code, Finding, Location};
use ferry_sources::{Limits, RawValue};
use ferry_validate::DateOrder;
use serde::Serialize;
use std::path::PathBuf;

pub mod recorded;
pub mod text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExisting {
    #[default]
    Error,
    Skip,
    Update,
}

/// What the user asked for; `None` means "not given on the command line".
///
/// The journal keeps it (run options key `command_line`, [`recorded`]) in the spellings of every
/// journal written so far: field order, names and values make the run's input hash. Fields
/// marked "not recorded" are given again to a resumed run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ImportOptions {
    #[serde(with = "recorded::inputs")]
    pub inputs: Vec<PathBuf>,
    pub test_only: bool,
    pub max_records: Option<u64>,
    pub on_existing: OnExisting,
    pub all_or_nothing: bool,
    pub create_accounts: Option<bool>,
    #[serde(default, with = "recorded::date_order")]
    pub date_order: Option<DateOrder>,
    pub fold_case: bool,
    /// Not recorded: set when the options are read back to run again.
    #[serde(skip)]
    pub resume: bool,
    /// `ferry resume RUN`: continue exactly this run. Not recorded.
    #[serde(skip)]
    pub resume_run: Option<i64>,
    pub no_backup: bool,
    #[serde(default, with = "recorded::encoding")]
    pub encoding: Option<&'static encoding_rs::Encoding>,
    #[serde(with = "recorded::phone_region")]
    pub phone_region: phonenumber::country::Id,
    pub max_attachment_bytes: u64,
    /// Records per committed chunk of a live run.
    pub chunk_size: usize,
    /// Not recorded: from the environment of each process.
    #[serde(skip)]
    pub limits: Limits,
    /// An import, or a legacy certification migration (`ferry certification migrate`). Left
    /// out for imports, so that an import's input hash is what it was before run kinds.
    #[serde(
        default,
        skip_serializing_if = "ferry_store::journal::RunKind::is_import"
    )]
    pub kind: ferry_store::journal::RunKind,
    /// Certification: add a component a registration names to its program when the program
    /// does not contain it (listed, so that it can be removed afterwards).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub add_missing_components: bool,
    /// The fingerprint key file (`--fingerprint-key`, `FERRY_FINGERPRINT_KEY_FILE`); `None`:
    /// the default file of the target's key ([`crate::fingerprint_key`]). Not recorded: a
    /// resumed run is given it again.
    #[serde(skip)]
    pub fingerprint_key: Option<PathBuf>,
    /// `--mapping`: a mapping file, or the name of a mapping kept in the target (SPEC §15).
    /// Left out when none, so that the input hash of a run without one is what it was before
    /// mappings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    /// The name findings and messages show for each input, in order (the console: the file
    /// name as uploaded, never the server's path); empty: the paths as given (the CLI). Left
    /// out when empty, so that a CLI run's input hash is what it was before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shown: Vec<String>,
    /// The files of each input that is a folder, by their names as uploaded (the console's CSV
    /// uploads: `User.csv`, `Contact.csv`), empty for a file; recorded so that pages name a
    /// run's inputs by their files after the upload is gone. Left out when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folder_files: Vec<Vec<String>>,
    /// The run this one retries with corrected files (the console's "Retry with a corrected
    /// file"): recorded so that each run's page can link the other. Left out when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<i64>,
    /// The test run this live run runs (the console's "Run live" and "Import the valid rows"):
    /// recorded so that both runs' pages name the other. Left out when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_of: Option<i64>,
    /// Who starts or resumes the run: the console's signed-in staff member's e-mail; `None`:
    /// a command in a terminal. Kept in the journal's `run_event`, not in the options (the same
    /// run resumed by someone else is the same run).
    #[serde(skip)]
    pub actor: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            inputs: vec![],
            test_only: false,
            max_records: None,
            on_existing: OnExisting::Error,
            all_or_nothing: false,
            create_accounts: None,
            date_order: None,
            fold_case: false,
            resume: false,
            resume_run: None,
            no_backup: false,
            encoding: None,
            phone_region: phonenumber::country::Id::US,
            max_attachment_bytes: 2 * 1024 * 1024,
            chunk_size: 10_000,
            limits: Limits::default(),
            kind: Default::default(),
            add_missing_components: false,
            fingerprint_key: None,
            mapping: None,
            shown: vec![],
            folder_files: vec![],
            retry_of: None,
            live_of: None,
            actor: None,
        }
    }
}

/// The options in force for a run, after merging.
#[derive(Debug, Clone, Serialize)]
pub struct Effective {
    pub max_records: u64,
    pub on_existing: OnExisting,
    pub all_or_nothing: bool,
    pub create_accounts: bool,
    pub date_order: &'static str,
    pub default_owner: Option<String>,
    pub fold_case: bool,
    pub encoding: Option<String>,
    pub phone_region: String,
    pub max_attachment_bytes: u64,
    /// Each input's shown name with its real path (the console's uploads), to find the folder
    /// an attachment `Path` is relative to from a record's location. Not recorded.
    #[serde(skip)]
    pub shown_inputs: Vec<(String, PathBuf)>,
    /// The run this one retries (`--retry-of`, the console's retries): ledger rows its family
    /// imported are skipped as already imported. Left out when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<i64>,
}

impl Effective {
    /// The real path of the source file a location names (`file` as findings show it).
    pub fn real_file(&self, file: &str) -> PathBuf {
        for (shown, real) in &self.shown_inputs {
            if file == shown {
                return real.clone();
            }
            if let Some(rest) = file
                .strip_prefix(shown.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                return real.join(rest);
            }
        }
        PathBuf::from(file)
    }
}

/// One row of an Options sheet.
#[derive(Debug, Clone)]
pub struct OptionRow {
    pub input: usize,
    pub name: String,
    pub value: RawValue,
    pub location: Location,
}

/// One problem with the inputs' Options sheets (exit 2: nothing is written).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionProblem {
    /// A value the option cannot take.
    #[error("{location}: {message}")]
    Value { location: Location, message: String },
    /// Two inputs give one option different values and the command line does not settle it.
    #[error("the inputs' Options disagree: {name} is \"{first}\" at {first_at} but \"{second}\" at {second_at}; make them agree or give the option on the command line")]
    Disagree {
        name: String,
        first: String,
        first_at: Location,
        second: String,
        second_at: Location,
    },
}

/// Problems told one per line (the Options sheets', the option texts').
pub(crate) fn one_per_line<T: std::fmt::Display>(
    f: &mut std::fmt::Formatter<'_>,
    problems: &[T],
) -> std::fmt::Result {
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            writeln!(f)?;
        }
        write!(f, "{p}")?;
    }
    Ok(())
}

/// Every problem of the Options sheets, found before failing (one per line).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct OptionProblems(pub Vec<OptionProblem>);

impl std::fmt::Display for OptionProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        one_per_line(f, &self.0)
    }
}

/// The order of slash dates the user gave: `--date-order`, else a non-empty `DateOrder` row of
/// an Options sheet (`merge` checks the rows agree). `None`: each column decides (SPEC §3).
pub fn explicit_date_order(cli: &ImportOptions, rows: &[OptionRow]) -> Option<DateOrder> {
    cli.date_order.or_else(|| {
        rows.iter().filter(|r| r.name == "DateOrder").find_map(|r| {
            match r.value.display().trim().to_ascii_uppercase().as_str() {
                "DMY" => Some(DateOrder::Dmy),
                "MDY" => Some(DateOrder::Mdy),
                _ => None,
            }
        })
    })
}

/// Merges Options rows under the command line. Returns warnings for unknown names, or every
/// bad value and disagreement between inputs (exit 2).
pub fn merge(
    cli: &ImportOptions,
    rows: &[OptionRow],
) -> Result<(Effective, Vec<Finding>), OptionProblems> {
    let mut warnings = Vec::new();
    let mut problems = Vec::new();
    let mut seen: Vec<(&'static str, String, Location)> = Vec::new();
    for row in rows {
        let Some(name) = known_name(row, &mut warnings) else {
            continue;
        };
        let canonical = match canonical_value(name, &row.value) {
            Ok(v) => v,
            Err(message) => {
                problems.push(OptionProblem::Value {
                    location: row.location.clone(),
                    message,
                });
                continue;
            }
        };
        if let Some((_, first, first_at)) = seen.iter().find(|(n, _, _)| *n == name) {
            if *first != canonical && !given_on_command_line(cli, name) {
                problems.push(OptionProblem::Disagree {
                    name: name.to_string(),
                    first: first.clone(),
                    first_at: first_at.clone(),
                    second: canonical,
                    second_at: row.location.clone(),
                });
            }
            continue;
        }
        seen.push((name, canonical, row.location.clone()));
    }
    if !problems.is_empty() {
        return Err(OptionProblems(problems));
    }
    Ok((effective(cli, &seen), warnings))
}

/// The catalogue's name of an Options row, or an `input.unknown_option` warning.
fn known_name(row: &OptionRow, warnings: &mut Vec<Finding>) -> Option<&'static str> {
    let known = ferry_catalogue::OPTION_NAMES
        .iter()
        .find(|n| **n == row.name)
        .copied();
    if known.is_none() {
        let hint = ferry_catalogue::suggest(&row.name, ferry_catalogue::OPTION_NAMES)
            .map(ferry_catalogue::did_you_mean);
        warnings.push(
            Finding::new(
                Code::UnknownOption,
                row.location.clone(),
                format!(
                    "Option \"{}\" is not known; it is ignored.",
                    ferry_findings::clip(&row.name)
                ),
            )
            .value(&row.name)
            .hint(hint),
        );
    }
    known
}

/// An option's value in one spelling (`true`, `DMY`, `5`), or what is wrong with it.
fn canonical_value(name: &str, raw: &RawValue) -> Result<String, String> {
    let value = match raw {
        RawValue::Number(n) => ferry_validate::values::number_text(*n),
        RawValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        other => other.display().trim().to_string(),
    };
    match name {
        "CreateAccounts" => match value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok("true".to_string()),
            "false" | "no" | "0" | "" => Ok("false".to_string()),
            _ => Err(format!(
                "option CreateAccounts must be TRUE or FALSE, not \"{value}\""
            )),
        },
        "DateOrder" => match value.to_ascii_uppercase().as_str() {
            "MDY" | "" => Ok("MDY".to_string()),
            "DMY" => Ok("DMY".to_string()),
            _ => Err(format!(
                "option DateOrder must be MDY or DMY, not \"{value}\""
            )),
        },
        "MaxRecords" => match value.parse::<u64>() {
            Ok(n) => Ok(n.to_string()),
            Err(_) => Err(format!(
                "option MaxRecords must be a whole number ≥ 0, not \"{value}\""
            )),
        },
        _ if value.is_empty() || value.chars().count() > 255 => {
            Err("option DefaultOwner must name an owner".to_string())
        }
        _ => Ok(value),
    }
}

/// Whether the command line gives the option (then the sheets may disagree).
fn given_on_command_line(cli: &ImportOptions, name: &str) -> bool {
    match name {
        "CreateAccounts" => cli.create_accounts.is_some(),
        "DateOrder" => cli.date_order.is_some(),
        "MaxRecords" => cli.max_records.is_some(),
        _ => false,
    }
}

/// The options in force: the command line's, else the sheets' agreed value, else the default.
fn effective(cli: &ImportOptions, seen: &[(&'static str, String, Location)]) -> Effective {
    let get = |n: &str| {
        seen.iter()
            .find(|(k, _, _)| *k == n)
            .map(|(_, v, _)| v.clone())
    };
    let date_order = match cli.date_order {
        Some(DateOrder::Dmy) => "DMY",
        Some(DateOrder::Mdy) => "MDY",
        None if get("DateOrder").as_deref() == Some("DMY") => "DMY",
        None => "MDY",
    };
    Effective {
        max_records: cli
            .max_records
            .unwrap_or_else(|| get("MaxRecords").and_then(|v| v.parse().ok()).unwrap_or(0)),
        on_existing: cli.on_existing,
        all_or_nothing: cli.all_or_nothing,
        create_accounts: cli
            .create_accounts
            .unwrap_or_else(|| get("CreateAccounts").as_deref() == Some("true")),
        date_order,
        default_owner: get("DefaultOwner"),
        fold_case: cli.fold_case,
        encoding: cli.encoding.map(|e| e.name().to_string()),
        phone_region: format!("{:?}", cli.phone_region),
        max_attachment_bytes: cli.max_attachment_bytes,
        shown_inputs: cli
            .shown
            .iter()
            .cloned()
            .zip(cli.inputs.iter().cloned())
            .collect(),
        retry_of: cli.retry_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_name_leads_back_to_its_input() {
        let cli = ImportOptions {
            inputs: vec!["/srv/up/t/book.xlsx".into(), "/srv/up/t/csv".into()],
            shown: vec!["book.xlsx".into(), "csv".into()],
            ..Default::default()
        };
        let eff = effective(&cli, &[]);
        assert_eq!(
            eff.real_file("book.xlsx"),
            PathBuf::from("/srv/up/t/book.xlsx")
        );
        assert_eq!(
            eff.real_file("csv/TicketAttachment.csv"),
            PathBuf::from("/srv/up/t/csv/TicketAttachment.csv")
        );
        // Without shown names (the CLI) a location's file is the path as given.
        let eff = effective(&ImportOptions::default(), &[]);
        assert_eq!(eff.real_file("in/a.xml"), PathBuf::from("in/a.xml"));
    }

    fn row(input: usize, name: &str, value: &str) -> OptionRow {
        OptionRow {
            input,
            name: name.into(),
            value: RawValue::Text(value.into()),
            location: Location {
                file: format!("in{input}.xlsx").into(),
                sheet: Some("Options".into()),
                row: 2,
                column: None,
            },
        }
    }

    #[test]
    fn cli_overrides_even_at_default() {
        let cli = ImportOptions {
            max_records: Some(0),
            create_accounts: Some(false),
            ..Default::default()
        };
        let (e, _) = merge(
            &cli,
            &[row(0, "MaxRecords", "5"), row(0, "CreateAccounts", "TRUE")],
        )
        .unwrap();
        assert_eq!(e.max_records, 0);
        assert!(!e.create_accounts);
        let (e, _) = merge(
            &ImportOptions::default(),
            &[row(0, "MaxRecords", "5"), row(0, "DateOrder", "dmy")],
        )
        .unwrap();
        assert_eq!(e.max_records, 5);
        assert_eq!(e.date_order, "DMY");
    }

    #[test]
    fn the_command_line_settles_a_disagreement() {
        let cli = ImportOptions {
            date_order: Some(DateOrder::Dmy),
            ..Default::default()
        };
        let (e, _) = merge(
            &cli,
            &[row(0, "DateOrder", "DMY"), row(1, "DateOrder", "MDY")],
        )
        .unwrap();
        assert_eq!(e.date_order, "DMY");
    }

    #[test]
    fn disagreement_and_bad_values_refuse() {
        assert!(merge(
            &ImportOptions::default(),
            &[row(0, "DateOrder", "DMY"), row(1, "DateOrder", "MDY")]
        )
        .is_err());
        assert!(merge(&ImportOptions::default(), &[row(0, "MaxRecords", "many")]).is_err());
        let (_, w) = merge(&ImportOptions::default(), &[row(0, "Colour", "red")]).unwrap();
        assert_eq!(w[0].code, Code::UnknownOption);
    }

    #[test]
    fn every_problem_is_told_before_failing() {
        let err = merge(
            &ImportOptions::default(),
            &[
                row(0, "MaxRecords", "many"),
                row(0, "CreateAccounts", "perhaps"),
                row(0, "DateOrder", "DMY"),
                row(1, "DateOrder", "MDY"),
            ],
        )
        .unwrap_err();
        assert_eq!(err.0.len(), 3, "{err}");
        let text = err.to_string();
        assert_eq!(text.lines().count(), 3);
        assert!(text
            .lines()
            .next()
            .unwrap()
            .ends_with("option MaxRecords must be a whole number ≥ 0, not \"many\""));
        assert!(text.contains("the inputs' Options disagree: DateOrder is \"DMY\" at in0.xlsx"));
    }
}
