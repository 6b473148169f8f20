//! The E.164 form of a phone number: phonenumber's parser, then its validity check — for numbers
//! of the run's own country code — done here with the same metadata patterns, compiled once.
//!
//! Why by hand: phonenumber matches every pattern through one shared LRU cache behind a mutex,
//! and each lookup hashes the pattern's whole text (SipHash over kilobytes for the US fixed-line
//! pattern), a dozen times per number: that was most of a phone's cost, and the two threads of a
//! run contended on the lock. `valid` below is `phonenumber::is_valid` step by step
//! (`validator::source_for`, then `number_type(..) != Unknown`), on the same `Database`, with the
//! same patterns and builder options (`ignore_whitespace`), so it decides exactly as the crate
//! does; the test `same_as_phonenumber` compares both on many shapes. Numbers of other country
//! codes go through phonenumber itself, which keeps the patterns compiled here (and their
//! memory) to the one country code a run is configured for.

use phonenumber::country::Id;
use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use regex::{Regex, RegexBuilder};
use std::cell::Cell;
use std::sync::{Mutex, OnceLock};

/// The E.164 form of a phone number, when it parses as a valid number in `region`.
pub fn phone_e164(t: &str, region: Id) -> Option<String> {
    // Extensions ("x123", "ext. 12") are not part of the E.164 form.
    let main = t.split(['x', 'X', '#']).next().unwrap_or(t);
    let main = main
        .trim()
        .trim_end_matches(|c: char| c.is_alphabetic() || c == '.' || c == ' ');
    let n = phonenumber::parse(Some(region), main).ok()?;
    let code = n.country().code();
    let ok = match table_for(region) {
        Some(table) if table.code == code => table.valid(&n.national().to_string()),
        _ => n.is_valid(),
    };
    // What `n.format().mode(Mode::E164)` writes for a valid number (its country code has
    // metadata, or it would not be valid).
    ok.then(|| format!("+{code}{}", n.national()))
}

/// One pattern of the metadata, compiled on first use.
struct Pattern {
    source: &'static str,
    /// `Descriptor::possible_length` (empty for `leading_digits`: any length).
    lengths: &'static [u16],
    re: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn of(d: &'static Descriptor) -> Pattern {
        Pattern {
            source: d.national_number().as_str(),
            lengths: d.possible_length(),
            re: OnceLock::new(),
        }
    }

    /// `Descriptor::is_match`: a possible length, and the pattern matches at the start
    /// (phonenumber's `find(v).start() == 0` is an anchored match: the leftmost match starts at
    /// 0 exactly when some match does).
    fn matches(&self, v: &str) -> bool {
        if !self.lengths.is_empty() && !self.lengths.contains(&(v.len() as u16)) {
            return false;
        }
        let re = self.re.get_or_init(|| {
            // `\n` ends a `#` comment the pattern might end with (`x` mode).
            RegexBuilder::new(&format!("^(?:{}\n)", self.source))
                .ignore_whitespace(true)
                .build()
                .ok()
        });
        // (phonenumber panics on a pattern that does not compile; none of its own does.)
        re.as_ref().is_some_and(|re| re.is_match(v))
    }
}

/// A region's patterns: its leading digits, the general pattern, and those of the number types
/// `number_type` tries (a match of any of them makes the type known).
struct Region {
    leading: Option<Pattern>,
    general: Pattern,
    types: Vec<Pattern>,
}

impl Region {
    fn of(meta: &'static Metadata) -> Region {
        let d = meta.descriptors();
        let types = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ];
        Region {
            leading: meta.leading_digits().map(|r| Pattern {
                source: r.as_str(),
                lengths: &[],
                re: OnceLock::new(),
            }),
            general: Pattern::of(d.general()),
            types: types.into_iter().flatten().map(Pattern::of).collect(),
        }
    }

    /// `validator::number_type(meta, v) != Type::Unknown`.
    fn known_type(&self, v: &str) -> bool {
        self.general.matches(v) && self.types.iter().any(|p| p.matches(v))
    }
}

/// The regions of one country code, as `validator::source_for` goes through them.
struct Table {
    code: u16,
    /// Where the number's metadata comes from.
    source: Source,
}

enum Source {
    /// One region (or the non-geographic "001" entry): its metadata decides.
    One(Option<Region>),
    /// Several (NANPA's +1): the first whose leading digits match the number, or, for one
    /// without leading digits, that knows the number's type.
    Many(Vec<Region>),
}

impl Table {
    fn of(code: u16) -> Table {
        let regions = DATABASE.region(&code).unwrap_or_default();
        let source = if regions.len() == 1 {
            let meta = if regions[0] == "001" {
                DATABASE.by_code(&code).and_then(|m| m.into_iter().next())
            } else {
                regions[0]
                    .parse::<Id>()
                    .ok()
                    .and_then(|id| DATABASE.by_id(id.as_ref()))
            };
            Source::One(meta.map(Region::of))
        } else {
            Source::Many(
                regions
                    .iter()
                    .filter_map(|r| DATABASE.by_id(*r))
                    .map(Region::of)
                    .collect(),
            )
        };
        Table { code, source }
    }

    /// `phonenumber::is_valid` of a number with this country code and national number `v`.
    fn valid(&self, v: &str) -> bool {
        match &self.source {
            Source::One(region) => region.as_ref().is_some_and(|r| r.known_type(v)),
            Source::Many(regions) => {
                for r in regions {
                    match &r.leading {
                        Some(leading) if leading.matches(v) => return r.known_type(v),
                        Some(_) => {}
                        // The region found is the one that knows the type: valid.
                        None if r.known_type(v) => return true,
                        None => {}
                    }
                }
                false
            }
        }
    }
}

