//! Entity-specific rules beyond values, references and keys: a Debit's period (§4.3),
//! subscriptions (SPEC §4.4), tickets
//! (§4.5), payment methods (§4.6) and the legacy certification migration (§11, `certification.rs`:
//! a check before a legacy record is written and the certification model written with it). Each rule may reject the record (its finding is logged)
//! and may fill the derived columns of `ferry_store::schema::extra_columns`.

pub mod certification;
mod duplicates;
mod ledger;
mod payment;
mod subscriptions;
mod tickets;

pub(crate) use certification::Certification;
pub(crate) use duplicates::Duplicates;
pub(crate) use payment::needs_fingerprint;

use crate::run::{FindingLog, State};
use crate::RunError;
use ferry_store::cells::Cell;
use ferry_validate::Record;

impl State<'_> {
    /// Applies the rules of the record's entity type. Returns whether the record is rejected.
    pub(crate) fn entity_rules(
        &mut self,
        rec: &mut Record,
        log: &mut FindingLog,
        extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        match rec.entity.name {
            "UserPaymentMethodCash" | "UserPaymentMethodCheck" => {
                self.payment_detail_rules(rec, log)
            }
            "UserPaymentMethodCreditCard" => self.credit_card_rules(rec, log, extra),
            "UserPaymentMethodACH" => self.ach_rules(rec, log, extra),
            "Ticket" => tickets::ticket_rules(rec, log),
            "TicketAttachment" => self.attachment_rules(rec, log, extra),
            "UserService" => self.user_service_rules(rec, log),
            "Debit" => ledger::period_rule(rec, log),
            "UserPackageAttributeDiscount" => subscriptions::discount_rules(rec, log),
            "UserAttributeExpiryDate" => {
                subscriptions::expiry_end_of_day(rec);
                Ok(false)
            }
            "ProfileAnswer" => self.profile_answer_rules(rec, log),
            "UserServiceProfileAnswer" => self.service_profile_answer_rules(rec, log),
            _ => Ok(false),
        }
    }
}
