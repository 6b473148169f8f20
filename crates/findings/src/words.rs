//! How every output words a count: thousands separators, and the noun singular for one
//! ("1 warning", "7 warnings", never "1 warnings") — the one helper the CLI, the console and
//! the HTML report share.

/// `1,234`: a count with thousands separators.
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 warning`, `1,234 warnings`: the count and its noun, singular for one.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", number(n), noun(n, one, many))
}

/// `one` for a count of one, else `many`.
pub fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular() {
        assert_eq!(count(1, "warning", "warnings"), "1 warning");
        assert_eq!(count(0, "warning", "warnings"), "0 warnings");
        assert_eq!(count(20666, "error", "errors"), "20,666 errors");
        assert_eq!(number(1234567), "1,234,567");
    }
}
