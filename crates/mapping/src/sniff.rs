//! What a column's values look like: e-mails, phone numbers, the date pattern (and day/month
//! order) that reads every value, the decimal and group marks that read every amount. Each
//! proposal is checked with the mapping's own readers (`formats`), so it reads what it claims.

use crate::formats;
use crate::model::ColumnFormat;

/// The date patterns tried, in order; a pattern and its day/month swap make a pair.
const DATE_PATTERNS: &[&str] = &[
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y-%b-%d",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%y",
];

/// The century rule proposed with a two-digit year: 00–49 are 20yy, 50–99 19yy.
pub const PIVOT: u32 = 50;

/// How a column's dates read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateSniff {
    /// `YYYY-MM-DD` (with a time or not): Ferry reads it as written.
    Native,
    /// ISO 8601 with fractional seconds or a zone: `format = "iso"`.
    Iso,
    /// Every value fits this pattern, and no value fits the one with day and month swapped.
    Pattern(&'static str),
    /// Every value fits both orders (no day above 12): the data cannot tell.
    Ambiguous {
        day_first: &'static str,
        month_first: &'static str,
    },
}

/// The date format that reads every value, if one does (empty values are left out).
pub fn date(values: &[&str]) -> Option<DateSniff> {
    let values: Vec<&str> = present(values).collect();
    if values.is_empty() {
        return None;
    }
    if values
        .iter()
        .all(|v| ferry_validate::values::parse_date_text(v, Default::default()).is_some())
        && values.iter().all(|v| v.as_bytes().get(4) == Some(&b'-'))
    {
        return Some(DateSniff::Native);
    }
    if values.iter().all(|v| reads_date(v, "iso")) {
        return Some(DateSniff::Iso);
    }
    let first = *DATE_PATTERNS
        .iter()
        .find(|p| values.iter().all(|v| reads_date(v, p)))?;
    let swapped = swap_day_month(first);
    let other = DATE_PATTERNS
        .iter()
        .find(|p| **p == swapped && **p != first);
    if let Some(other) = other.filter(|o| values.iter().all(|v| reads_date(v, o))) {
        let (day_first, month_first) = if first.find("%d") < first.find("%m") {
            (first, *other)
        } else {
            (*other, first)
        };
        return Some(DateSniff::Ambiguous {
            day_first,
            month_first,
        });
    }
    Some(DateSniff::Pattern(first))
}

/// Whether a value reads under a pattern, its year written in full for `%Y` (chrono would
/// read `16` as the year 16) and in two digits for `%y`.
fn reads_date(v: &str, pattern: &str) -> bool {
    let four = has_run_of_digits(v, 4);
    if (pattern.contains("%Y") && !four) || (pattern.contains("%y") && four) {
        return false;
    }
    let f = ColumnFormat {
        format: Some(pattern.to_string()),
        two_digit_year_pivot: pattern.contains("%y").then_some(PIVOT),
        ..ColumnFormat::default()
    };
    formats::date(v, &f).is_ok()
}

fn has_run_of_digits(v: &str, n: usize) -> bool {
    let mut run = 0;
    for c in v.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= n {
            return true;
        }
    }
    false
}

/// Whether the pattern with day and month swapped is tried too (so that [`DateSniff::Pattern`]
/// also says the swapped order was ruled out).
pub fn swap_is_tried(p: &str) -> bool {
    let swapped = swap_day_month(p);
    swapped != p && DATE_PATTERNS.contains(&swapped.as_str())
}

fn swap_day_month(p: &str) -> String {
    p.replace("%d", "\u{1}")
        .replace("%m", "%d")
        .replace('\u{1}', "%m")
}

/// The marks of a column of amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberSniff {
    pub decimal: char,
    pub group: Option<char>,
    /// Currency symbols or codes around the numbers (`bareNumber = false`).
    pub symbols: bool,
}

impl NumberSniff {
    /// Whether the column needs a format entry (anything but plain `1234.50`).
    pub fn is_plain(&self) -> bool {
        self.decimal == '.' && self.group.is_none() && !self.symbols
    }

    pub fn format(&self) -> ColumnFormat {
        ColumnFormat {
            decimal_char: (self.decimal != '.').then(|| self.decimal.to_string()),
            group_char: self.group.map(|g| g.to_string()),
            bare_number: self.symbols.then_some(false),
            ..ColumnFormat::default()
        }
    }
}

