//! Value rules of SPEC §3: turns a raw value into a typed, canonical value or a precise problem.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use ferry_catalogue::{Kind, Sign};
use ferry_findings::Code;
use ferry_sources::RawValue;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::str::FromStr;

/// A parsed, canonical value. (`Debug` is written by hand so that a secret never shows, not
/// even in a debug print or a panic message.)
#[derive(Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    /// Money and decimals, exact.
    Decimal(Decimal),
    /// A date, with `has_time` false when no time was given.
    Date {
        at: NaiveDateTime,
        has_time: bool,
    },
    Bool(bool),
    /// A phone as given, with its E.164 form when it parses.
    Phone {
        given: String,
        e164: Option<String>,
    },
    /// A secret, kept only in memory for hashing or fingerprinting; never rendered.
    Secret(String),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(t) => f.debug_tuple("Text").field(t).finish(),
            Value::Int(i) => f.debug_tuple("Int").field(i).finish(),
            Value::Decimal(d) => f.debug_tuple("Decimal").field(d).finish(),
            Value::Date { at, has_time } => f
                .debug_struct("Date")
                .field("at", at)
                .field("has_time", has_time)
                .finish(),
            Value::Bool(b) => f.debug_tuple("Bool").field(b).finish(),
            Value::Phone { given, e164 } => f
                .debug_struct("Phone")
                .field("given", given)
                .field("e164", e164)
                .finish(),
            Value::Secret(_) => f.write_str("Secret(***)"),
        }
    }
}

#[cfg(test)]
#[test]
fn a_secret_never_shows_in_a_debug_print() {
    let v = Value::Secret("hunter2-4111111111111111".into());
    assert_eq!(format!("{v:?}"), "Secret(***)");
    assert!(!format!("{:?}", Some(&v)).contains("hunter2"));
}

impl Value {
    /// The canonical text form (exports, hashing, messages). Secrets render masked.
    pub fn canonical(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Phone { given, .. } => given.clone(),
            other => {
                let mut out = String::new();
                other.write_canonical(&mut out);
                out
            }
        }
    }

    /// Appends the canonical text form to `out` (what `canonical` gives, without a `String` of
    /// its own: hashes and keys are made of it once per record).
    pub fn write_canonical(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Value::Text(s) => out.push_str(s),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Decimal(d) => {
                let _ = write!(out, "{}", d.normalize());
            }
            Value::Date { at, has_time } => write_date(out, at, *has_time),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Phone { given, .. } => out.push_str(given),
            Value::Secret(_) => out.push_str(ferry_findings::PASSWORD_MASK),
        }
    }

    /// The canonical text form, borrowed when the value holds it as it is (text, phones),
    /// else written into `buf` (cleared first).
    pub fn canonical_in<'a>(&'a self, buf: &'a mut String) -> &'a str {
        match self {
            Value::Text(s) => s,
            Value::Phone { given, .. } => given,
            Value::Bool(b) => {
                if *b {
                    "true"
                } else {
                    "false"
                }
            }
            Value::Secret(_) => ferry_findings::PASSWORD_MASK,
            other => {
                buf.clear();
                other.write_canonical(buf);
                buf
            }
        }
    }
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            Value::Phone { given, .. } => Some(given),
            _ => None,
        }
    }
}

/// The exact decimal a raw value reads as, if it is one (for showing amounts the same way
/// whatever cell they came from).
pub fn decimal_of(raw: &RawValue) -> Option<Decimal> {
    match raw {
        RawValue::Number(n) => Decimal::from_str(&number_text(*n)).ok(),
        RawValue::Text(t) => split_decimal(t.trim()).and_then(|_| Decimal::from_str(t.trim()).ok()),
        _ => None,
    }
}

/// A decimal without trailing zeros beyond what it needs (`12.30` → `12.3`, `5.00` → `5`).
pub fn decimal_text(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Money with 2 to 4 fractional digits (`12.3` → `12.30`, `0.12345` never occurs).
pub fn money_text(d: Decimal) -> String {
    let n = d.normalize();
    if n.scale() < 2 {
        let mut r = n;
        r.rescale(2);
        r.to_string()
    } else {
        n.to_string()
    }
}

pub fn date_text(at: &NaiveDateTime, has_time: bool) -> String {
    let mut out = String::with_capacity(19);
    write_date(&mut out, at, has_time);
    out
}

/// Appends `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`. Written by hand: chrono's strftime parsing,
/// and even `format!` with padding, cost more than the rest of a date's handling.
fn write_date(out: &mut String, at: &NaiveDateTime, has_time: bool) {
    use chrono::{Datelike, Timelike};
    let (y, m, d) = (at.year(), at.month(), at.day());
    if !(0..=9999).contains(&y) {
        // Beyond four digits (a workbook's date cell can hold such years): as `{y:04}` writes them.
        use std::fmt::Write;
        let _ = write!(out, "{y:04}-{m:02}-{d:02}");
        if has_time {
            let _ = write!(
                out,
                " {:02}:{:02}:{:02}",
                at.hour(),
                at.minute(),
                at.second()
            );
        }
        return;
    }
    let mut b = [0u8; 19];
    let two = |b: &mut [u8], v: u32| {
        b[0] = b'0' + (v / 10 % 10) as u8;
        b[1] = b'0' + (v % 10) as u8;
    };
    let y = y as u32;
    two(&mut b[0..2], y / 100);
    two(&mut b[2..4], y % 100);
    b[4] = b'-';
    two(&mut b[5..7], m);
    b[7] = b'-';
    two(&mut b[8..10], d);
    let len = if has_time {
        b[10] = b' ';
        two(&mut b[11..13], at.hour());
        b[13] = b':';
        two(&mut b[14..16], at.minute());
        b[16] = b':';
        two(&mut b[17..19], at.second());
        19
    } else {
        10
    };
    // ASCII digits and separators only.
    out.push_str(std::str::from_utf8(&b[..len]).unwrap_or_default());
}

/// The order of day and month in slash dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    #[default]
    Mdy,
    Dmy,
}

