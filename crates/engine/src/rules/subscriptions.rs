//! Subscriptions (SPEC §4.4): services in their package, percent discounts, the expiry date's
//! end of day, and profile answers to questions that exist.

use super::{EntityRule, Env};
use crate::log_sink::FindingSink;
use crate::RunError;
use ferry_catalogue::{self as cat, Known};
use ferry_findings::Code;
use ferry_store::cells::Cell;
use ferry_validate::record::{display_key, KEY_SEP};
use ferry_validate::{Record, Resolve, Slot, Value};
use rust_decimal::Decimal;

/// The rules of held packages and services, their discounts, expiry dates and profile answers.
pub(crate) struct Subscriptions;

impl EntityRule for Subscriptions {
    fn may_change(&self) -> bool {
        true
    }

    fn check(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &mut Record,
        log: &mut dyn FindingSink,
        _extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        match rec.entity.known() {
            Some(Known::UserService) => user_service_rules(env, rec, log),
            Some(Known::UserPackageAttributeDiscount) => discount_rules(rec, log),
            Some(Known::UserAttributeExpiryDate) => {
                expiry_end_of_day(rec);
                Ok(false)
            }
            Some(Known::ProfileAnswer) => profile_answer_rules(env, rec, log),
            Some(Known::UserServiceProfileAnswer) => service_profile_answer_rules(env, rec, log),
            _ => Ok(false),
        }
    }
}

/// A `Percent` discount is 0–100.
fn discount_rules(rec: &Record, log: &mut dyn FindingSink) -> Result<bool, RunError> {
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
fn expiry_end_of_day(rec: &mut Record) {
    if let Some(Value::Date {
        at,
        has_time: false,
    }) = rec.get("Date")
    {
        let at = at.date().and_hms_opt(23, 59, 59).expect("a valid time");
        rec.set("Date", Some(Value::Date { at, has_time: true }));
    }
}

/// A service that is not optional must be in its package (a `PackageService`).
fn user_service_rules(
    env: &mut Env<'_, '_>,
    rec: &Record,
    log: &mut dyn FindingSink,
) -> Result<bool, RunError> {
    if matches!(rec.get("Optional"), Some(Value::Bool(true))) {
        return Ok(false);
    }
    let (Some(package), Some(service)) = (rec.text("UserPackage"), rec.text("Name")) else {
        return Ok(false);
    };
    let key = format!("{package}{KEY_SEP}{service}");
    let e = Known::PackageService.entity();
    let slot = env
        .indexes
        .index(e, &["Package", "Service"])?
        .get(&key)
        .cloned();
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
fn profile_answer_rules(
    env: &mut Env<'_, '_>,
    rec: &mut Record,
    log: &mut dyn FindingSink,
) -> Result<bool, RunError> {
    let (applies, target) = match rec.text("Service") {
        Some(s) => ("Service", s.to_string()),
        None => {
            let Some(user) = rec.text("User") else {
                return Ok(false);
            };
            match account_role(env, user)? {
                Some(role) => ("Role", role),
                None => return Ok(false),
            }
        }
    };
    question_rules(env, rec, log, applies, &target)
}

/// The question must be one of the held service's questions (the record's `UserService`
/// field is that service's name).
fn service_profile_answer_rules(
    env: &mut Env<'_, '_>,
    rec: &mut Record,
    log: &mut dyn FindingSink,
) -> Result<bool, RunError> {
    let Some(service) = rec.text("UserService").map(str::to_string) else {
        return Ok(false);
    };
    if question_rules(env, rec, log, "Service", &service)? {
        return Ok(true);
    }
    occurrence_rule(env, rec, log)
}

/// `Occurrence` n picks the n-th of the account's services of that name in that package: it
/// must hold at least n (in the target, or written earlier in this run).
fn occurrence_rule(
    env: &mut Env<'_, '_>,
    rec: &Record,
    log: &mut dyn FindingSink,
) -> Result<bool, RunError> {
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
    let held = env.target.int(
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
fn account_role(env: &Env<'_, '_>, user: &str) -> Result<Option<String>, RunError> {
    Ok(env
        .target
        .first(
            "SELECT role FROM \"user\" WHERE name = ?1",
            ferry_store::params![user],
        )?
        .and_then(|r| r.opt_text(0)))
}

/// Looks the record's `Question` up among the ProfileQuestions of (applies, target).
fn question_rules(
    env: &mut Env<'_, '_>,
    rec: &mut Record,
    log: &mut dyn FindingSink,
    applies: &str,
    target: &str,
) -> Result<bool, RunError> {
    let Some(question) = rec.text("Question").map(str::to_string) else {
        return Ok(false);
    };
    let of = match (applies, rec.entity.is(Known::ProfileAnswer)) {
        ("Role", _) => format!("role \"{target}\", the account's role"),
        (_, true) => format!("service \"{target}\""),
        _ => format!("service \"{target}\", the held service"),
    };
    let key = format!("{applies}{KEY_SEP}{target}{KEY_SEP}{question}");
    let fold_case = env.eff.fold_case;
    let e = Known::ProfileQuestion.entity();
    let ix = env.indexes.index(e, &["AppliesTo", "Target", "Name"])?;
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
            let hint = hint
                .and(ix.fold_candidate(&key))
                .map(|actual| cat::did_you_mean(actual.rsplit(KEY_SEP).next().unwrap_or(&actual)));
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
