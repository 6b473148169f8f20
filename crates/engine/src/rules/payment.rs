//! Payment methods (SPEC §4.6): exactly one detail per method, Luhn-checked card numbers, ABA
//! routing numbers, and what is kept of a card or account number — the brand, the last four
//! digits and a keyed fingerprint (HMAC-SHA-256 under the target's fingerprint key, which lives
//! outside the target: `crate::fingerprint_key`). The full number is never stored: the generic
//! tables have no column for it, and findings mask it.

use super::{EntityRule, Env};
use crate::fingerprint_key::FingerprintKey;
use crate::log_sink::FindingSink;
use crate::positions::FirstDetails;
use crate::RunError;
use chrono::Datelike;
use ferry_catalogue::{self as cat, Known};
use ferry_findings::Code;
use ferry_store::cells::Cell;
use ferry_validate::{Record, Slot, Value};

/// The detail types of `UserPaymentMethod`: a method has exactly one of them.
const DETAIL_TYPES: [Known; 4] = [
    Known::UserPaymentMethodCash,
    Known::UserPaymentMethodCheck,
    Known::UserPaymentMethodCreditCard,
    Known::UserPaymentMethodACH,
];

/// Whether a raw record carries a card or account number to fingerprint (one that is not
/// masked): the run then needs the target's fingerprint key before it writes anything.
pub(crate) fn needs_fingerprint(e: &cat::Entity, raw: &ferry_sources::RawRecord) -> bool {
    let field = match e.known() {
        Some(Known::UserPaymentMethodCreditCard) => "CardNumber",
        Some(Known::UserPaymentMethodACH) => "AccountNumber",
        _ => return false,
    };
    e.field(field)
        .and_then(|fid| raw.get(fid))
        .map(|f| f.value.display())
        .is_some_and(|v| {
            let v = v.trim();
            !v.is_empty() && masked(v).is_none()
        })
}

/// The payment-method details' rules, with the key numbers are fingerprinted with and the first
/// detail of each method in the inputs.
pub(crate) struct Payments {
    /// The key card and account numbers are fingerprinted with (when the run has any).
    fingerprint_key: Option<FingerprintKey>,
    /// The first detail of each payment method in the inputs (SPEC §4.6).
    first_details: FirstDetails,
}

impl EntityRule for Payments {
    fn may_change(&self) -> bool {
        true
    }

    fn check(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &mut Record,
        log: &mut dyn FindingSink,
        extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        match rec.entity.known() {
            Some(Known::UserPaymentMethodCreditCard) => {
                self.credit_card_rules(env, rec, log, extra)
            }
            Some(Known::UserPaymentMethodACH) => self.ach_rules(env, rec, log, extra),
            // Cash and Check: only the one-detail rule.
            _ => self.detail_conflict(env, rec, log),
        }
    }
}

impl Payments {
    pub(crate) fn new(
        fingerprint_key: Option<FingerprintKey>,
        first_details: FirstDetails,
    ) -> Payments {
        Payments {
            fingerprint_key,
            first_details,
        }
    }

