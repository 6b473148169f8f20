//! A run's findings summed up for a person, read before the list: counts per code in reading
//! order (errors, warnings, notes; root causes before the knock-on `reference.rejected_parent`
//! findings), and per entity type the records rejected for their own errors against those
//! rejected only because a record they refer to was rejected.

use ferry_findings::{Code, Severity};
use ferry_store::{params, StoreError, Target};

/// The findings of one code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCount {
    pub severity: Severity,
    pub code: String,
    pub count: i64,
    /// Findings of records rejected because a record they refer to was rejected.
    pub knock_on: bool,
    /// What the code means.
    pub doc: &'static str,
}

/// The rejected records of one entity type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub entity: String,
    /// Rejected for their own errors.
    pub own: i64,
    /// Rejected only because a record they refer to was rejected.
    pub dependent: i64,
}

/// A run's findings summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingsSummary {
    /// Every code among the run's findings, in reading order.
    pub codes: Vec<CodeCount>,
    /// Entity types with rejected records, in the run's order of entity types.
    pub rejected: Vec<Rejected>,
}

impl FindingsSummary {
    /// Records rejected for their own errors, in every entity type.
    pub fn own(&self) -> i64 {
        self.rejected.iter().map(|r| r.own).sum()
    }

    /// Records rejected because a record they refer to was rejected.
    pub fn dependent(&self) -> i64 {
        self.rejected.iter().map(|r| r.dependent).sum()
    }

    /// The first line a person reads: "2,294 User records rejected (+18,372 dependent
    /// records)"; empty when nothing was rejected.
    pub fn headline(&self) -> String {
        let own: Vec<&Rejected> = self.rejected.iter().filter(|r| r.own > 0).collect();
        let what = match own.as_slice() {
            [] if self.dependent() == 0 => return String::new(),
            [] => "0 records rejected for their own errors".to_string(),
            [one] => format!(
                "{} {} {} rejected",
                group(one.own),
                one.entity,
                records(one.own)
            ),
            many => format!(
                "{} records rejected ({})",
                group(self.own()),
                many.iter()
                    .map(|r| format!("{} {}", r.entity, group(r.own)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        match self.dependent() {
            0 => what,
            d => format!("{what} (+{} dependent {})", group(d), records(d)),
        }
    }
}

fn records(n: i64) -> &'static str {
    if n == 1 {
        "record"
    } else {
        "records"
    }
}

/// 1234567 → `1,234,567`.
pub fn group(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut o = if n < 0 {
        "-".to_string()
    } else {
        String::new()
    };
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// Reading order of severities: errors, warnings, notes.
pub fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

/// Run `run`'s findings summed up.
pub fn summary(t: &Target, run: i64) -> Result<FindingsSummary, StoreError> {
    let knock = Code::RejectedParent.as_str();
    let mut codes: Vec<CodeCount> = t
        .rows(
            "SELECT severity, code, count(*) FROM run_finding WHERE run_id = ?1 GROUP BY severity, code",
            params![run],
        )?
        .iter()
        .map(|r| {
            let code = r.text(1);
            CodeCount {
                severity: Severity::parse(&r.text(0)).unwrap_or(Severity::Error),
                knock_on: code == knock,
                doc: Code::parse(&code).map(|c| c.doc()).unwrap_or(""),
                code,
                count: r.int(2),
            }
        })
        .collect();
    codes.sort_by(|a, b| {
        (severity_rank(a.severity), a.knock_on, -a.count, &a.code).cmp(&(
            severity_rank(b.severity),
            b.knock_on,
            -b.count,
            &b.code,
        ))
    });
    let dependents = t.rows(
        "SELECT coalesce(entity, ''), count(*) FROM run_finding WHERE run_id = ?1 AND code = ?2 GROUP BY entity",
        params![run, knock],
    )?;
    let rejected = t
        .counts(run)?
        .into_iter()
        .filter(|(_, c)| c.rejected > 0)
        .map(|(entity, c)| {
            let rejected = c.rejected as i64;
            let dependent = dependents
                .iter()
                .find(|r| r.text(0) == entity)
                .map_or(0, |r| r.int(1))
                .min(rejected);
            Rejected {
                entity,
                own: rejected - dependent,
                dependent,
            }
        })
        .collect();
    Ok(FindingsSummary { codes, rejected })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rej(entity: &str, own: i64, dependent: i64) -> Rejected {
        Rejected {
            entity: entity.into(),
            own,
            dependent,
        }
    }

    #[test]
    fn headlines() {
        let s = |r: Vec<Rejected>| FindingsSummary {
            codes: vec![],
            rejected: r,
        };
        assert_eq!(s(vec![]).headline(), "");
        assert_eq!(
            s(vec![rej("User", 2294, 0), rej("Contact", 0, 18372)]).headline(),
            "2,294 User records rejected (+18,372 dependent records)"
        );
        assert_eq!(
            s(vec![rej("User", 1, 0), rej("Contact", 2, 1)]).headline(),
            "3 records rejected (User 1, Contact 2) (+1 dependent record)"
        );
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(group(-1000), "-1,000");
    }
}
