//! Subscriptions (SPEC §4.4): services in their package, percent discounts, the expiry date's
//! end of day, and profile answers to questions that exist.

use crate::run::{FindingLog, State};
use crate::RunError;
use ferry_catalogue as cat;
use ferry_findings::Code;
use ferry_validate::record::{display_key, KEY_SEP};
use ferry_validate::{Record, Resolve, Slot, Value};
use rust_decimal::Decimal;

/// A `Percent` discount is 0–100.
pub(super) fn discount_rules(rec: &Record, log: &mut FindingLog) -> Result<bool, RunError> {
    if rec.text("DiscountType") != Some("Percent") {
        return Ok(false);
    }
    match rec.get("Amount") {
        Some(Value::Decimal(d)) if *d < Decimal::ZERO || *d > Decimal::from(100) => {
            log.push(&rec.finding(
                Code::OutOfRange,
                Some("Amount"),
                format!(
                    "Amount: a Percent discount is 0 to 100; {} is out of range.",
                    ferry_validate::values::decimal_text(*d)
                ),
            ))?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// A date without a time means the end of that day (23:59:59), for correct proration.
pub(super) fn expiry_end_of_day(rec: &mut Record) {
    if let Some(Value::Date {
        at,
        has_time: false,
    }) = rec.get("Date")
    {
        let at = at.date().and_hms_opt(23, 59, 59).expect("a valid time");
        rec.set("Date", Some(Value::Date { at, has_time: true }));
    }
}

impl State<'_> {
    /// A service that is not optional must be in its package (a `PackageService`).
    pub(super) fn user_service_rules(
        &mut self,
        rec: &Record,
        log: &mut FindingLog,
    ) -> Result<bool, RunError> {
        if matches!(rec.get("Optional"), Some(Value::Bool(true))) {
            return Ok(false);
        }
        let (Some(package), Some(service)) = (rec.text("UserPackage"), rec.text("Name")) else {
            return Ok(false);
        };
        let key = format!("{package}{KEY_SEP}{service}");
        let e = cat::entity("PackageService").expect("catalogue");
        let slot = self.index(e, &["Package", "Service"])?.get(&key).cloned();
        match slot {
            Some(Slot::Run { .. }) | Some(Slot::Target { .. }) => Ok(false),
            Some(Slot::Rejected { location }) => {
                log.push(&rec.finding(
                    Code::RejectedParent,
                    Some("Name"),
                    format!("PackageService \"{package} / {service}\" was rejected (at {location}), so this UserService is rejected too."),
                ))?;
                Ok(true)
            }
            None => {
                log.push(
                    &rec.finding(
                        Code::ServiceNotInPackage,
                        Some("Name"),
                        format!("Service \"{service}\" is not in package \"{package}\" (no PackageService), and this UserService is not Optional."),
                    )
                    .hint(Some("add the PackageService, or set Optional to true".to_string())),
                )?;
                Ok(true)
            }
        }
    }

    /// The question must exist for the account's role, or for the named service.
    pub(super) fn profile_answer_rules(
        &mut self,
        rec: &mut Record,
        log: &mut FindingLog,
    ) -> Result<bool, RunError> {
        let (applies, target) = match rec.text("Service") {
            Some(s) => ("Service", s.to_string()),
            None => {
                let Some(user) = rec.text("User") else {
                    return Ok(false);
                };
                match self.account_role(user)? {
                    Some(role) => ("Role", role),
                    None => return Ok(false),
                }
            }
        };
        self.question_rules(rec, log, applies, &target)
    }

    /// The question must be one of the held service's questions (the record's `UserService`
    /// field is that service's name).
    pub(super) fn service_profile_answer_rules(
        &mut self,
        rec: &mut Record,
        log: &mut FindingLog,
    ) -> Result<bool, RunError> {
        let Some(service) = rec.text("UserService").map(str::to_string) else {
            return Ok(false);
        };
        if self.question_rules(rec, log, "Service", &service)? {
            return Ok(true);
        }
        self.occurrence_rule(rec, log)
    }

    /// `Occurrence` n picks the n-th of the account's services of that name in that package: it
    /// must hold at least n (in the target, or written earlier in this run).
    fn occurrence_rule(&mut self, rec: &Record, log: &mut FindingLog) -> Result<bool, RunError> {
        let Some(Value::Int(n)) = rec.get("Occurrence") else {
            return Ok(false);
        };
        let (Some(user), Some(package), Some(service)) = (
            rec.text("User"),
            rec.text("UserPackage"),
            rec.text("UserService"),
        ) else {
            return Ok(false);
        };
        let held = self.target.int(
            "SELECT count(*) FROM user_service WHERE \"user\" = ?1 AND user_package = ?2 AND name = ?3",
            ferry_store::params![user, package, service],
        )?;
        if *n <= held {
            return Ok(false);
        }
        log.push(&rec.finding(
            Code::OccurrenceUnknown,
            Some("Occurrence"),
            format!("Occurrence {n}: account \"{user}\" holds service \"{service}\" of package \"{package}\" {held} time{}.", if held == 1 { "" } else { "s" }),
        ))?;
        Ok(true)
    }

    /// The role of an account, in the target or written earlier in this run (same transaction).
    fn account_role(&self, user: &str) -> Result<Option<String>, RunError> {
        Ok(self
            .target
            .first(
                "SELECT role FROM \"user\" WHERE name = ?1",
                ferry_store::params![user],
            )?
            .and_then(|r| r.opt_text(0)))
    }

    /// Looks the record's `Question` up among the ProfileQuestions of (applies, target).
    fn question_rules(
        &mut self,
        rec: &mut Record,
        log: &mut FindingLog,
        applies: &str,
        target: &str,
    ) -> Result<bool, RunError> {
        let Some(question) = rec.text("Question").map(str::to_string) else {
            return Ok(false);
        };
        let of = match (applies, rec.entity.name) {
            ("Role", _) => format!("role \"{target}\", the account's role"),
            (_, "ProfileAnswer") => format!("service \"{target}\""),
            _ => format!("service \"{target}\", the held service"),
        };
        let key = format!("{applies}{KEY_SEP}{target}{KEY_SEP}{question}");
        let fold_case = self.eff.fold_case;
        let e = cat::entity("ProfileQuestion").expect("catalogue");
        let ix = self.index(e, &["AppliesTo", "Target", "Name"])?;
        match ix.resolve(&key, fold_case) {
            Resolve::Found(_) => Ok(false),
            Resolve::Folded { actual, .. } => {
                let name = actual.rsplit(KEY_SEP).next().unwrap_or(&actual).to_string();
                log.push(&rec.finding(
                    Code::ReferenceCaseFolded,
                    Some("Question"),
                    format!("Question \"{question}\" was matched to \"{name}\" of {of}, ignoring case and spacing (--fold-case)."),
                ))?;
                rec.set("Question", Some(Value::Text(name)));
                Ok(false)
            }
            Resolve::RejectedParent(location) => {
                log.push(&rec.finding(
                    Code::RejectedParent,
                    Some("Question"),
                    format!(
                        "ProfileQuestion \"{}\" was rejected (at {location}), so this {} is rejected too.",
                        display_key(&key),
                        rec.entity.name
                    ),
                ))?;
                Ok(true)
            }
            Resolve::Unknown { hint } => {
                // The index's hint names the whole key; people know the question by its name.
                let hint = hint.and(ix.fold_candidate(&key)).map(|actual| {
                    cat::did_you_mean(actual.rsplit(KEY_SEP).next().unwrap_or(&actual))
                });
                log.push(
                    &rec.finding(
                        Code::ReferenceUnknown,
                        Some("Question"),
                        format!("Question \"{question}\" matches no ProfileQuestion of {of}."),
                    )
                    .hint(hint),
                )?;
                Ok(true)
            }
        }
    }
}
