//! Replays what the `values` fuzz target of `fuzz/` found: every crash input kept under
//! `tests/fixtures/fuzz/values/` and every input of the corpus `fuzz/corpus/values/` goes, as
//! text, through [`values::parse`] for every kind and through [`values::parse_date_text`] in
//! both orders; its first eight bytes, as a workbook number, through every kind too. The
//! invariant is the fuzzer's own: the parsers answer and never panic.

use ferry_catalogue::{Kind, Sign};
use ferry_sources::RawValue;
use ferry_validate::values::{self, DateOrder, ValueContext};
use std::path::{Path, PathBuf};

/// The kinds the fuzz target tries (every variant of [`Kind`], with a few bounds and signs).
const KINDS: &[Kind] = &[
    Kind::Text,
    Kind::Name,
    Kind::Integer {
        min: None,
        max: None,
    },
    Kind::Integer {
        min: Some(1),
        max: Some(28),
    },
    Kind::Money(Sign::Any),
    Kind::Money(Sign::NonNegative),
    Kind::Money(Sign::Positive),
    Kind::Decimal(Sign::Any),
    Kind::Decimal(Sign::NonNegative),
    Kind::Decimal(Sign::Positive),
    Kind::Date,
    Kind::Bool,
    Kind::Enum(&["Fixed", "Price", "Percent"]),
    Kind::Email,
    Kind::Phone,
    Kind::CurrencyCode,
    Kind::Country,
    Kind::Password,
    Kind::SecretNumber,
    Kind::Base64,
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// What the fuzz target does with one input.
fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ctx = ValueContext::default();
    let dmy = ValueContext {
        date_order: DateOrder::Dmy,
        ..ValueContext::default()
    };
    let raw = RawValue::Text(text.to_string());
    for &kind in KINDS {
        if let Ok(v) = values::parse(kind, &raw, &ctx) {
            let _ = v.canonical();
        }
    }
    let _ = values::parse(Kind::Date, &raw, &dmy);
    let _ = values::parse_date_text(&text, DateOrder::Mdy);
    let _ = values::parse_date_text(&text, DateOrder::Dmy);
    if let Some(b) = data.get(..8) {
        let n = RawValue::Number(f64::from_le_bytes(b.try_into().unwrap()));
        for &kind in KINDS {
            if let Ok(v) = values::parse(kind, &n, &ctx) {
                let _ = v.canonical();
            }
        }
    }
}

#[test]
fn value_crashes_and_corpus() {
    let inputs: Vec<PathBuf> = files(&root().join("tests/fixtures/fuzz/values"))
        .into_iter()
        .chain(files(&root().join("fuzz/corpus/values")))
        .collect();
    assert!(!inputs.is_empty(), "no value fuzz inputs found");
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "a value parser panicked on {input:?}");
    }
}