/// The decimal and group marks that read every value as a number, if some do.
pub fn number(values: &[&str]) -> Option<NumberSniff> {
    let values: Vec<&str> = present(values).collect();
    if values.is_empty() {
        return None;
    }
    let symbols = values.iter().any(|v| has_symbols(v));
    let decimal = decimal_mark(&values).unwrap_or('.');
    let group = group_mark(&values, decimal);
    let first = NumberSniff {
        decimal,
        group,
        symbols,
    };
    let mut tries = vec![first];
    for (d, g) in [
        ('.', Some(',')),
        (',', Some('.')),
        (',', Some(' ')),
        ('.', Some(' ')),
        ('.', None),
        (',', None),
    ] {
        tries.push(NumberSniff {
            decimal: d,
            group: g,
            symbols,
        });
    }
    tries.into_iter().find(|t| {
        values
            .iter()
            .all(|v| formats::number(v, &t.format()).is_ok())
    })
}

/// Characters other than digits, marks, signs and spaces: `£`, `EUR`, `$`.
fn has_symbols(v: &str) -> bool {
    v.chars()
        .any(|c| !(c.is_ascii_digit() || ".,-+() '\u{a0}\u{202f}".contains(c)))
}

/// The decimal mark the values prove: the last mark of a value that has both, or a single
/// mark not followed by exactly three digits. `None` when no value tells, or values disagree.
fn decimal_mark(values: &[&str]) -> Option<char> {
    let mut seen = None;
    for v in values {
        let marks: Vec<(usize, char)> = v
            .char_indices()
            .filter(|(_, c)| *c == '.' || *c == ',')
            .collect();
        let Some(&(at, last)) = marks.last() else {
            continue;
        };
        let digits_after = v[at + 1..].chars().take_while(char::is_ascii_digit).count();
        let told = if marks.iter().any(|(_, c)| *c != last) {
            Some(last)
        } else if marks.len() > 1 {
            Some(if last == '.' { ',' } else { '.' })
        } else if digits_after != 3 {
            Some(last)
        } else {
            None
        };
        match (seen, told) {
            (Some(a), Some(b)) if a != b => return None,
            (None, Some(b)) => seen = Some(b),
            _ => {}
        }
    }
    seen
}

/// The other mark, or a space between digits, when a value uses it.
fn group_mark(values: &[&str], decimal: char) -> Option<char> {
    let other = if decimal == '.' { ',' } else { '.' };
    if values.iter().any(|v| v.contains(other)) {
        return Some(other);
    }
    let spaced = values.iter().any(|v| {
        let t = v.trim();
        let cs: Vec<char> = t.chars().collect();
        cs.windows(3).any(|w| {
            w[0].is_ascii_digit()
                && matches!(w[1], ' ' | '\u{a0}' | '\u{202f}')
                && w[2].is_ascii_digit()
        })
    });
    spaced.then_some(' ')
}

/// The share of non-empty values that are e-mail addresses, and how many values there are.
pub fn emails(values: &[&str]) -> (f64, usize) {
    share(values, ferry_validate::values::is_email)
}

/// The share of non-empty values that look like phone numbers: 7 to 15 digits with the
/// signs numbers are written with, and a `+`, a leading `0` or a separator (a bare run of
/// digits is more often an id or an amount).
pub fn phones(values: &[&str]) -> (f64, usize) {
    share(values, is_phone)
}

pub fn is_phone(v: &str) -> bool {
    let main = v
        .split(['x', 'X', '#'])
        .next()
        .unwrap_or(v)
        .trim()
        .trim_end_matches(|c: char| c.is_alphabetic() || c == '.' || c == ' ');
    let digits = main.chars().filter(char::is_ascii_digit).count();
    let allowed = main
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().\u{a0}/".contains(c));
    let shaped = main.starts_with('+')
        || main.starts_with('0')
        || main.starts_with('(')
        || main.chars().any(|c| " -.()".contains(c));
    allowed && shaped && (7..=15).contains(&digits) && date(&[v]).is_none()
}

fn share(values: &[&str], test: impl Fn(&str) -> bool) -> (f64, usize) {
    let present: Vec<&str> = present(values).collect();
    if present.is_empty() {
        return (0.0, 0);
    }
    let hits = present.iter().filter(|v| test(v)).count();
    (hits as f64 / present.len() as f64, present.len())
}

/// The values that say something: trimmed, without empty cells and missing-value markers.
pub fn present<'a>(values: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty() && !crate::synonyms::MISSING_MARKERS.contains(v))
}

