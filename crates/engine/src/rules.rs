//! Entity-specific rules beyond values, references and keys, behind one trait: a Debit's period
//! (§4.3), subscriptions (§4.4), tickets (§4.5), payment methods (§4.6), child accounts, profile
//! questions, a CloseInvoice's account, companies, logins, likely duplicates (§9) and the legacy
//! certification migration (§11). [`Rules`] owns every rule (each with its own state) and is the
//! one list of which entity type has which rules.
//!
//! A rule may reject the record (its finding is logged), may fill the derived columns of
//! `ferry_store::schema::extra_columns`, may stop a record before it is written, and may act once
//! the record is accepted.

pub mod certification;
mod child_accounts;
mod close_invoice;
mod companies;
mod duplicates;
mod ledger;
mod logins;
mod payment;
mod profile_questions;
mod subscriptions;
mod tickets;

pub(crate) use payment::needs_fingerprint;

use crate::fingerprint_key::FingerprintKey;
use crate::indexes::Indexes;
use crate::log_sink::FindingSink;
use crate::logins::{LoginPassword, Logins};
use crate::options::Effective;
use crate::positions::FirstDetails;
use crate::RunError;
use ferry_catalogue::{Entity, Known};
use ferry_store::cells::Cell;
use ferry_store::Target;
use ferry_validate::Record;

/// What a rule may use besides its own state: the target, the run, its options, the indexes.
pub(crate) struct Env<'s, 'a> {
    pub(crate) target: &'a Target,
    pub(crate) run: i64,
    pub(crate) eff: &'s Effective,
    pub(crate) indexes: &'s mut Indexes<'a>,
}

/// How an accepted record was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accepted {
    /// Written as a new row.
    Inserted,
    /// Written over the stored row (`--on-existing update`).
    Updated,
    /// An update that found the stored row with these values already: nothing written.
    Unchanged,
    /// Skipped as identical to the stored row (its key found it).
    Identical,
}

/// Whether a record that passed every check is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proceed {
    Write,
    /// Not written (its finding is logged): counted as skipped.
    Skip,
}

/// An accepted record and what its rules may take of it.
pub(crate) struct AcceptedRecord<'r> {
    pub(crate) rec: &'r Record,
    pub(crate) how: Accepted,
    /// `CreateAccounts`: what a User's login stores of its Password.
    pub(crate) password: &'r mut Option<LoginPassword>,
}

/// The rules of one or more entity types. Every step has a default that does nothing.
pub(crate) trait EntityRule {
    /// Before references are resolved: a check of the record as given. Returns whether the
    /// record is rejected.
    fn given(
        &mut self,
        _env: &mut Env<'_, '_>,
        _rec: &Record,
        _log: &mut dyn FindingSink,
    ) -> Result<bool, RunError> {
        Ok(false)
    }

    /// Whether `check` may change the record (its key and hash are then computed again).
    fn may_change(&self) -> bool {
        false
    }

    /// After its references resolved, when nothing rejected it: the rule's checks. Returns
    /// whether the record is rejected; may add derived cells to `extra`.
    fn check(
        &mut self,
        _env: &mut Env<'_, '_>,
        _rec: &mut Record,
        _log: &mut dyn FindingSink,
        _extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        Ok(false)
    }

    /// Just before a valid record is written.
    fn before_write(
        &mut self,
        _env: &mut Env<'_, '_>,
        _rec: &Record,
        _log: &mut dyn FindingSink,
    ) -> Result<Proceed, RunError> {
        Ok(Proceed::Write)
    }

    /// Once the record is accepted (written, or skipped as already stored).
    fn accepted(
        &mut self,
        _env: &mut Env<'_, '_>,
        _acc: &mut AcceptedRecord<'_>,
        _log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        Ok(())
    }
}

/// Every entity rule of a run, each with its state.
pub(crate) struct Rules {
    payments: payment::Payments,
    tickets: tickets::Tickets,
    subscriptions: subscriptions::Subscriptions,
    periods: ledger::Periods,
    pub(crate) certification: certification::Certification,
    pub(crate) child_accounts: child_accounts::ChildAccounts,
    profile_questions: profile_questions::ProfileQuestions,
    close_invoice: close_invoice::CloseInvoices,
    companies: companies::Companies,
    /// `CreateAccounts`: accounts and e-mails waiting for their logins.
    pub(crate) logins: Option<Logins>,
    duplicates: duplicates::Duplicates,
}

/// The rules of one entity type, in the order they act.
type RulesOf<'r> = [Option<&'r mut dyn EntityRule>; 2];

/// One rule.
fn one(r: &mut dyn EntityRule) -> RulesOf<'_> {
    [Some(r), None]
}

impl Rules {
    pub(crate) fn new(
        logins: Option<Logins>,
        add_missing_components: bool,
        fingerprint_key: Option<FingerprintKey>,
        first_details: FirstDetails,
    ) -> Rules {
        Rules {
            payments: payment::Payments::new(fingerprint_key, first_details),
            tickets: tickets::Tickets,
            subscriptions: subscriptions::Subscriptions,
            periods: ledger::Periods,
            certification: certification::Certification::new(add_missing_components),
            child_accounts: child_accounts::ChildAccounts::default(),
            profile_questions: profile_questions::ProfileQuestions,
            close_invoice: close_invoice::CloseInvoices,
            companies: companies::Companies,
            logins,
            duplicates: duplicates::Duplicates::default(),
        }
    }

