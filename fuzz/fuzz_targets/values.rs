//! The value parsers of SPEC §3: the input, as text, through every `Kind` (and the date parser
//! in both orders); its first eight bytes, as a workbook number, through every `Kind` too.
#![no_main]

use ferry_catalogue::{Kind, Sign};
use ferry_sources::RawValue;
use ferry_validate::values::{self, DateOrder, ValueContext};
use libfuzzer_sys::fuzz_target;

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

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let dmy = ValueContext {
        date_order: DateOrder::Dmy,
        ..ValueContext::default()
    };
    let raw = RawValue::Text(text.to_string());
    for &kind in KINDS {
        if let Ok(v) = values::parse(kind, &raw, &ValueContext::default()) {
            let _ = v.canonical();
        }
    }
    let _ = values::parse(Kind::Date, &raw, &dmy);
    let _ = values::parse_date_text(&text, DateOrder::Mdy);
    let _ = values::parse_date_text(&text, DateOrder::Dmy);
    if let Some(b) = data.get(..8) {
        let n = RawValue::Number(f64::from_le_bytes(b.try_into().expect("eight bytes")));
        for &kind in KINDS {
            if let Ok(v) = values::parse(kind, &n, &ValueContext::default()) {
                let _ = v.canonical();
            }
        }
    }
});
