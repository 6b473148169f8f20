//! The command line of a run as the journal keeps it (what `ferry resume` runs again).

use crate::options::{ImportOptions, OnExisting};
use crate::RunError;
use ferry_store::journal::RunKind;
use ferry_store::Target;
use ferry_validate::DateOrder;
use serde::Serialize;
use std::path::PathBuf;

/// The command-line options of a run, as stored in the journal (what `ferry resume` reruns).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CommandLine {
    pub inputs: Vec<String>,
    pub test_only: bool,
    pub max_records: Option<u64>,
    pub on_existing: OnExisting,
    pub all_or_nothing: bool,
    pub create_accounts: Option<bool>,
    pub date_order: Option<String>,
    pub fold_case: bool,
    pub no_backup: bool,
    pub encoding: Option<String>,
    pub phone_region: String,
    pub max_attachment_bytes: u64,
    pub chunk_size: usize,
    /// Left out for imports, so that an import's input hash is what it was before run kinds.
    #[serde(default, skip_serializing_if = "RunKind::is_import")]
    pub kind: RunKind,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub add_missing_components: bool,
    /// `--mapping` as given (a file or a saved mapping's name); left out when none, so that
    /// the input hash of a run without one is what it was before mappings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
}

impl CommandLine {
    pub fn of(opts: &ImportOptions) -> CommandLine {
        CommandLine {
            inputs: opts
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            test_only: opts.test_only,
            max_records: opts.max_records,
            on_existing: opts.on_existing,
            all_or_nothing: opts.all_or_nothing,
            create_accounts: opts.create_accounts,
            date_order: opts.date_order.map(|d| {
                if d == DateOrder::Dmy {
                    "dmy".into()
                } else {
                    "mdy".into()
                }
            }),
            fold_case: opts.fold_case,
            no_backup: opts.no_backup,
            encoding: opts.encoding.map(|e| e.name().to_string()),
            phone_region: format!("{:?}", opts.phone_region),
            max_attachment_bytes: opts.max_attachment_bytes,
            chunk_size: opts.chunk_size,
            kind: opts.kind,
            add_missing_components: opts.add_missing_components,
            mapping: opts.mapping.clone(),
        }
    }

    /// The options to run these inputs again (`ferry resume`).
    pub fn options(&self) -> ImportOptions {
        ImportOptions {
            inputs: self.inputs.iter().map(PathBuf::from).collect(),
            test_only: self.test_only,
            max_records: self.max_records,
            on_existing: self.on_existing,
            all_or_nothing: self.all_or_nothing,
            create_accounts: self.create_accounts,
            date_order: self.date_order.as_deref().map(|d| {
                if d == "dmy" {
                    DateOrder::Dmy
                } else {
                    DateOrder::Mdy
                }
            }),
            fold_case: self.fold_case,
            resume: true,
            no_backup: self.no_backup,
            encoding: self
                .encoding
                .as_deref()
                .and_then(|e| encoding_rs::Encoding::for_label(e.as_bytes())),
            phone_region: self
                .phone_region
                .parse()
                .unwrap_or(phonenumber::country::Id::US),
            max_attachment_bytes: self.max_attachment_bytes,
            chunk_size: self.chunk_size,
            kind: self.kind,
            add_missing_components: self.add_missing_components,
            mapping: self.mapping.clone(),
            ..ImportOptions::default()
        }
    }
}

/// The command line a run was started with, from the journal.
pub fn command_line(target: &Target, run: i64) -> Result<Option<CommandLine>, RunError> {
    Ok(target
        .run(run)?
        .and_then(|r| serde_json::from_value(r.options.get("command_line")?.clone()).ok()))
}