/// Context that changes how values read.
#[derive(Debug, Clone)]
pub struct ValueContext {
    pub date_order: DateOrder,
    pub phone_region: phonenumber::country::Id,
}

impl Default for ValueContext {
    fn default() -> Self {
        ValueContext {
            date_order: DateOrder::Mdy,
            phone_region: phonenumber::country::Id::US,
        }
    }
}

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: Code,
    pub message: String,
    pub hint: Option<String>,
}

fn problem(code: Code, message: impl Into<String>) -> Problem {
    Problem {
        code,
        message: message.into(),
        hint: None,
    }
}

impl Problem {
    fn hint(mut self, h: impl Into<String>) -> Problem {
        self.hint = Some(h.into());
        self
    }
}

/// Longest name or key (SPEC §3).
pub const MAX_NAME_CHARS: usize = 255;

/// Parses one raw value of a field of the given kind.
pub fn parse(kind: Kind, raw: &RawValue, ctx: &ValueContext) -> Result<Value, Problem> {
    match raw {
        RawValue::FormulaNoValue => {
            return Err(problem(Code::FormulaNoValue, "The formula cell has no cached value; open and save the workbook in Excel or LibreOffice so it is calculated."))
        }
        RawValue::CellError(e) => return Err(problem(Code::CellError, format!("The cell holds the error value {e}."))),
RawValue::TooLong { bytes, .. } if kind == Kind::Base64 => {
            return Err(problem(Code::AttachmentTooBig, format!("The data is {bytes} characters of base64, more than an attachment within --max-attachment-bytes can take.")))
        }
        RawValue::TooLong { bytes, .. } => return Err(problem(Code::TooLong, format!("The value is {bytes} bytes long, over the reader's limit."))),
        _ => {}
    }
    match kind {
        Kind::Password => match raw {
            RawValue::Text(s) => Ok(Value::Secret(s.clone())),
            other => Ok(Value::Secret(other.display())),
        },
        Kind::SecretNumber => {
            let t = text_of(raw);
            // A number Ferry itself masked (an export): twelve `*` and the last four digits.
            if let Some(last4) = t.trim().strip_prefix("************") {
                if last4.len() == 4 && last4.chars().all(|c| c.is_ascii_digit()) {
                    return Ok(Value::Secret(t.trim().to_string()));
                }
            }
            let digits: String = t.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(problem(
                    Code::IntegerInvalid,
                    "A card or account number holds only digits (spaces and dashes are allowed).",
                ));
            }
            Ok(Value::Secret(digits))
        }
        Kind::Text => text(raw).map(Value::Text),
        Kind::Name => {
            let t = text(raw)?;
            let n = t.chars().count();
            if n > MAX_NAME_CHARS {
                return Err(problem(
                    Code::TooLong,
                    format!("A name is at most {MAX_NAME_CHARS} characters; this one has {n}."),
                ));
            }
            Ok(Value::Text(t))
        }
        Kind::Integer { min, max } => {
            let i = integer(raw)?;
            if min.is_some_and(|m| i < m) || max.is_some_and(|m| i > m) {
                let range = match (min, max) {
                    (Some(a), Some(b)) => format!("{a} to {b}"),
                    (Some(a), None) => format!("at least {a}"),
                    (None, Some(b)) => format!("at most {b}"),
                    _ => unreachable!("a bound failed"),
                };
                return Err(problem(
                    Code::OutOfRange,
                    format!("{i} is out of range: the value must be {range}."),
                ));
            }
            Ok(Value::Int(i))
        }
        Kind::Money(sign) => {
            let d = money(raw).map_err(|p| negative_form(p, raw, sign))?;
            check_sign(d, sign)?;
            Ok(Value::Decimal(d))
        }
        Kind::Decimal(sign) => {
            let d = decimal(raw)?;
            check_sign(d, sign)?;
            Ok(Value::Decimal(d))
        }
        Kind::Date => date(raw, ctx.date_order).map(|(at, has_time)| Value::Date { at, has_time }),
        Kind::Bool => boolean(raw).map(Value::Bool),
        Kind::Enum(values) => {
            let t = text_cow(raw)?;
            match values.iter().find(|v| v.eq_ignore_ascii_case(&t)) {
                Some(v) => Ok(Value::Text((*v).to_string())),
                None => Err(problem(
                    Code::EnumInvalid,
                    format!(
                        "\"{}\" is not one of {}.",
                        ferry_findings::clip(&t),
                        values.join(", ")
                    ),
                )),
            }
        }
        Kind::Email => {
            let t = text(raw)?;
            if is_email(&t) {
                Ok(Value::Text(t))
            } else {
                Err(problem(
                    Code::EmailInvalid,
                    format!(
                        "\"{}\" is not a valid e-mail address.",
                        ferry_findings::clip(&t)
                    ),
                ))
            }
        }
        Kind::Phone => {
            let t = text(raw)?;
            let e164 = phone_e164(&t, ctx.phone_region);
            Ok(Value::Phone { given: t, e164 })
        }
        Kind::CurrencyCode => {
            let t = text(raw)?;
            if t == "USA" {
                return Ok(Value::Text("USD".into()));
            }
            if t.len() == 3 && t.chars().all(|c| c.is_ascii_uppercase()) {
                Ok(Value::Text(t))
            } else {
                let p = problem(
                    Code::CurrencyInvalid,
                    format!(
                        "\"{}\" is not a three-letter currency code such as USD, CAD or EUR.",
                        ferry_findings::clip(&t)
                    ),
                );
                Err(
                    if t.len() == 3 && t.chars().all(|c| c.is_ascii_alphabetic()) {
                        p.hint(ferry_catalogue::did_you_mean(&t.to_ascii_uppercase()))
                    } else {
                        p
                    },
                )
            }
        }
        Kind::Country => {
            let t = text_cow(raw)?;
            country(&t)
                .map(|c| Value::Text(c.to_string()))
                .ok_or_else(|| {
                    problem(
                        Code::CountryInvalid,
                        format!(
                            "\"{}\" is not an ISO 3166 country code or English country name.",
                            ferry_findings::clip(&t)
                        ),
                    )
                })
        }
        Kind::Base64 => {
            let t = text(raw)?;
            if base64_ok(&t) {
                Ok(Value::Text(t))
            } else {
                Err(problem(
                    Code::Base64Invalid,
                    "The data is not valid base64.",
                ))
            }
        }
    }
}

