//! ferry-plan
