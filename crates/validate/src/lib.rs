//! ferry-validate