fn text_of(raw: &RawValue) -> String {
    match raw {
        RawValue::Number(n) => number_text(*n),
        other => other.display(),
    }
}

/// Text rules: trimmed; CR LF and CR become LF; other control characters than tab and LF are
/// refused, and so is U+FEFF (a byte-order mark inside a value: invisible, and in a key it would
/// make `\u{feff}M2` differ from `M2` silently).
pub fn text(raw: &RawValue) -> Result<String, Problem> {
    text_cow(raw).map(Cow::into_owned)
}

/// `text`, borrowing a text cell's own string when it needs no change but trimming (most do):
/// what is only looked at (an enum, a number, a date) is then never copied.
fn text_cow(raw: &RawValue) -> Result<Cow<'_, str>, Problem> {
    let s: Cow<'_, str> = match raw {
        RawValue::Text(t) => Cow::Borrowed(t.trim()),
        other => Cow::Owned(text_of(other).trim().to_string()),
    };
    // Every byte of a control character (C0, DEL, C1 as 0xC2 0x80..0x9F) or of U+FEFF (0xEF
    // 0xBB 0xBF) is one of these: a text without them passes both checks below as it is.
    if !s
        .bytes()
        .any(|b| b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xef)
    {
        return Ok(s);
    }
    let s = if s.contains('\r') {
        Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        s
    };
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() && *c != '\t' && *c != '\n')
    {
        return Err(problem(
            Code::ControlChar,
            format!(
                "The text holds the control character U+{:04X}; remove it.",
                c as u32
            ),
        ));
    }
    if s.contains('\u{feff}') {
        return Err(problem(
            Code::ByteOrderMark,
            "The text holds U+FEFF, an invisible byte-order mark (often left where two files were joined into one); remove it.",
        ));
    }
    Ok(s)
}

/// A workbook number as text: rounded to 15 significant digits (Excel's precision), written as
/// the shortest plain decimal (`12.34`, never `12.339999…`).
pub fn number_text(n: f64) -> String {
    if !n.is_finite() {
        return n.to_string();
    }
    let sci = format!("{n:.14e}");
    match Decimal::from_scientific(&sci) {
        Ok(d) => d.normalize().to_string(),
        Err(_) => format!("{n}"),
    }
}

