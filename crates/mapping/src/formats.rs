//! Column value formats: dates by pattern, numbers with their own decimal and group marks,
//! booleans with their own words; each turns a source value into Ferry's canonical text.

use crate::model::ColumnFormat;
use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use std::str::FromStr;

/// What is wrong with a date pattern, if anything.
pub fn pattern_problem(f: &ColumnFormat) -> Option<String> {
    let p = f.format.as_deref()?;
    if p.eq_ignore_ascii_case("iso") {
        return None;
    }
    if StrftimeItems::new(p).any(|i| matches!(i, Item::Error)) {
        return Some(format!(
            "the date pattern \"{p}\" does not parse (chrono strftime: %d.%m.%Y, %Y-%b-%d, …)"
        ));
    }
    let has = |specs: &[&str]| specs.iter().any(|s| p.contains(s));
    if !has(&["%Y", "%y", "%F", "%D"])
        || !has(&["%m", "%b", "%B", "%F", "%D"])
        || !has(&["%d", "%e", "%F", "%D"])
    {
        return Some(format!(
            "the date pattern \"{p}\" needs a year, a month and a day"
        ));
    }
    if (p.contains("%y") || p.contains("%D")) && f.two_digit_year_pivot.is_none() {
        return Some(format!(
            "the date pattern \"{p}\" has a 2-digit year: say which century with twoDigitYearPivot (e.g. 50: 00–49 are 20yy, 50–99 19yy)"
        ));
    }
    if f.two_digit_year_pivot.is_some_and(|p| p > 100) {
        return Some("twoDigitYearPivot is a 2-digit year (0–100)".into());
    }
    None
}

/// Why a value does not read under its column's format (the message a finding shows).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("\"{value}\" is not a date of the form {pattern} or YYYY-MM-DD (impossible dates are not rolled over)")]
    Date { value: String, pattern: String },
    #[error("\"{value}\" is not a number{marks}")]
    Number { value: String, marks: String },
    #[error("\"{value}\" is neither a true value ({trues}) nor a false value ({falses})")]
    Boolean {
        value: String,
        trues: String,
        falses: String,
    },
}

/// A date under the column's pattern as `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`. The date and
/// time are kept as written: a zone (`Z`, `+02:00`) is dropped, never converted, so a calendar
/// date never shifts; fractional seconds are dropped. Under any pattern, a value the pattern
/// does not read that is ISO `YYYY-MM-DD` (with a time or not, without a zone) is read as
/// such: a workbook's real date cells arrive so, whatever the column's text dates look like.
pub fn date(t: &str, f: &ColumnFormat) -> Result<String, FormatError> {
    let pattern = f.format.as_deref().unwrap_or("iso");
    let parsed = if pattern.eq_ignore_ascii_case("iso") {
        iso(t)
    } else {
        by_pattern(t, pattern, f.two_digit_year_pivot).or_else(|| plain_iso(t))
    };
    parsed.ok_or_else(|| FormatError::Date {
        value: t.to_string(),
        pattern: pattern.to_string(),
    })
}

/// `YYYY-MM-DD`, optionally with a time (`HH:MM`, `HH:MM:SS`, fractions) after a space or `T`;
/// no zone. The year must have four digits, so a `DD-MM-YY` value is never read as one.
fn plain_iso(t: &str) -> Option<String> {
    if !four_digit_year(t) {
        return None;
    }
    if t.len() == 10 {
        return Some(text(
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)?,
            false,
        ));
    }
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|p| NaiveDateTime::parse_from_str(t, p).ok())
    .map(|at| text(at, true))
}

/// Whether `t` starts `YYYY-MM-DD` with digits where digits belong.
fn four_digit_year(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|i| b[*i].is_ascii_digit())
}

fn by_pattern(t: &str, p: &str, pivot: Option<u32>) -> Option<String> {
    let zoned = p.contains("%z") || p.contains("%:z") || p.contains("%#z");
    let timed = zoned
        || ["%H", "%I", "%M", "%S", "%T", "%R"]
            .iter()
            .any(|s| p.contains(s));
    let at = if zoned {
        DateTime::parse_from_str(t, p).ok()?.naive_local()
    } else if timed {
        NaiveDateTime::parse_from_str(t, p).ok()?
    } else {
        NaiveDate::parse_from_str(t, p).ok()?.and_hms_opt(0, 0, 0)?
    };
    let at = match pivot {
        Some(pivot) if p.contains("%y") || p.contains("%D") => with_century(at, pivot)?,
        _ => at,
    };
    Some(text(at, timed))
}

/// chrono reads `%y` with its own pivot (69); this applies the mapping's.
fn with_century(at: NaiveDateTime, pivot: u32) -> Option<NaiveDateTime> {
    let yy = at.year().rem_euclid(100) as u32;
    let year = if yy < pivot { 2000 + yy } else { 1900 + yy } as i32;
    NaiveDate::from_ymd_opt(year, at.month(), at.day())?
        .and_time(at.time())
        .into()
}

