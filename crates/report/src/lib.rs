//! ferry-report
