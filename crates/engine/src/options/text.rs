//! The options' text forms (a flag's or a console form field's value) parsed into typed values,
//! every problem told before failing.

use super::{ImportOptions, OnExisting};
use ferry_validate::DateOrder;
use phonenumber::country::Id;

/// The options as text, as the command line or the console's form gives them; `None`: not
/// given.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionTexts<'a> {
    /// An encoding label (`utf-8`, `latin1`, `utf-16le` …).
    pub encoding: Option<&'a str>,
    /// An ISO 3166 alpha-2 code, in either case.
    pub phone_region: Option<&'a str>,
    /// `mdy` or `dmy`.
    pub date_order: Option<&'a str>,
    /// `error`, `skip` or `update`.
    pub on_existing: Option<&'a str>,
    /// `true` or `false`.
    pub create_accounts: Option<&'a str>,
    /// A whole number of accounts.
    pub max_records: Option<&'a str>,
}

/// The typed values of the texts given.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OptionValues {
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub phone_region: Option<Id>,
    pub date_order: Option<DateOrder>,
    pub on_existing: Option<OnExisting>,
    pub create_accounts: Option<bool>,
    pub max_records: Option<u64>,
}

/// One option text that is not a value of its option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    #[error("unknown encoding \"{0}\" (try utf-8, windows-1252, latin1, utf-16le)")]
    Encoding(String),
    #[error("unknown phone region \"{0}\" (an ISO 3166 alpha-2 code such as US, CA, GB)")]
    PhoneRegion(String),
    #[error("unknown date order \"{0}\" (mdy or dmy)")]
    DateOrder(String),
    #[error("unknown choice \"{0}\" for a record whose key exists (error, skip or update)")]
    OnExisting(String),
    #[error("\"{0}\" is not true or false")]
    CreateAccounts(String),
    #[error("\"{0}\" is not a number of accounts")]
    MaxRecords(String),
}

impl TextProblem {
    /// The problem as a sentence: capitalised, with a full stop (as the console says it).
    pub fn sentence(&self) -> String {
        let text = self.to_string();
        let mut chars = text.chars();
        let first = chars.next().map(|c| c.to_uppercase().to_string());
        format!("{}{}.", first.unwrap_or_default(), chars.as_str())
    }
}

/// Every problem of the option texts given, found before failing (one per line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TextProblems(pub Vec<TextProblem>);

impl std::fmt::Display for TextProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        super::one_per_line(f, &self.0)
    }
}

impl TextProblems {
    /// Each problem as a sentence, one per line (the console's form).
    pub fn sentences(&self) -> String {
        let lines: Vec<String> = self.0.iter().map(TextProblem::sentence).collect();
        lines.join("\n")
    }
}

impl OptionTexts<'_> {
    /// The typed values of the texts given, or every text that is not a value of its option.
    pub fn parse(&self) -> Result<OptionValues, TextProblems> {
        let mut problems = Vec::new();
        let values = OptionValues {
            encoding: given(self.encoding, encoding, &mut problems),
            phone_region: given(self.phone_region, phone_region, &mut problems),
            date_order: given(self.date_order, date_order, &mut problems),
            on_existing: given(self.on_existing, on_existing, &mut problems),
            create_accounts: given(self.create_accounts, create_accounts, &mut problems),
            max_records: given(self.max_records, max_records, &mut problems),
        };
        if problems.is_empty() {
            Ok(values)
        } else {
            Err(TextProblems(problems))
        }
    }

    /// Sets the options these texts give on `opts` (the others stay), or changes nothing and
    /// tells every problem.
    pub fn apply(&self, opts: &mut ImportOptions) -> Result<(), TextProblems> {
        let v = self.parse()?;
        if v.encoding.is_some() {
            opts.encoding = v.encoding;
        }
        if let Some(r) = v.phone_region {
            opts.phone_region = r;
        }
        opts.date_order = v.date_order.or(opts.date_order);
        if let Some(o) = v.on_existing {
            opts.on_existing = o;
        }
        opts.create_accounts = v.create_accounts.or(opts.create_accounts);
        opts.max_records = v.max_records.or(opts.max_records);
        Ok(())
    }
}

/// The value of a text given, or its problem noted.
fn given<T>(
    text: Option<&str>,
    parse: fn(&str) -> Result<T, TextProblem>,
    problems: &mut Vec<TextProblem>,
) -> Option<T> {
    parse(text?).map_err(|p| problems.push(p)).ok()
}

/// An encoding label (`--encoding NAME`).
pub fn encoding(label: &str) -> Result<&'static encoding_rs::Encoding, TextProblem> {
    encoding_rs::Encoding::for_label(label.as_bytes())
        .ok_or_else(|| TextProblem::Encoding(label.to_string()))
}

/// A phone region (`--phone-region CC`), in either case.
pub fn phone_region(cc: &str) -> Result<Id, TextProblem> {
    cc.to_ascii_uppercase()
        .parse()
        .map_err(|_| TextProblem::PhoneRegion(cc.to_string()))
}

fn date_order(text: &str) -> Result<DateOrder, TextProblem> {
    match text {
        "mdy" => Ok(DateOrder::Mdy),
        "dmy" => Ok(DateOrder::Dmy),
        _ => Err(TextProblem::DateOrder(text.to_string())),
    }
}

fn on_existing(text: &str) -> Result<OnExisting, TextProblem> {
    match text {
        "error" => Ok(OnExisting::Error),
        "skip" => Ok(OnExisting::Skip),
        "update" => Ok(OnExisting::Update),
        _ => Err(TextProblem::OnExisting(text.to_string())),
    }
}

fn create_accounts(text: &str) -> Result<bool, TextProblem> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(TextProblem::CreateAccounts(text.to_string())),
    }
}

fn max_records(text: &str) -> Result<u64, TextProblem> {
    text.parse()
        .map_err(|_| TextProblem::MaxRecords(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_text_is_told_one_per_line() {
        let err = OptionTexts {
            encoding: Some("nonsense"),
            phone_region: Some("XX"),
            max_records: Some("many"),
            date_order: Some("dmy"),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown encoding \"nonsense\" (try utf-8, windows-1252, latin1, utf-16le)\n\
             unknown phone region \"XX\" (an ISO 3166 alpha-2 code such as US, CA, GB)\n\
             \"many\" is not a number of accounts"
        );
        assert_eq!(
            err.0[0].sentence(),
            "Unknown encoding \"nonsense\" (try utf-8, windows-1252, latin1, utf-16le)."
        );
    }

    #[test]
    fn good_texts_are_typed_and_applied() {
        let mut o = ImportOptions::default();
        OptionTexts {
            encoding: Some("latin1"),
            phone_region: Some("gb"),
            date_order: Some("dmy"),
            on_existing: Some("update"),
            create_accounts: Some("false"),
            max_records: Some("0"),
        }
        .apply(&mut o)
        .unwrap();
        assert_eq!(o.encoding, Some(encoding_rs::WINDOWS_1252));
        assert_eq!(o.phone_region, Id::GB);
        assert_eq!(o.date_order, Some(DateOrder::Dmy));
        assert_eq!(o.on_existing, OnExisting::Update);
        assert_eq!(o.create_accounts, Some(false));
        assert_eq!(o.max_records, Some(0));
        let before = o.clone();
        assert!(OptionTexts {
            phone_region: Some("US"),
            encoding: Some("nope"),
            ..Default::default()
        }
        .apply(&mut o)
        .is_err());
        assert_eq!(
            o.phone_region, before.phone_region,
            "nothing changes on a problem"
        );
    }
}