fn integer(raw: &RawValue) -> Result<i64, Problem> {
    let t = text_cow(raw)?;
    let body = t.strip_prefix(['-', '+']).unwrap_or(&t);
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit()) {
        return Err(problem(
            Code::IntegerInvalid,
            format!("\"{}\" is not a whole number.", ferry_findings::clip(&t)),
        ));
    }
    t.parse::<i64>().map_err(|_| {
        problem(
            Code::OutOfRange,
            format!("{} is too large.", ferry_findings::clip(&t)),
        )
    })
}

/// `-?digits(.d{1,4})?`: no currency symbols, no grouping, at most 4 fractional digits.
fn money(raw: &RawValue) -> Result<Decimal, Problem> {
    let t = text_cow(raw)?;
    let (int, frac) = split_decimal(&t).ok_or_else(|| {
        let p = problem(Code::MoneyInvalid, format!("\"{}\" is not an amount: write digits with '.' as the decimal point, no currency symbol or thousands separator.", ferry_findings::clip(&t)));
        match crate::money_hint::money_hint(&t) {
            Some(h) => p.hint(format!("write {h}")),
            None => p,
        }
    })?;
    if frac.len() > 4 {
        return Err(problem(
            Code::MoneyPrecision,
            format!(
                "{t} has {} decimal places; money has at most 4 and Ferry never rounds it.",
                frac.len()
            ),
        ));
    }
    if int.trim_start_matches('-').len() > 15 {
        return Err(problem(
            Code::MoneyInvalid,
            format!("{} is too large an amount.", ferry_findings::clip(&t)),
        ));
    }
    Decimal::from_str(&t)
        .map_err(|_| problem(Code::MoneyInvalid, format!("\"{t}\" is not an amount.")))
}

/// Splits `-?digits(.digits)?` into its integer and fraction parts.
fn split_decimal(t: &str) -> Option<(&str, &str)> {
    let body = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (body.contains('.') && frac.is_empty()) {
        return None;
    }
    Some((&t[..t.len() - body.len() + int.len()], frac))
}

fn decimal(raw: &RawValue) -> Result<Decimal, Problem> {
    let t = text_cow(raw)?;
    let (int, frac) = split_decimal(&t).ok_or_else(|| {
        problem(
            Code::DecimalInvalid,
            format!("\"{}\" is not a decimal number.", ferry_findings::clip(&t)),
        )
    })?;
    if int.len() + frac.len() > 26 {
        return Err(problem(
            Code::DecimalInvalid,
            format!("{} has too many digits.", ferry_findings::clip(&t)),
        ));
    }
    Decimal::from_str(&t).map_err(|_| {
        problem(
            Code::DecimalInvalid,
            format!("\"{t}\" is not a decimal number."),
        )
    })
}

/// An amount written as a negative in a form Ferry does not read (`(12.00)`, `12.00-`), in a
/// field that takes no negative: the error says so, rather than hint at a value it refuses.
fn negative_form(p: Problem, raw: &RawValue, sign: Sign) -> Problem {
    let negative = p.hint.as_deref().and_then(|h| h.strip_prefix("write -"));
    match (negative, sign) {
        (Some(abs), Sign::NonNegative | Sign::Positive) => {
            problem(
                Code::Negative,
                format!(
                "\"{}\" is a negative amount (-{abs}); amounts here are absolute values (≥ 0){}.",
                ferry_findings::clip(&text_of(raw)),
                if sign == Sign::Positive { " and greater than zero" } else { "" }
            ),
            )
        }
        _ => p,
    }
}

fn check_sign(d: Decimal, sign: Sign) -> Result<(), Problem> {
    match sign {
        Sign::Any => Ok(()),
        Sign::NonNegative if d.is_sign_negative() && !d.is_zero() => Err(problem(
            Code::Negative,
            format!(
                "{} is negative; amounts here are absolute values (≥ 0).",
                money_text(d)
            ),
        )),
        Sign::Positive if d <= Decimal::ZERO => Err(problem(
            Code::NotPositive,
            format!("{} must be greater than zero.", money_text(d)),
        )),
        _ => Ok(()),
    }
}

fn boolean(raw: &RawValue) -> Result<bool, Problem> {
    match raw {
        RawValue::Bool(b) => return Ok(*b),
        RawValue::Number(n) if *n == 1.0 => return Ok(true),
        RawValue::Number(n) if *n == 0.0 => return Ok(false),
        _ => {}
    }
    let t = text_cow(raw)?;
    match t.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(problem(
            Code::BoolInvalid,
            format!(
                "\"{}\" is not a boolean: use true/false, yes/no or 1/0.",
                ferry_findings::clip(&t)
            ),
        )),
    }
}

