//! Run options: the command line's flags merged over the inputs' Options sheets (SPEC §6.5).

use ferry_findings::{Code, Finding, Location};
use ferry_sources::{Limits, RawValue};
use ferry_validate::DateOrder;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExisting {
    #[default]
    Error,
    Skip,
    Update,
}

/// What the user asked for; `None` means "not given on the command line".
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub inputs: Vec<PathBuf>,
    pub test_only: bool,
    pub max_records: Option<u64>,
    pub on_existing: OnExisting,
    pub all_or_nothing: bool,
    pub create_accounts: Option<bool>,
    pub date_order: Option<DateOrder>,
    pub fold_case: bool,
    pub resume: bool,
    /// `ferry resume RUN`: continue exactly this run.
    pub resume_run: Option<i64>,
    pub no_backup: bool,
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub phone_region: phonenumber::country::Id,
    pub max_attachment_bytes: u64,
    /// Records per committed chunk of a live run.
    pub chunk_size: usize,
    pub limits: Limits,
    /// An import, or a legacy certification migration (`ferry certification migrate`).
    pub kind: ferry_store::journal::RunKind,
    /// Certification: add a component a registration names to its program when the program
    /// does not contain it (listed, so that it can be removed afterwards).
    pub add_missing_components: bool,
    /// The fingerprint key file (`--fingerprint-key`, `FERRY_FINGERPRINT_KEY_FILE`); `None`:
    /// the default file of the target's key ([`crate::fingerprint_key`]). Not part of the
    /// recorded command line: a resumed run is given it again.
    pub fingerprint_key: Option<PathBuf>,
    /// `--mapping`: a mapping file, or the name of a mapping kept in the target (SPEC §15).
    pub mapping: Option<String>,
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
}

/// One row of an Options sheet.
#[derive(Debug, Clone)]
pub struct OptionRow {
    pub input: usize,
    pub name: String,
    pub value: RawValue,
    pub location: Location,
}

fn bad(loc: &Location, msg: String) -> String {
    format!("{loc}: {msg}")
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

/// Merges Options rows under the command line. Returns warnings for unknown names, or an
/// error message (exit 2) for a bad value or inputs that disagree.
pub fn merge(cli: &ImportOptions, rows: &[OptionRow]) -> Result<(Effective, Vec<Finding>), String> {
    let mut warnings = Vec::new();
    let mut seen: Vec<(String, String, Location)> = Vec::new();
    for row in rows {
        let known = ferry_catalogue::OPTION_NAMES
            .iter()
            .find(|n| **n == row.name);
        let Some(name) = known else {
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
            continue;
        };
        let value = match &row.value {
            RawValue::Number(n) => ferry_validate::values::number_text(*n),
            RawValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            other => other.display().trim().to_string(),
        };
        let canonical = match *name {
            "CreateAccounts" => match value.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => "true".to_string(),
                "false" | "no" | "0" | "" => "false".to_string(),
                _ => {
                    return Err(bad(
                        &row.location,
                        format!("option CreateAccounts must be TRUE or FALSE, not \"{value}\""),
                    ))
                }
            },
            "DateOrder" => match value.to_ascii_uppercase().as_str() {
                "MDY" | "" => "MDY".to_string(),
                "DMY" => "DMY".to_string(),
                _ => {
                    return Err(bad(
                        &row.location,
                        format!("option DateOrder must be MDY or DMY, not \"{value}\""),
                    ))
                }
            },
            "MaxRecords" => match value.parse::<u64>() {
                Ok(n) => n.to_string(),
                Err(_) => {
                    return Err(bad(
                        &row.location,
                        format!("option MaxRecords must be a whole number ≥ 0, not \"{value}\""),
                    ))
                }
            },
            _ => {
                if value.is_empty() || value.chars().count() > 255 {
                    return Err(bad(
                        &row.location,
                        "option DefaultOwner must name an owner".to_string(),
                    ));
                }
                value.clone()
            }
        };
        let on_command_line = match *name {
            "CreateAccounts" => cli.create_accounts.is_some(),
            "DateOrder" => cli.date_order.is_some(),
            "MaxRecords" => cli.max_records.is_some(),
            _ => false,
        };
        if let Some((_, other, loc)) = seen.iter().find(|(n, _, _)| n == name) {
            if *other != canonical && !on_command_line {
                return Err(format!(
                    "the inputs' Options disagree: {name} is \"{other}\" at {loc} but \"{canonical}\" at {}; make them agree or give the option on the command line",
                    row.location
                ));
            }
            continue;
        }
        seen.push((name.to_string(), canonical, row.location.clone()));
    }
    let get = |n: &str| {
        seen.iter()
            .find(|(k, _, _)| k == n)
            .map(|(_, v, _)| v.clone())
    };
    let date_order = match cli.date_order {
        Some(DateOrder::Dmy) => "DMY",
        Some(DateOrder::Mdy) => "MDY",
        None => {
            if get("DateOrder").as_deref() == Some("DMY") {
                "DMY"
            } else {
                "MDY"
            }
        }
    };
    let eff = Effective {
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
    };
    Ok((eff, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
