#!/usr/bin/env bash
# The test command: formatting, then every crate's tests (unit, CLI on the real binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo test --workspace --quiet