/// Dates of SPEC §3; never rolled over.
fn date(raw: &RawValue, order: DateOrder) -> Result<(NaiveDateTime, bool), Problem> {
    match raw {
        RawValue::DateTime {
            date: (y, m, d),
            time: (h, mi, s),
            whole_day,
        } => {
            let date = NaiveDate::from_ymd_opt(*y, *m, *d).ok_or_else(|| {
                problem(
                    Code::DateInvalid,
                    format!("The date cell holds {y:04}-{m:02}-{d:02}, which does not exist."),
                )
            })?;
            let time = NaiveTime::from_hms_opt(*h, *mi, *s).unwrap_or(NaiveTime::MIN);
            return Ok((date.and_time(time), !whole_day));
        }
        RawValue::Number(n) => {
            return Err(problem(
                Code::DateNumeric,
                format!(
                "The cell holds the number {} without a date format; format the column as a date.",
                number_text(*n)
            ),
            ))
        }
        _ => {}
    }
    let t = text_cow(raw)?;
    parse_date_text(&t, order).ok_or_else(|| {
        problem(
            Code::DateInvalid,
            format!(
                "\"{}\" is not a valid date: use YYYY-MM-DD or {} (impossible dates are not rolled over).",
                ferry_findings::clip(&t),
                if order == DateOrder::Mdy { "M/D/YYYY" } else { "D/M/YYYY" }
            ),
        )
    })
}

/// Parses a text date; `None` when the form is wrong or the date does not exist.
pub fn parse_date_text(t: &str, order: DateOrder) -> Option<(NaiveDateTime, bool)> {
    let t = t.trim();
    let num = |s: &str, min: usize, max: usize| -> Option<u32> {
        if s.len() < min || s.len() > max || !s.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if t.len() >= 10 && t.as_bytes()[4] == b'-' {
        // ISO: YYYY-MM-DD[(T| )HH:MM[:SS]]
        if !t.is_char_boundary(10) {
            return None;
        }
        let (d, rest) = t.split_at(10);
        let mut parts = d.split('-');
        let y = num(parts.next()?, 4, 4)? as i32;
        let m = num(parts.next()?, 2, 2)?;
        let dd = num(parts.next()?, 2, 2)?;
        let date = NaiveDate::from_ymd_opt(y, m, dd)?;
        if rest.is_empty() {
            return Some((date.and_time(NaiveTime::MIN), false));
        }
        let time = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
        let (h, mi, s) = hms(time, &num)?;
        let time = NaiveTime::from_hms_opt(h, mi, s)?;
        return Some((date.and_time(time), true));
    }
    // Slash: M/D/YYYY or D/M/YYYY, optionally " h:mm[:ss] AM/PM" or " H:mm[:ss]".
    let (d, rest) = match t.find(' ') {
        Some(i) => (&t[..i], t[i + 1..].trim()),
        None => (t, ""),
    };
    let mut parts = d.split('/');
    let a = num(parts.next()?, 1, 2)?;
    let b = num(parts.next()?, 1, 2)?;
    let y = num(parts.next()?, 4, 4)? as i32;
    if parts.next().is_some() {
        return None;
    }
    let (m, dd) = if order == DateOrder::Mdy {
        (a, b)
    } else {
        (b, a)
    };
    let date = NaiveDate::from_ymd_opt(y, m, dd)?;
    if rest.is_empty() {
        return Some((date.and_time(NaiveTime::MIN), false));
    }
    let (clock, meridiem) = match rest.rsplit_once(' ') {
        Some((c, ap)) if ap.eq_ignore_ascii_case("AM") || ap.eq_ignore_ascii_case("PM") => {
            (c.trim(), Some(ap.eq_ignore_ascii_case("PM")))
        }
        _ => (rest, None),
    };
    let (h, mi, s) = hms(clock, &num)?;
    let h = match meridiem {
        Some(pm) => {
            if !(1..=12).contains(&h) {
                return None;
            }
            (h % 12) + if pm { 12 } else { 0 }
        }
        None => h,
    };
    let time = NaiveTime::from_hms_opt(h, mi, s)?;
    Some((date.and_time(time), true))
}

fn hms(t: &str, num: &dyn Fn(&str, usize, usize) -> Option<u32>) -> Option<(u32, u32, u32)> {
    let mut p = t.split(':');
    let h = num(p.next()?, 1, 2)?;
    let m = num(p.next()?, 2, 2)?;
    let s = match p.next() {
        Some(s) => num(s, 2, 2)?,
        None => 0,
    };
    if p.next().is_some() {
        return None;
    }
    Some((h, m, s))
}

/// A syntactically valid address: `local@domain` with a dotted domain of valid labels.
pub fn is_email(t: &str) -> bool {
    if t.chars().any(|c| c.is_whitespace()) || t.matches('@').count() != 1 {
        return false;
    }
    if email_address::EmailAddress::from_str(t).is_err() {
        return false;
    }
    let (local, domain) = t.split_once('@').expect("one @");
    if local.is_empty()
        || local.len() > 64
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_alphabetic()) && tld.chars().count() >= 2)
}

pub use crate::phone::phone_e164;