    fn credit_card_rules(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &Record,
        log: &mut dyn FindingSink,
        extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        let mut rejected = self.detail_conflict(env, rec, log)?;
        let Some(Value::Secret(digits)) = rec.get("CardNumber") else {
            return Ok(rejected);
        };
        if let Some(last4) = masked(digits) {
            log.push(&rec.finding(Code::NumberMasked, Some("CardNumber"), "CardNumber is masked: only its last four digits are kept, without brand or fingerprint."))?;
            if !rejected {
                extra.extend([
                    Cell::Text("Unknown".to_string()),
                    Cell::Text(last4.to_string()),
                    Cell::Null,
                ]);
            }
            return Ok(rejected);
        }
        if !(12..=19).contains(&digits.len()) {
            log.push(&rec.finding(
                Code::CardInvalid,
                Some("CardNumber"),
                format!(
                    "CardNumber has {} digits; a card number has 12 to 19.",
                    digits.len()
                ),
            ))?;
            rejected = true;
        } else if !luhn_ok(digits) {
            log.push(&rec.finding(
                Code::CardInvalid,
                Some("CardNumber"),
                "CardNumber fails the Luhn check: a digit is wrong or two are swapped.",
            ))?;
            rejected = true;
        }
        if let (Some(Value::Int(month)), Some(Value::Int(year))) =
            (rec.get("ExpiryMonth"), rec.get("ExpiryYear"))
        {
            let today = chrono::Local::now().date_naive();
            if (*year, *month) < (i64::from(today.year()), i64::from(today.month())) {
                log.push(&rec.finding(
                    Code::CardExpired,
                    Some("ExpiryYear"),
                    format!("The card expired at the end of {month:02}/{year}."),
                ))?;
            }
        }
        if rejected {
            return Ok(true);
        }
        let fingerprint = self.fingerprint(digits)?;
        extra.extend([
            Cell::Text(card_brand(digits).to_string()),
            Cell::Text(last4(digits).to_string()),
            Cell::Text(fingerprint),
        ]);
        Ok(false)
    }

    fn ach_rules(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &Record,
        log: &mut dyn FindingSink,
        extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        let mut rejected = self.detail_conflict(env, rec, log)?;
        if let Some(routing) = rec.text("RoutingNumber") {
            if !aba_ok(routing) {
                log.push(&rec.finding(
                    Code::RoutingInvalid,
                    Some("RoutingNumber"),
                    format!("RoutingNumber \"{}\" is not an ABA routing number: it must be 9 digits whose checksum 3·d1 + 7·d2 + d3 + 3·d4 + 7·d5 + d6 + 3·d7 + 7·d8 + d9 is a multiple of 10.", ferry_findings::clip(routing)),
                ))?;
                rejected = true;
            }
        }
        if rejected {
            return Ok(true);
        }
        if let Some(Value::Secret(digits)) = rec.get("AccountNumber") {
            if let Some(last4) = masked(digits) {
                log.push(&rec.finding(Code::NumberMasked, Some("AccountNumber"), "AccountNumber is masked: only its last four digits are kept, without a fingerprint."))?;
                extra.extend([Cell::Text(last4.to_string()), Cell::Null]);
                return Ok(false);
            }
            let fingerprint = self.fingerprint(digits)?;
            extra.extend([
                Cell::Text(last4(digits).to_string()),
                Cell::Text(fingerprint),
            ]);
        }
        Ok(false)
    }

