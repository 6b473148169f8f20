//! The hint for an amount Ferry does not read (SPEC §15: a money hint is right or absent):
//! the same amount in Ferry's form, or nothing when the text could mean two amounts.
//!
//! Understood: a currency symbol or three-letter code at either end; a leading or trailing `-`
//! or parentheses for a negative; group marks (`,` `.` space, no-break or thin space, `'`) in
//! groups of three; a decimal `.` or `,`. A single `,` or `.` followed by exactly three digits
//! (`1,234`) is a thousands mark in one country and a decimal mark in another: no hint.

const SYMBOLS: &[char] = &[
    '$', '€', '£', '¥', '₹', '₩', '₽', '₺', '₪', '₫', '₱', '฿', '¤',
];
const SPACES: &[char] = &[' ', '\u{a0}', '\u{202f}', '\u{2009}', '\''];

/// The amount `t` stands for, written as Ferry reads amounts (`-1234.50`), if it is certain.
pub fn money_hint(t: &str) -> Option<String> {
    let mut s = t.trim();
    let mut negative = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        negative = true;
        s = inner.trim();
    }
    s = strip_currency(s);
    let minus = if let Some(x) = s.strip_prefix('-') {
        Some(x.trim_start())
    } else {
        s.strip_suffix('-').map(str::trim_end)
    };
    if let Some(x) = minus {
        if negative {
            return None;
        }
        negative = true;
        s = strip_currency(x);
    }
    let (int, frac) = plain_number(s)?;
    if frac.len() > 4 {
        return None;
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    (out != t).then_some(out)
}

/// `s` without a currency symbol or ISO code (and the space beside it) at either end.
fn strip_currency(s: &str) -> &str {
    let s = s
        .trim_start_matches(SYMBOLS)
        .trim_end_matches(SYMBOLS)
        .trim();
    let code = |c: &str| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase());
    let s = match s.split_once(' ') {
        Some((c, rest)) if code(c) => rest.trim_start(),
        _ => s,
    };
    match s.rsplit_once(' ') {
        Some((rest, c)) if code(c) => rest.trim_end(),
        _ => s,
    }
}

/// The integer digits and fraction digits of a grouped number, if its marks leave no doubt.
fn plain_number(s: &str) -> Option<(String, &str)> {
    if !s.chars().next()?.is_ascii_digit() || !s.chars().last()?.is_ascii_digit() {
        return None;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',' || SPACES.contains(&c))
    {
        return None;
    }
    let (dots, commas) = (s.matches('.').count(), s.matches(',').count());
    let spaced = s.contains(SPACES);
    let decimal = match (dots, commas) {
        (0, 0) => None,
        (_, 0) | (0, _) => {
            let (mark, n) = if dots > 0 { ('.', dots) } else { (',', commas) };
            let after = s.rsplit(mark).next()?.len();
            match n {
                1 if spaced || after != 3 => Some(mark),
                1 => return None,
                _ => None,
            }
        }
        _ => {
            let last = s.rfind(['.', ','])?;
            let mark = s[last..].chars().next()?;
            if s.matches(mark).count() != 1 {
                return None;
            }
            Some(mark)
        }
    };
    let (int, frac) = match decimal {
        Some(m) => s.rsplit_once(m)?,
        None => (s, ""),
    };
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((grouped(int)?, frac))
}

/// The digits of an integer written with one kind of group mark in groups of three.
fn grouped(int: &str) -> Option<String> {
    let marks: Vec<char> = int.chars().filter(|c| !c.is_ascii_digit()).collect();
    let space = |c: &char| SPACES.contains(c);
    if !(marks.iter().all(space) || marks.windows(2).all(|w| w[0] == w[1])) {
        return None;
    }
    let groups: Vec<&str> = int.split(|c: char| !c.is_ascii_digit()).collect();
    let ok = groups.iter().enumerate().all(|(i, g)| {
        if i == 0 {
            (1..=3).contains(&g.len()) || groups.len() == 1
        } else {
            g.len() == 3
        }
    });
    ok.then(|| groups.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_the_same_amount() {
        let h = |s: &str| money_hint(s);
        assert_eq!(h("1.234,50").as_deref(), Some("1234.50"));
        assert_eq!(h("1 234,50").as_deref(), Some("1234.50"));
        assert_eq!(h("1\u{a0}234,50").as_deref(), Some("1234.50"));
        assert_eq!(h("1\u{202f}234,50").as_deref(), Some("1234.50"));
        assert_eq!(h("1\u{2009}234.50").as_deref(), Some("1234.50"));
        assert_eq!(h("1'234.50").as_deref(), Some("1234.50"));
        assert_eq!(h("1,234.50").as_deref(), Some("1234.50"));
        assert_eq!(h("1,234,567").as_deref(), Some("1234567"));
        assert_eq!(h("1.234.567,5").as_deref(), Some("1234567.5"));
        assert_eq!(h("12,50").as_deref(), Some("12.50"));
        assert_eq!(h("(12.00)").as_deref(), Some("-12.00"));
        assert_eq!(h("12.00-").as_deref(), Some("-12.00"));
        assert_eq!(h("($1,234.50)").as_deref(), Some("-1234.50"));
        assert_eq!(h("-€12,00").as_deref(), Some("-12.00"));
        assert_eq!(h("$5").as_deref(), Some("5"));
        assert_eq!(h("EUR 1.234,50").as_deref(), Some("1234.50"));
        assert_eq!(h("1.234,50 €").as_deref(), Some("1234.50"));
    }

    #[test]
    fn no_hint_when_unsure() {
        for s in [
            "1,234",
            "12,345",
            "1,2,3",
            "12,34,567",
            "1.234,567.8",
            "1,23.4",
            "abc",
            "",
            "(-12)",
            "--5",
            "12.3456789",
            "1 2345",
            ",5",
            "5,",
            "1,234.567,8",
            "1.2.3,4",
            "12 EURO",
            "1 234.567,5",
            "1,234 567.5",
        ] {
            assert_eq!(money_hint(s), None, "{s}");
        }
    }
}