/// ISO 3166 alpha-2 code for a code or an English name (a few common short forms included).
pub fn country(t: &str) -> Option<&'static str> {
    use isocountry::CountryCode;
    if t.len() == 2 {
        return CountryCode::for_alpha2_caseless(t).ok().map(|c| c.alpha2());
    }
    if t.len() == 3 && t.chars().all(|c| c.is_ascii_uppercase()) {
        if let Ok(c) = CountryCode::for_alpha3(t) {
            return Some(c.alpha2());
        }
    }
    let f = ferry_catalogue::fold(t);
    const ALIASES: &[(&str, &str)] = &[
        ("united states", "US"),
        ("usa", "US"),
        ("united states of america", "US"),
        ("america", "US"),
        ("united kingdom", "GB"),
        ("uk", "GB"),
        ("great britain", "GB"),
        ("england", "GB"),
        ("scotland", "GB"),
        ("wales", "GB"),
        ("russia", "RU"),
        ("south korea", "KR"),
        ("north korea", "KP"),
        ("iran", "IR"),
        ("syria", "SY"),
        ("vietnam", "VN"),
        ("bolivia", "BO"),
        ("venezuela", "VE"),
        ("tanzania", "TZ"),
        ("moldova", "MD"),
        ("laos", "LA"),
        ("czech republic", "CZ"),
        ("czechia", "CZ"),
        ("taiwan", "TW"),
        ("netherlands", "NL"),
        ("the netherlands", "NL"),
        ("ivory coast", "CI"),
    ];
    if let Some((_, c)) = ALIASES.iter().find(|(n, _)| *n == f) {
        return Some(c);
    }
    CountryCode::as_array()
        .iter()
        .find(|c| ferry_catalogue::fold(c.name()) == f)
        .map(|c| c.alpha2())
}