fn iso(t: &str) -> Option<String> {
    if !four_digit_year(t) {
        return None;
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Some(text(d.and_hms_opt(0, 0, 0)?, false));
    }
    let zoned = ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"];
    if let Some(at) = DateTime::parse_from_rfc3339(t).ok().or_else(|| {
        zoned
            .iter()
            .find_map(|p| DateTime::parse_from_str(t, p).ok())
    }) {
        return Some(text(at.naive_local(), true));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|p| NaiveDateTime::parse_from_str(t, p).ok())
    .map(|at| text(at, true))
}

/// Ferry's canonical date text (the validator's own writer).
fn text(at: NaiveDateTime, timed: bool) -> String {
    ferry_validate::values::date_text(&at, timed)
}

/// A number under the column's marks as a plain decimal (`1.234,50` → `1234.50`); `(12.00)`
/// and `12.00-` are negative.
pub fn number(t: &str, f: &ColumnFormat) -> Result<String, FormatError> {
    let fail = || FormatError::Number {
        value: t.to_string(),
        marks: marks(f),
    };
    let dec = f
        .decimal_char
        .as_deref()
        .filter(|d| !d.is_empty())
        .unwrap_or(".");
    let group = f.group_char.as_deref().unwrap_or("");
    let mut s = t.trim();
    if f.bare_number == Some(false) {
        s = s
            .trim_matches(|c: char| !(c.is_ascii_digit() || "()-+".contains(c) || dec.contains(c)));
        s = s.trim();
    }
    let (negative, body) = sign(s);
    let mut body = body.trim().to_string();
    if f.bare_number == Some(false) {
        body = body
            .trim_matches(|c: char| !(c.is_ascii_digit() || dec.contains(c)))
            .trim()
            .to_string();
    }
    let (int, frac) = match body.split_once(dec) {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (body.clone(), None),
    };
    let int = ungroup(&int, group).ok_or_else(fail)?;
    if int.is_empty() && frac.is_none() {
        return Err(fail());
    }
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let plain = match frac {
        Some(fr) if digits(&fr) => format!("{}.{fr}", if int.is_empty() { "0" } else { &int }),
        Some(_) => return Err(fail()),
        None if digits(&int) => int,
        None => return Err(fail()),
    };
    if !digits(&plain.replace('.', "")) {
        return Err(fail());
    }
    let d = Decimal::from_str(&plain).map_err(|_| fail())?;
    Ok(if negative && !d.is_zero() {
        (-d).to_string()
    } else {
        d.to_string()
    })
}

/// Strips a sign: leading `-`/`+`, parentheses, a trailing minus.
fn sign(s: &str) -> (bool, &str) {
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        return (true, inner);
    }
    if let Some(r) = s.strip_prefix('-') {
        return (true, r);
    }
    if let Some(r) = s.strip_suffix('-') {
        return (true, r);
    }
    (false, s.strip_prefix('+').unwrap_or(s))
}

/// The integer part without group marks; `None` when groups are not of 3 digits.
fn ungroup(int: &str, group: &str) -> Option<String> {
    let int = int.trim();
    let groups: Vec<&str> = if group.is_empty() {
        vec![int]
    } else if group == " " {
        int.split([' ', '\u{a0}', '\u{202f}']).collect()
    } else {
        int.split(group).collect()
    };
    if groups.len() > 1
        && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
    {
        return None;
    }
    Some(groups.concat())
}

fn marks(f: &ColumnFormat) -> String {
    format!(
        " with decimal mark \"{}\"{}",
        f.decimal_char.as_deref().unwrap_or("."),
        match f.group_char.as_deref() {
            Some(g) if !g.is_empty() => format!(" and group mark \"{g}\""),
            _ => String::new(),
        }
    )
}

