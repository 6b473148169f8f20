//! What Ferry writes for people and other programs: findings logs (JSON Lines, CSV, HTML) and
//! exports of the target (XML, CSV folder, workbook), and what the console reads of the target
//! (accounts, runs, a run's findings), as typed values.

pub mod account;
pub mod account_ledger;
pub mod accounts;
pub mod annotated;
pub mod balances;
pub mod export;
pub mod findings_page;
pub mod findings_summary;
pub mod html;
pub mod log;
pub mod origin;
pub mod reconcile;
pub mod rejected;
mod rejected_out;
pub mod retries;
pub mod runs;
pub mod saved_queries;
pub mod template;

#[cfg(test)]
mod account_tests;
