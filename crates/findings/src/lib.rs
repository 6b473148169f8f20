//! ferry-findings