/// A boolean under the column's own words, as `true`/`false`; `None` when the column gives
/// no words (the value is passed on as written).
pub fn boolean(t: &str, f: &ColumnFormat) -> Option<Result<String, FormatError>> {
    if f.true_values.is_none() && f.false_values.is_none() {
        return None;
    }
    let is = |list: &Option<Vec<String>>| list.iter().flatten().any(|v| v == t);
    Some(if is(&f.true_values) {
        Ok("true".into())
    } else if is(&f.false_values) {
        Ok("false".into())
    } else {
        let words = |list: &Option<Vec<String>>| {
            list.iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(FormatError::Boolean {
            value: t.to_string(),
            trues: words(&f.true_values),
            falses: words(&f.false_values),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(toml: &str) -> ColumnFormat {
        toml::from_str(toml).unwrap()
    }

    #[test]
    fn dates_by_pattern_never_roll_over() {
        let f = fmt(r#"format = "%d.%m.%Y""#);
        assert_eq!(date("03.01.2019", &f).unwrap(), "2019-01-03");
        assert!(date("31.02.2019", &f).is_err());
        let f = fmt(r#"format = "%Y-%b-%d""#);
        assert_eq!(date("2019-Jan-03", &f).unwrap(), "2019-01-03");
    }

    #[test]
    fn two_digit_years_follow_the_pivot() {
        let f = fmt("format = \"%m/%d/%y\"\ntwoDigitYearPivot = 30");
        assert_eq!(date("1/3/19", &f).unwrap(), "2019-01-03");
        assert_eq!(date("1/3/45", &f).unwrap(), "1945-01-03");
        assert_eq!(date("1/3/75", &f).unwrap(), "1975-01-03");
        assert!(pattern_problem(&fmt("format = \"%m/%d/%y\""))
            .unwrap()
            .contains("century"));
    }

    #[test]
    fn iso_timestamps_keep_their_local_date_and_time() {
        let f = ColumnFormat::default();
        assert_eq!(
            date("2019-01-03T23:30:00.123Z", &f).unwrap(),
            "2019-01-03 23:30:00"
        );
        assert_eq!(
            date("2019-01-03T23:30:00-08:00", &f).unwrap(),
            "2019-01-03 23:30:00"
        );
        assert_eq!(
            date("2019-01-03T01:00:00+14:00", &f).unwrap(),
            "2019-01-03 01:00:00"
        );
        assert_eq!(date("2019-01-03", &f).unwrap(), "2019-01-03");
        let f = fmt(r#"format = "%d/%m/%Y %H:%M %z""#);
        assert_eq!(
            date("03/01/2019 23:30 +0200", &f).unwrap(),
            "2019-01-03 23:30:00"
        );
    }

    #[test]
    fn iso_dates_are_read_under_any_pattern() {
        // A workbook's real date cell arrives as ISO text whatever the column's pattern.
        let f = fmt(r#"format = "%d/%m/%Y""#);
        assert_eq!(date("03/01/2019", &f).unwrap(), "2019-01-03");
        assert_eq!(date("2019-01-03", &f).unwrap(), "2019-01-03");
        assert_eq!(
            date("2019-01-03 10:00:00", &f).unwrap(),
            "2019-01-03 10:00:00"
        );
        assert_eq!(
            date("2019-01-03T10:00:00.250", &f).unwrap(),
            "2019-01-03 10:00:00"
        );
        assert_eq!(date("2019-01-03 10:00", &f).unwrap(), "2019-01-03 10:00:00");
        // Never rolled over, never a 2-digit year, never with a zone (that is format = "iso").
        assert!(date("2019-02-31", &f).is_err());
        assert!(date("19-01-03", &f).is_err());
        assert!(date("2019-01-03T10:00:00Z", &f).is_err());
        assert!(date("2019-1-3", &f).is_err());
        let f = fmt("format = \"%d-%m-%y\"\ntwoDigitYearPivot = 50");
        assert_eq!(date("03-01-19", &f).unwrap(), "2019-01-03");
        assert!(date("31-02-19", &f).is_err(), "not year 31");
        assert!(date("19-01-03", &ColumnFormat::default()).is_err());
    }

    #[test]
    fn bad_patterns_are_named() {
        assert!(pattern_problem(&fmt(r#"format = "%d.%m.%Q""#)).is_some());
        assert!(pattern_problem(&fmt(r#"format = "%d.%m""#)).is_some());
        assert!(pattern_problem(&fmt(r#"format = "%d.%m.%Y""#)).is_none());
    }

    #[test]
    fn numbers_with_their_own_marks() {
        let eu = fmt("decimalChar = \",\"\ngroupChar = \".\"");
        assert_eq!(number("1.234,50", &eu).unwrap(), "1234.50");
        assert_eq!(number("(12,00)", &eu).unwrap(), "-12.00");
        assert_eq!(number("12,00-", &eu).unwrap(), "-12.00");
        assert!(number("1.23,50", &eu).is_err());
        let fr = fmt("decimalChar = \",\"\ngroupChar = \" \"");
        assert_eq!(number("1 234,50", &fr).unwrap(), "1234.50");
        let us = fmt("groupChar = \",\"\nbareNumber = false");
        assert_eq!(number("$1,234.50", &us).unwrap(), "1234.50");
        assert_eq!(number("(USD 12.00)", &us).unwrap(), "-12.00");
        assert_eq!(number("-€3.5", &us).unwrap(), "-3.5");
        let uk = fmt("groupChar = \",\"");
        assert_eq!(number("(12.00)", &uk).unwrap(), "-12.00");
        assert_eq!(number("1,234,567.5", &uk).unwrap(), "1234567.5");
        let plain = ColumnFormat::default();
        assert!(number("1,234.50", &plain).is_err());
        assert!(number("$12", &plain).is_err());
        assert!(number("", &plain).is_err());
    }

    #[test]
    fn booleans_with_their_own_words() {
        let f = fmt("trueValues = [\"J\"]\nfalseValues = [\"N\"]");
        assert_eq!(boolean("J", &f).unwrap().unwrap(), "true");
        assert_eq!(boolean("N", &f).unwrap().unwrap(), "false");
        assert!(boolean("Y", &f).unwrap().is_err());
        assert!(boolean("Y", &ColumnFormat::default()).is_none());
    }
}