    /// A second detail of a different type for the same `Ref` (one of the same type is already
    /// `key.duplicate`). Within the run the first detail in source order takes the method and a
    /// later one is the error, naming it (the types are processed one after the other, so the
    /// later one may be processed first). A detail stored by an earlier run takes the method;
    /// one that was rejected does not.
    fn detail_conflict(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &Record,
        log: &mut dyn FindingSink,
    ) -> Result<bool, RunError> {
        let Some(method) = rec.joined(&["Ref"]) else {
            return Ok(false);
        };
        if let Some((first, at)) = self.first_details.first(&method) {
            let first = cat::by_id(*first);
            if first.id() != rec.entity.id() {
                let kind = first.name.trim_start_matches("UserPaymentMethod");
                let mut at = at.clone();
                at.column = None;
                log.push(&rec.finding(
                    Code::MethodConflict,
                    Some("Ref"),
                    format!("Payment method \"{method}\" already has a {kind} detail earlier in this run (at {at}); a payment method has exactly one of Cash, Check, CreditCard or ACH."),
                ))?;
                return Ok(true);
            }
        }
        for other in DETAIL_TYPES {
            if rec.entity.is(other) {
                continue;
            }
            let e = other.entity();
            let where_ = match env.indexes.index(e, &["Ref"])?.get(&method) {
                Some(Slot::Run { location, .. }) => format!("earlier in this run (at {location})"),
                Some(Slot::Target { .. }) => "in the target".to_string(),
                Some(Slot::Rejected { .. }) | None => continue,
            };
            let kind = other.name().trim_start_matches("UserPaymentMethod");
            log.push(&rec.finding(
                Code::MethodConflict,
                Some("Ref"),
                format!("Payment method \"{method}\" already has a {kind} detail {where_}; a payment method has exactly one of Cash, Check, CreditCard or ACH."),
            ))?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The hex HMAC-SHA-256 of a card or account number under the target's fingerprint key
    /// (found before the run wrote anything, because the reader saw a number to fingerprint).
    fn fingerprint(&self, digits: &str) -> Result<String, RunError> {
        match &self.fingerprint_key {
            Some(k) => Ok(k.fingerprint(digits)),
            None => Err(RunError::Options(
                "internal: a number to fingerprint was not seen when the inputs were read".into(),
            )),
        }
    }
}

/// The Luhn check of a string of ASCII digits.
pub(crate) fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// The card brand from the issuer identification number (the leading digits).
/// The last four digits of a number Ferry masked (`************1234`), if it is one.
fn masked(number: &str) -> Option<&str> {
    number
        .strip_prefix("************")
        .filter(|l| l.len() == 4 && l.chars().all(|c| c.is_ascii_digit()))
}

pub(crate) fn card_brand(digits: &str) -> &'static str {
    let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
    if matches!(prefix(2), Some(34 | 37)) {
        "Amex"
    } else if digits.starts_with('4') {
        "Visa"
    } else if matches!(prefix(2), Some(51..=55)) || matches!(prefix(4), Some(2221..=2720)) {
        "Mastercard"
    } else if prefix(4) == Some(6011)
        || prefix(2) == Some(65)
        || matches!(prefix(3), Some(644..=649))
    {
        "Discover"
    } else {
        "Unknown"
    }
}

/// An ABA routing number: 9 digits, 3·d1 + 7·d2 + d3 + 3·d4 + 7·d5 + d6 + 3·d7 + 7·d8 + d9 ≡ 0 (mod 10).
pub(crate) fn aba_ok(routing: &str) -> bool {
    let b = routing.as_bytes();
    if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b
        .iter()
        .zip([3u32, 7, 1, 3, 7, 1, 3, 7, 1])
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    sum.is_multiple_of(10)
}

fn last4(digits: &str) -> &str {
    &digits[digits.len().saturating_sub(4)..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert!(luhn_ok("4111111111111111"));
        assert!(luhn_ok("378282246310005"));
        assert!(luhn_ok("6011111111111117"));
        assert!(!luhn_ok("4111111111111112"));
        assert!(!luhn_ok(""));
    }

    #[test]
    fn brands() {
        assert_eq!(card_brand("4111111111111111"), "Visa");
        assert_eq!(card_brand("5555555555554444"), "Mastercard");
        assert_eq!(card_brand("2221000000000009"), "Mastercard");
        assert_eq!(card_brand("2720990000000007"), "Mastercard");
        assert_eq!(card_brand("2721000000000000"), "Unknown");
        assert_eq!(card_brand("378282246310005"), "Amex");
        assert_eq!(card_brand("341111111111111"), "Amex");
        assert_eq!(card_brand("6011111111111117"), "Discover");
        assert_eq!(card_brand("6500000000000002"), "Discover");
        assert_eq!(card_brand("6445644564456445"), "Discover");
        assert_eq!(card_brand("6430000000000000"), "Unknown");
        assert_eq!(card_brand("3530111333300000"), "Unknown");
    }

    #[test]
    fn aba() {
        assert!(aba_ok("011000015"));
        assert!(aba_ok("121000358"));
        assert!(!aba_ok("011000016"));
        assert!(!aba_ok("01100001"));
        assert!(!aba_ok("01100001x"));
    }
}
