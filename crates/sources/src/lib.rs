//! ferry-sources