    /// Which entity types have rules, and which: the one list.
    fn of(&mut self, e: &Entity) -> RulesOf<'_> {
        use Known::*;
        let Some(k) = e.known() else {
            return [None, None];
        };
        match k {
            UserPaymentMethodCash
            | UserPaymentMethodCheck
            | UserPaymentMethodCreditCard
            | UserPaymentMethodACH => one(&mut self.payments),
            Ticket | TicketAttachment => one(&mut self.tickets),
            UserService
            | UserPackageAttributeDiscount
            | UserAttributeExpiryDate
            | ProfileAnswer
            | UserServiceProfileAnswer => one(&mut self.subscriptions),
            Debit => one(&mut self.periods),
            LegacyProgram | LegacyComponent | LegacyProgramComponent | LegacyRegistration => {
                one(&mut self.certification)
            }
            ChildAccount => one(&mut self.child_accounts),
            ProfileQuestion => one(&mut self.profile_questions),
            CloseInvoice => one(&mut self.close_invoice),
            UserCompany => one(&mut self.companies),
            User | ContactEmail => [Some(&mut self.duplicates), Some(&mut self.logins)],
            ContactPhone | ContactAddress => one(&mut self.duplicates),
            Contact | PackageService | Credit | Payment | UserPaymentMethod => [None, None],
        }
    }

    /// Loads, before the phase of `e` writes anything, what its rules check against.
    pub(crate) fn prepare(&mut self, env: &mut Env<'_, '_>, e: &Entity) -> Result<(), RunError> {
        self.duplicates.prepare(env, e)
    }

    /// [`EntityRule::given`] of the record's rules.
    pub(crate) fn given(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &Record,
        log: &mut dyn FindingSink,
    ) -> Result<bool, RunError> {
        let mut rejected = false;
        for rule in self.of(rec.entity).into_iter().flatten() {
            rejected |= rule.given(env, rec, log)?;
        }
        Ok(rejected)
    }

    /// [`EntityRule::check`] of the record's rules, and whether one of them may have changed it.
    pub(crate) fn check(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &mut Record,
        log: &mut dyn FindingSink,
        extra: &mut Vec<Cell>,
    ) -> Result<(bool, bool), RunError> {
        let (mut rejected, mut changed) = (false, false);
        for rule in self.of(rec.entity).into_iter().flatten() {
            changed |= rule.may_change();
            rejected |= rule.check(env, rec, log, extra)?;
        }
        Ok((rejected, changed))
    }

    /// [`EntityRule::before_write`] of the record's rules.
    pub(crate) fn before_write(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &Record,
        log: &mut dyn FindingSink,
    ) -> Result<Proceed, RunError> {
        for rule in self.of(rec.entity).into_iter().flatten() {
            if rule.before_write(env, rec, log)? == Proceed::Skip {
                return Ok(Proceed::Skip);
            }
        }
        Ok(Proceed::Write)
    }

    /// [`EntityRule::accepted`] of the record's rules.
    pub(crate) fn accepted(
        &mut self,
        env: &mut Env<'_, '_>,
        acc: &mut AcceptedRecord<'_>,
        log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        for rule in self.of(acc.rec.entity).into_iter().flatten() {
            rule.accepted(env, acc, log)?;
        }
        Ok(())
    }

    /// What this run added with `--add-missing-components`.
    pub(crate) fn added_components(&self) -> Vec<certification::AddedComponent> {
        self.certification.added()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_catalogue::ENTITIES;

    /// The types whose rules may change a record (their key and hash are then computed again).
    #[test]
    fn the_rules_that_may_change_a_record() {
        let mut rules = Rules::new(None, false, None, FirstDetails::default());
        let mut changing: Vec<&str> = ENTITIES
            .iter()
            .filter(|e| rules.of(e).into_iter().flatten().any(|r| r.may_change()))
            .map(|e| e.name)
            .collect();
        changing.sort_unstable();
        assert_eq!(
            changing,
            [
                "ProfileAnswer",
                "Ticket",
                "TicketAttachment",
                "UserAttributeExpiryDate",
                "UserPackageAttributeDiscount",
                "UserPaymentMethodACH",
                "UserPaymentMethodCash",
                "UserPaymentMethodCheck",
                "UserPaymentMethodCreditCard",
                "UserService",
                "UserServiceProfileAnswer",
            ]
        );
    }

    /// How many types have rules (a type added to `Rules::of` changes it on purpose).
    #[test]
    fn types_with_rules() {
        let mut rules = Rules::new(None, false, None, FirstDetails::default());
        let with: Vec<&str> = ENTITIES
            .iter()
            .filter(|e| rules.of(e).iter().any(Option::is_some))
            .map(|e| e.name)
            .collect();
        assert_eq!(with.len(), 24, "{with:?}");
    }
}