/// The table of `region`'s country code. Tables are made once per country code and kept for
/// the process (there are a few hundred codes at most; a run uses one).
fn table_for(region: Id) -> Option<&'static Table> {
    thread_local! {
        static LAST: Cell<Option<(Id, &'static Table)>> = const { Cell::new(None) };
    }
    if let Some((id, t)) = LAST.with(Cell::get) {
        if id == region {
            return Some(t);
        }
    }
    let code = DATABASE.by_id(region.as_ref())?.country_code();
    static TABLES: Mutex<Vec<&'static Table>> = Mutex::new(Vec::new());
    let mut tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let t = match tables.iter().find(|t| t.code == code) {
        Some(t) => *t,
        None => {
            let t: &'static Table = Box::leak(Box::new(Table::of(code)));
            tables.push(t);
            t
        }
    };
    LAST.with(|l| l.set(Some((region, t))));
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The E.164 form as phonenumber alone gives it (what Ferry did before `valid`).
    fn reference(t: &str, region: Id) -> Option<String> {
        let main = t.split(['x', 'X', '#']).next().unwrap_or(t);
        let main = main
            .trim()
            .trim_end_matches(|c: char| c.is_alphabetic() || c == '.' || c == ' ');
        let n = phonenumber::parse(Some(region), main).ok()?;
        if !n.is_valid() {
            return None;
        }
        Some(n.format().mode(phonenumber::Mode::E164).to_string())
    }

    fn shapes() -> Vec<String> {
        let mut v: Vec<String> = [
            "(415) 555-2671",
            "+1 519 249 0508",
            "555-1234",
            "(201) 200-0000",
            "989.563.4487",
            "1-800-555-0199",
            "800 555 0199",
            "+1 900 555 0100",
            "+1 (340) 712-3456",
            "+1 876 927 1234",
            "+1 242 357 1234",
            "+1 268 460 1234",
            "+1 441 292 1234",
            "+1 787 722 1234",
            "+1 671 472 1234",
            "+1 684 633 1234",
            "+1 649 946 1234",
            "+1 416 555 0123",
            "+1 204 555 0123",
            "+1 011 555 0123",
            "+1 111 555 0123",
            "212 555 0100 x12",
            "212-555-0100 ext. 7",
            "212-555-0100 #3",
            "tel: 212 555 0100",
            "2125550100",
            "12125550100",
            "+12125550100",
            "001 212 555 0100",
            "011 44 20 7946 0958",
            "+44 20 7946 0958",
            "+44 7912 345678",
            "020 7946 0958",
            "+33 1 42 68 53 00",
            "+49 30 123456",
            "+61 2 9374 4000",
            "+81 3-3224-9999",
            "+800 1234 5678",
            "+979 123456789",
            "+39 02 3661 8300",
            "+7 495 123 4567",
            "+86 10 1234 5678",
            "",
            "abc",
            "+",
            "+1",
            "0",
            "1",
            "12",
            "123456",
            "1234567890123456789",
            "(555) 555-5555",
            "(212) 555-01000",
            "1 (212) 555-0100",
            "  (212)555-0100  ",
            "212.555.0100.",
            "212 555 0100 ext",
            "+1-202-555-0143",
            "202 555 0143 X 99",
            "+1 800 FLOWERS",
            "1-800-FLOWERS",
            "٢١٢٥٥٥٠١٠٠",
            "+1 212 555 0100;ext=5",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A sweep of area codes and exchanges: valid, invalid and Caribbean NANPA numbers.
        for npa in (200..1000).step_by(7) {
            for nxx in [100, 200, 555, 911, 999] {
                v.push(format!("({npa}) {nxx}-{:04}", (npa * 7 + nxx) % 10000));
                v.push(format!("+1 {npa} {nxx} 01{:02}", npa % 100));
            }
        }
        // Pseudo-random digit strings of 6 to 13 digits, some with a `+` or a leading 0 or 1.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..3000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let len = 6 + (x >> 60) as usize % 8;
            let digits = format!("{:013}", (x >> 3) % 10_000_000_000_000)[..len].to_string();
            v.push(match i % 4 {
                0 => digits,
                1 => format!("+{digits}"),
                2 => format!("0{digits}"),
                _ => format!("1 {digits}"),
            });
        }
        v
    }

    #[test]
    fn same_as_phonenumber() {
        let regions = [
            Id::US,
            Id::CA,
            Id::GB,
            Id::DE,
            Id::FR,
            Id::AU,
            Id::JM,
            Id::IT,
        ];
        let mut valid = 0;
        for region in regions {
            for s in shapes() {
                let want = reference(&s, region);
                valid += usize::from(want.is_some());
                assert_eq!(phone_e164(&s, region), want, "{s:?} in {region:?}");
            }
        }
        // The shapes hold valid numbers, not only refusals.
        assert!(valid > 500, "{valid}");
    }

    #[test]
    fn examples() {
        assert_eq!(
            phone_e164("(415) 555-2671", Id::US).as_deref(),
            Some("+14155552671")
        );
        assert_eq!(
            phone_e164("+1 519 249 0508", Id::US).as_deref(),
            Some("+15192490508")
        );
        assert_eq!(phone_e164("555-1234", Id::US), None);
    }
}