/// Whether every non-empty value is distinct and no row leaves it empty (a key column).
pub fn is_unique(values: &[&str]) -> bool {
    let mut seen = std::collections::HashSet::new();
    values.len() > 1
        && values
            .iter()
            .all(|v| !v.trim().is_empty() && seen.insert(v.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_month_order_is_decided_from_every_value() {
        // One value with a day above 12 proves D/M/Y for the whole column.
        assert_eq!(
            date(&["09/06/2016", "03/01/2017", "28/02/2016", ""]),
            Some(DateSniff::Pattern("%d/%m/%Y"))
        );
        assert_eq!(
            date(&["06/09/2016", "1/3/2017", "02/28/2016"]),
            Some(DateSniff::Pattern("%m/%d/%Y"))
        );
        // No value tells: both orders are named, neither is chosen.
        assert_eq!(
            date(&["09/06/2016", "03/01/2017"]),
            Some(DateSniff::Ambiguous {
                day_first: "%d/%m/%Y",
                month_first: "%m/%d/%Y"
            })
        );
        // Values that contradict each other fit no order.
        assert_eq!(date(&["13/01/2016", "01/13/2016"]), None);
    }

    #[test]
    fn date_patterns_and_iso_timestamps() {
        assert_eq!(
            date(&["03.01.2019", "31.12.2018"]),
            Some(DateSniff::Pattern("%d.%m.%Y"))
        );
        assert_eq!(
            date(&["2019-Jan-03", "2018-Dec-31"]),
            Some(DateSniff::Pattern("%Y-%b-%d"))
        );
        assert_eq!(
            date(&["2019-01-03", "2019-01-04 10:00"]),
            Some(DateSniff::Native)
        );
        assert_eq!(
            date(&["2019-01-03T10:15:30.000Z", "2019-01-03T23:30:00-08:00"]),
            Some(DateSniff::Iso)
        );
        assert_eq!(
            date(&["1/3/19", "12/31/18"]),
            Some(DateSniff::Pattern("%m/%d/%y"))
        );
        assert_eq!(
            date(&["14/06/2016 09:15:00", "01/02/2016 23:00:10"]),
            Some(DateSniff::Pattern("%d/%m/%Y %H:%M:%S"))
        );
        assert_eq!(date(&["hello", "2019"]), None);
        assert_eq!(date(&["", "NULL"]), None);
        // An impossible date is never read by rolling it over.
        assert_eq!(date(&["31/02/2016", "13/01/2016"]), None);
    }

    fn marks(values: &[&str]) -> Option<(char, Option<char>, bool)> {
        number(values).map(|n| (n.decimal, n.group, n.symbols))
    }

    #[test]
    fn decimal_and_group_marks() {
        assert_eq!(
            marks(&["1,234.50", "-12.00", "0.35"]),
            Some(('.', Some(','), false))
        );
        assert_eq!(
            marks(&["1.234,50", "12,00", "(0,35)"]),
            Some((',', Some('.'), false))
        );
        assert_eq!(marks(&["1 234,50", "12,5"]), Some((',', Some(' '), false)));
        assert_eq!(marks(&["12.50", "3"]), Some(('.', None, false)));
        assert!(number(&["12.50", "3"]).unwrap().is_plain());
        assert_eq!(marks(&["12,50", "3,00"]), Some((',', None, false)));
        // 1,234 alone could be either: read as a thousands mark, as English exports write.
        assert_eq!(marks(&["1,234", "2,500"]), Some(('.', Some(','), false)));
        assert_eq!(marks(&["1,234,567.5"]), Some(('.', Some(','), false)));
        assert_eq!(marks(&["abc", "12"]), None);
    }

    #[test]
    fn currency_symbols_make_a_non_bare_number() {
        assert_eq!(
            marks(&["£1,234.50", "£12.00"]),
            Some(('.', Some(','), true))
        );
        assert_eq!(
            marks(&["€1.234,50", "-€3,50"]),
            Some((',', Some('.'), true))
        );
        assert_eq!(marks(&["12.00 EUR", "(USD 3.00)"]), Some(('.', None, true)));
        let f = number(&["£1,234.50"]).unwrap().format();
        assert_eq!(formats::number("£1,234.50", &f).unwrap(), "1234.50");
    }

    #[test]
    fn emails_and_phones() {
        assert_eq!(emails(&["a@b.com", "x@y.co.uk", ""]), (1.0, 2));
        assert_eq!(emails(&["a@b.com", "nope"]).0, 0.5);
        for p in [
            "01632 960123",
            "+44 7700 900123",
            "(504) 621-8927",
            "504-621-8927",
            "07700900123",
        ] {
            assert!(is_phone(p), "{p}");
        }
        for p in [
            "950000000",
            "12.50",
            "70116",
            "2019-01-03",
            "CD451796",
            "GB 123 4567 89 a",
        ] {
            assert!(!is_phone(p), "{p}");
        }
    }

    #[test]
    fn key_columns_are_full_and_unique() {
        assert!(is_unique(&["1", "2", "3"]));
        assert!(!is_unique(&["1", "2", "2"]));
        assert!(!is_unique(&["1", ""]));
        assert!(!is_unique(&["1"]));
    }
}
