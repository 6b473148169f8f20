#!/usr/bin/env bash
# The test command: formatting, clippy, every crate's tests (unit, CLI on the real binary) against
# SQLite, then the CLI suite again against PostgreSQL (FERRY_TEST_BACKEND=postgres: every
# target a test names becomes its own database on 127.0.0.1:5432, dropped afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
# Clippy with every warning an error (clippy.toml: functions of at most 80 lines in the engine,
# store, console and annotate crates).
cargo clippy --workspace --all-targets --quiet -- -D warnings
# No module of a crate imports another that imports it back.
python3 scripts/module_circles.py
cargo test --workspace --quiet

if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "== the CLI suite against PostgreSQL"
  FERRY_TEST_BACKEND=postgres cargo test -p ferry-cli --quiet
elif [ -n "${FERRY_REQUIRE_PG:-}" ]; then
  echo "FERRY_REQUIRE_PG is set but no PostgreSQL server answers on 127.0.0.1:5432" >&2
  exit 1
else
  echo "skipped: the CLI suite against PostgreSQL (no server on 127.0.0.1:5432; set FERRY_REQUIRE_PG=1 to make this a failure)"
fi