fn base64_ok(t: &str) -> bool {
    let s: Vec<u8> = t.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !s.len().is_multiple_of(4) {
        return false;
    }
    let pad = s.iter().rev().take_while(|b| **b == b'=').count();
    pad <= 2
        && s[..s.len() - pad]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> RawValue {
        RawValue::Text(s.into())
    }
    fn ctx() -> ValueContext {
        ValueContext::default()
    }
    fn code(kind: Kind, s: &str) -> Code {
        parse(kind, &t(s), &ctx()).unwrap_err().code
    }

    #[test]
    fn money_is_exact_and_never_rounded() {
        assert_eq!(
            parse(Kind::Money(Sign::Any), &t("12.30"), &ctx())
                .unwrap()
                .canonical(),
            "12.3"
        );
        assert_eq!(
            code(Kind::Money(Sign::Any), "1.23456"),
            Code::MoneyPrecision
        );
        assert_eq!(code(Kind::Money(Sign::Any), "$12"), Code::MoneyInvalid);
        assert_eq!(code(Kind::Money(Sign::Any), "1,234.50"), Code::MoneyInvalid);
        assert_eq!(code(Kind::Money(Sign::NonNegative), "-1"), Code::Negative);
        assert_eq!(code(Kind::Money(Sign::Positive), "0"), Code::NotPositive);
        assert_eq!(code(Kind::Money(Sign::Any), "1."), Code::MoneyInvalid);
        assert_eq!(money_text(Decimal::from_str("12.3").unwrap()), "12.30");
        assert_eq!(money_text(Decimal::from_str("-0.1234").unwrap()), "-0.1234");
        let big = parse(Kind::Money(Sign::Any), &t("12345678901234.89"), &ctx()).unwrap();
        assert_eq!(big.canonical(), "12345678901234.89");
    }

    #[test]
    fn money_hints_are_right_or_absent() {
        let hint = |sign, s: &str| {
            let p = parse(Kind::Money(sign), &t(s), &ctx()).unwrap_err();
            (p.code, p.hint)
        };
        let w = |h: &str| Some(format!("write {h}"));
        assert_eq!(
            hint(Sign::Any, "1.234,50"),
            (Code::MoneyInvalid, w("1234.50"))
        );
        assert_eq!(
            hint(Sign::Any, "1 234,50"),
            (Code::MoneyInvalid, w("1234.50"))
        );
        assert_eq!(
            hint(Sign::Any, "(12.00)"),
            (Code::MoneyInvalid, w("-12.00"))
        );
        assert_eq!(hint(Sign::Any, "12.00-"), (Code::MoneyInvalid, w("-12.00")));
        assert_eq!(hint(Sign::Any, "1,234"), (Code::MoneyInvalid, None));
        // Where negatives are not allowed, the error says so instead of hinting.
        let p = parse(Kind::Money(Sign::NonNegative), &t("(12.00)"), &ctx()).unwrap_err();
        assert_eq!(p.code, Code::Negative);
        assert!(
            p.message.contains("negative amount (-12.00)"),
            "{}",
            p.message
        );
        assert_eq!(p.hint, None);
        assert_eq!(hint(Sign::Positive, "12.00-").0, Code::Negative);
        assert_eq!(
            hint(Sign::NonNegative, "1.234,50"),
            (Code::MoneyInvalid, w("1234.50"))
        );
    }

    #[test]
    fn workbook_numbers_use_fifteen_digits() {
        assert_eq!(number_text(12.34), "12.34");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(12.34), "12.34");
        assert_eq!(number_text(3334445555.0), "3334445555");
        assert_eq!(number_text(-5.0), "-5");
    }

    /// Every kind, fed many short strings of awkward characters, answers without panicking.
    #[test]
    fn no_input_panics() {
        let alphabet: Vec<char> = "0123456789-/: .,TtAaPpMmé€$+eE\u{0}\r\n@x"
            .chars()
            .collect();
        let kinds = [
            Kind::Text,
            Kind::Name,
            Kind::Integer {
                min: Some(1),
                max: Some(28),
            },
            Kind::Money(Sign::NonNegative),
            Kind::Decimal(Sign::Positive),
            Kind::Date,
            Kind::Bool,
            Kind::Email,
            Kind::Phone,
            Kind::CurrencyCode,
            Kind::Country,
            Kind::Base64,
            Kind::SecretNumber,
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..5_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 59) as usize;
            let s: String = (0..len)
                .map(|i| alphabet[((seed >> (i * 3 % 56)) as usize + i) % alphabet.len()])
                .collect();
            for k in kinds {
                let _ = parse(k, &t(&s), &ctx());
            }
            let _ = parse_date_text(&s, DateOrder::Dmy);
        }
    }

    #[test]
    fn dates() {
        let p = |s: &str| parse_date_text(s, DateOrder::Mdy).map(|(d, h)| date_text(&d, h));
        assert_eq!(p("2024-07-14").as_deref(), Some("2024-07-14"));
        assert_eq!(
            p("2024-07-14T13:05").as_deref(),
            Some("2024-07-14 13:05:00")
        );
        assert_eq!(
            p("7/14/2024 12:00:00 AM").as_deref(),
            Some("2024-07-14 00:00:00")
        );
        assert_eq!(
            p("1/5/2024 3:07:09 pm").as_deref(),
            Some("2024-01-05 15:07:09")
        );
        assert_eq!(p("1/5/2024 15:07").as_deref(), Some("2024-01-05 15:07:00"));
        assert_eq!(p("2/30/2007"), None);
        assert_eq!(p("13/1/2007"), None);
        assert_eq!(p("1/5/24"), None);
        assert_eq!(p("1/5/2024 13:00 PM"), None);
        assert_eq!(p("2024-07-14Z"), None);
        assert_eq!(p("2020-01-0é"), None);
        assert_eq!(p("2020-01-é1 10:00"), None);
        assert_eq!(p("é/1/2020"), None);
        let d = parse_date_text("14/7/2024", DateOrder::Dmy).map(|(d, h)| date_text(&d, h));
        assert_eq!(d.as_deref(), Some("2024-07-14"));
        // DMY never affects ISO dates
        let d = parse_date_text("2024-07-01", DateOrder::Dmy).map(|(d, h)| date_text(&d, h));
        assert_eq!(d.as_deref(), Some("2024-07-01"));
        assert_eq!(code(Kind::Date, "2/30/2007"), Code::DateInvalid);
        assert_eq!(
            parse(Kind::Date, &RawValue::Number(45000.0), &ctx())
                .unwrap_err()
                .code,
            Code::DateNumeric
        );
    }

    #[test]
    fn excel_dates() {
        let v = RawValue::DateTime {
            date: (2024, 7, 14),
            time: (0, 0, 0),
            whole_day: true,
        };
        assert_eq!(
            parse(Kind::Date, &v, &ctx()).unwrap().canonical(),
            "2024-07-14"
        );
        let v = RawValue::DateTime {
            date: (1900, 2, 29),
            time: (0, 0, 0),
            whole_day: true,
        };
        assert_eq!(
            parse(Kind::Date, &v, &ctx()).unwrap_err().code,
            Code::DateInvalid
        );
    }

    #[test]
    fn integers_and_ranges() {
        let day = Kind::Integer {
            min: Some(1),
            max: Some(28),
        };
        assert_eq!(code(day, "30"), Code::OutOfRange);
        assert_eq!(code(day, "abc"), Code::IntegerInvalid);
        assert_eq!(
            parse(day, &RawValue::Number(9.0), &ctx()).unwrap(),
            Value::Int(9)
        );
        assert_eq!(code(day, "9.5"), Code::IntegerInvalid);
    }

    #[test]
    fn text_rules() {
        assert_eq!(
            parse(Kind::Text, &t("  a\r\nb  "), &ctx()).unwrap(),
            Value::Text("a\nb".into())
        );
        assert_eq!(code(Kind::Text, "a\u{7}b"), Code::ControlChar);
        assert_eq!(code(Kind::Text, "ab\0cd"), Code::ControlChar);
        assert_eq!(code(Kind::Name, &"x".repeat(256)), Code::TooLong);
        assert!(parse(Kind::Name, &t(&"é".repeat(255)), &ctx()).is_ok());
    }

    #[test]
    fn emails_phones_countries_currencies() {
        assert!(is_email("dennis.boone@yahoo.com"));
        assert!(!is_email("bob@@example.com"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@example.com"));
        assert_eq!(
            phone_e164("(415) 555-2671", phonenumber::country::Id::US).as_deref(),
            Some("+14155552671")
        );
        assert_eq!(
            phone_e164("+1 519 249 0508", phonenumber::country::Id::US).as_deref(),
            Some("+15192490508")
        );
        assert_eq!(phone_e164("555-1234", phonenumber::country::Id::US), None);
        assert_eq!(country("Canada"), Some("CA"));
        assert_eq!(country("us"), Some("US"));
        assert_eq!(country("Atlantis"), None);
        assert_eq!(
            parse(Kind::CurrencyCode, &t("USA"), &ctx()).unwrap(),
            Value::Text("USD".into())
        );
        assert_eq!(code(Kind::CurrencyCode, "EURO"), Code::CurrencyInvalid);
        assert_eq!(
            parse(
                Kind::Enum(&["Fixed", "Price", "Percent"]),
                &t("percent"),
                &ctx()
            )
            .unwrap(),
            Value::Text("Percent".into())
        );
        assert!(parse(Kind::Bool, &t("Yes"), &ctx()).unwrap() == Value::Bool(true));
        assert_eq!(code(Kind::Bool, "maybe"), Code::BoolInvalid);
    }

    /// The text rules as they were written before `text_cow` (one copy, then the checks).
    fn text_before(raw: &RawValue) -> Result<String, Problem> {
        let s = text_of(raw);
        let s = s.trim();
        let s = if s.contains('\r') {
            s.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            s.to_string()
        };
        if let Some(c) = s
            .chars()
            .find(|c| c.is_control() && *c != '\t' && *c != '\n')
        {
            return Err(problem(
                Code::ControlChar,
                format!(
                    "The text holds the control character U+{:04X}; remove it.",
                    c as u32
                ),
            ));
        }
        if s.contains('\u{feff}') {
            return Err(problem(Code::ByteOrderMark, "bom"));
        }
        Ok(s)
    }

    #[test]
    fn text_rules_as_before() {
        let samples = [
            "",
            " ",
            "plain",
            "  padded  ",
            "a\r\nb",
            "a\rb\r",
            "\r\n x \r\n",
            "tab\there",
            "nl\nthere",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}x",
            "c1\u{9f}",
            "é and ü",
            "\u{feff}M2",
            "M2\u{feff}",
            "日本語",
            "\u{ef}\u{bb}",
            "zero\u{0}",
            "a\r\u{1}",
            "\u{a0}nbsp\u{a0}",
            "\u{2028}",
            "x\u{c2}y",
        ];
        for t in samples {
            let raw = RawValue::Text(t.to_string());
            let (a, b) = (text(&raw), text_before(&raw));
            match (a, b) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{t:?}"),
                (Err(a), Err(b)) => assert_eq!(a.code, b.code, "{t:?}"),
                (a, b) => panic!("{t:?}: {a:?} vs {b:?}"),
            }
        }
        for raw in [RawValue::Number(12.5), RawValue::Bool(true)] {
            assert_eq!(text(&raw), text_before(&raw));
        }
    }

    #[test]
    fn canonical_forms_as_format_writes_them() {
        let dates = [
            (0, 1, 1, 0, 0, 0),
            (7, 2, 3, 4, 5, 6),
            (999, 12, 31, 23, 59, 59),
            (2024, 2, 29, 12, 0, 9),
            (9999, 12, 31, 0, 0, 0),
            (-5, 6, 7, 8, 9, 10),
            (10000, 1, 1, 1, 1, 1),
            (262_142, 12, 31, 23, 59, 59),
        ];
        for (y, m, d, h, mi, sec) in dates {
            let at = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, mi, sec)
                .unwrap();
            assert_eq!(date_text(&at, false), format!("{y:04}-{m:02}-{d:02}"));
            assert_eq!(
                date_text(&at, true),
                format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{sec:02}")
            );
        }
        let values = [
            Value::Text("a b".into()),
            Value::Int(-42),
            Value::Int(i64::MIN),
            Value::Decimal(Decimal::from_str("12.300").unwrap()),
            Value::Decimal(Decimal::from_str("-0.0001").unwrap()),
            Value::Decimal(Decimal::from_str("5.00").unwrap()),
            Value::Bool(false),
            Value::Phone {
                given: "555".into(),
                e164: None,
            },
            Value::Secret("s".into()),
        ];
        let mut buf = String::from("left over");
        for v in &values {
            let old = match v {
                Value::Int(i) => i.to_string(),
                Value::Decimal(d) => decimal_text(*d),
                other => other.canonical(),
            };
            assert_eq!(v.canonical(), old);
            assert_eq!(v.canonical_in(&mut buf), old);
            let mut out = String::from(">");
            v.write_canonical(&mut out);
            assert_eq!(out, format!(">{old}"));
        }
    }
}
