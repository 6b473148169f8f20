//! The options as the journal keeps them (run options key `command_line`), and read back to
//! run them again (`ferry resume`, the console's resume and run-live). The spellings are those
//! of every journal written so far: the input hash of a run is made of them.

use super::ImportOptions;
use crate::RunError;
use ferry_store::Target;

/// The options a recorded run was started with, to run it again (resumed); `None` when there is
/// no such run or it keeps no options.
pub fn recorded_options(target: &Target, run: i64) -> Result<Option<ImportOptions>, RunError> {
    Ok(target.run(run)?.and_then(|r| read(&r.options)))
}

/// The options kept in a run's options JSON, if any (to run them again: `resume` is set).
pub(crate) fn read(run_options: &serde_json::Value) -> Option<ImportOptions> {
    let kept = run_options.get("command_line")?;
    let mut opts: ImportOptions = serde_json::from_value(kept.clone()).ok()?;
    opts.resume = true;
    Some(opts)
}

/// The inputs as the journal names them.
pub(crate) fn input_names(inputs: &[std::path::PathBuf]) -> Vec<String> {
    inputs.iter().map(|p| p.display().to_string()).collect()
}

/// `inputs`: a list of strings.
pub(super) mod inputs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::path::PathBuf;

    pub fn serialize<S: Serializer>(inputs: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
        super::input_names(inputs).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
        Ok(Vec::<String>::deserialize(d)?
            .into_iter()
            .map(PathBuf::from)
            .collect())
    }
}

/// `date_order`: `"dmy"`, `"mdy"` or null (anything but `"dmy"` reads as month first).
pub(super) mod date_order {
    use ferry_validate::DateOrder;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<DateOrder>, s: S) -> Result<S::Ok, S::Error> {
        d.map(|d| if d == DateOrder::Dmy { "dmy" } else { "mdy" })
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateOrder>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(|d| {
            if d == "dmy" {
                DateOrder::Dmy
            } else {
                DateOrder::Mdy
            }
        }))
    }
}

/// `encoding`: the encoding's name or null (a label no longer known reads as none).
pub(super) mod encoding {
    use encoding_rs::Encoding;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        e: &Option<&'static Encoding>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        e.map(Encoding::name).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<&'static Encoding>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.and_then(|e| Encoding::for_label(e.as_bytes())))
    }
}

/// `phone_region`: the region's code (`"US"`; one not known reads as US).
pub(super) mod phone_region {
    use phonenumber::country::Id;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(r: &Id, s: S) -> Result<S::Ok, S::Error> {
        format!("{r:?}").serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        Ok(String::deserialize(d)?.parse().unwrap_or(Id::US))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::OnExisting;
    use ferry_store::journal::RunKind;
    use ferry_validate::DateOrder;
    use std::path::PathBuf;

    /// An import's options as the journal of the previous version wrote them.
    const IMPORT: &str = r#"{"inputs":["club.xlsx","members"],"test_only":true,"max_records":5,"on_existing":"skip","all_or_nothing":false,"create_accounts":null,"date_order":"dmy","fold_case":true,"no_backup":false,"encoding":"windows-1252","phone_region":"GB","max_attachment_bytes":2097152,"chunk_size":500}"#;

    /// A certification migration's, with a mapping.
    const CERTIFICATION: &str = r#"{"inputs":["legacy.xml"],"test_only":false,"max_records":null,"on_existing":"error","all_or_nothing":true,"create_accounts":false,"date_order":null,"fold_case":false,"no_backup":true,"encoding":null,"phone_region":"US","max_attachment_bytes":10,"chunk_size":10000,"kind":"certification","add_missing_components":true,"mapping":"saved:legacy"}"#;

    #[test]
    fn a_run_recorded_by_the_previous_version_reads_back() {
        let o = read(&serde_json::json!({ "command_line": serde_json::from_str::<serde_json::Value>(IMPORT).unwrap() })).unwrap();
        assert_eq!(o.inputs, vec![PathBuf::from("club.xlsx"), "members".into()]);
        assert!(o.test_only && o.fold_case && o.resume && !o.no_backup);
        assert_eq!(o.max_records, Some(5));
        assert_eq!(o.on_existing, OnExisting::Skip);
        assert_eq!(o.create_accounts, None);
        assert_eq!(o.date_order, Some(DateOrder::Dmy));
        assert_eq!(o.encoding, Some(encoding_rs::WINDOWS_1252));
        assert_eq!(o.phone_region, phonenumber::country::Id::GB);
        assert_eq!((o.max_attachment_bytes, o.chunk_size), (2_097_152, 500));
        assert_eq!(o.kind, RunKind::Import);
        assert!(!o.add_missing_components && o.mapping.is_none());
        let c: ImportOptions = serde_json::from_str(CERTIFICATION).unwrap();
        assert_eq!(c.kind, RunKind::Certification);
        assert!(c.add_missing_components && c.all_or_nothing && c.no_backup);
        assert_eq!(c.mapping.as_deref(), Some("saved:legacy"));
        assert_eq!((c.date_order, c.encoding), (None, None));
        assert_eq!(c.create_accounts, Some(false));
    }

    #[test]
    fn the_journal_is_written_exactly_as_before() {
        for text in [IMPORT, CERTIFICATION] {
            let o: ImportOptions = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&o).unwrap(), text);
        }
        let o = ImportOptions {
            date_order: Some(DateOrder::Mdy),
            ..ImportOptions::default()
        };
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"inputs":[],"test_only":false,"max_records":null,"on_existing":"error","all_or_nothing":false,"create_accounts":null,"date_order":"mdy","fold_case":false,"no_backup":false,"encoding":null,"phone_region":"US","max_attachment_bytes":2097152,"chunk_size":10000}"#
        );
    }

    #[test]
    fn options_that_are_not_kept_read_as_none() {
        assert!(read(&serde_json::json!({ "effective": {} })).is_none());
        assert!(read(&serde_json::json!({ "command_line": { "inputs": ["a.xml"] } })).is_none());
    }
}
