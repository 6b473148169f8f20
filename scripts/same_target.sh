#!/usr/bin/env bash
# Same inputs, same target: runs two ferry binaries on the same inputs and compares what they
# leave behind — `ferry export --format csv`, `ferry report balances` and the findings log —
# on SQLite and (when the server answers) PostgreSQL. For changes that must not change results
# (speed work): exit 0 when everything is identical, 1 with the differences otherwise.
#
#   bash scripts/same_target.sh BASE_BIN NEW_BIN [BENCH_DATA_DIR...]
#
# The sets: examples/club (CSV folder, workbook, XML with --create-accounts), examples/mistakes
# (CSV and workbook: runs with errors), the certification example (students, then the legacy
# migration), a test-only run, an --on-existing update re-import, and the CSV folder of each
# BENCH_DATA_DIR given (e.g. bench/data/a10000-s1 from `bash bench/run.sh --small`).
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 2,12p "$0"; exit 2; }
BASE=$1 NEW=$2; shift 2
BENCH=("$@")
WORK=$(mktemp -d /tmp/same_target.XXXXXX)
PG=postgresql://postgres@127.0.0.1:5432
DBS=()
cleanup() {
  for db in "${DBS[@]}"; do
    psql -h 127.0.0.1 -U postgres -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  done
  [ -n "${SAME_TARGET_KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

backends=(sqlite)
if psql -h 127.0.0.1 -U postgres -qAtc 'select 1' >/dev/null 2>&1; then backends+=(pg); fi

# target SIDE BACKEND SET: a fresh target for one side
target() {
  if [ "$2" = pg ]; then
    local db="ferry_same_$$_$1_$3"
    db=${db//[^a-zA-Z0-9_]/_}
    psql -h 127.0.0.1 -U postgres -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    DBS+=("$db")
    echo "$PG/$db"
  else
    mkdir -p "$WORK/$1/$3"
    echo "$WORK/$1/$3/target.db"
  fi
}

# outcome BIN SIDE BACKEND SET STEPS...: each step is "import ARGS" or "cert ARGS", separated
# by ";;"; writes export/, balances.csv, findings-N.csv and exits.txt under $WORK/out/SIDE/...
outcome() {
  local bin=$1 side=$2 backend=$3 set=$4; shift 4
  local out="$WORK/out/$side/$backend/$set" db n=0
  mkdir -p "$out"
  db=$(target "$side" "$backend" "$set")
  local step=()
  run_step() {
    n=$((n + 1))
    local sub=("${step[@]}")
    if [ "${sub[0]}" = cert ]; then sub=(certification migrate "${sub[@]:1}"); fi
    "$bin" "${sub[@]}" --db "$db" --log "$out/findings-$n.csv" >/dev/null 2>&1
    echo "step $n exit $?" >> "$out/exits.txt"
    step=()
  }
  for a in "$@"; do
    if [ "$a" = ";;" ]; then run_step; else step+=("$a"); fi
  done
  [ ${#step[@]} -gt 0 ] && run_step
  "$bin" export --db "$db" --format csv "$out/export" >/dev/null 2>&1 || echo "export failed" >> "$out/exits.txt"
  "$bin" report balances --db "$db" > "$out/balances.csv" 2>/dev/null || echo "balances failed" >> "$out/exits.txt"
}

sets=(
  "club-csv|import examples/club/club_csv"
  "club-xlsx|import examples/club/club.xlsx"
  "club-xml|import examples/club/club.xml --create-accounts"
  "club-test-only|import examples/club/club_csv --test-only"
  "club-update|import examples/club/club_csv ;; import examples/club/club.xlsx --on-existing update"
  "mistakes-csv|import examples/mistakes/mistakes_csv"
  "mistakes-xlsx|import examples/mistakes/mistakes.xlsx --on-existing skip"
  "cert|import examples/club/club_csv ;; import examples/certification/students ;; cert examples/certification/legacy_csv --add-missing-components"
)
for d in "${BENCH[@]}"; do
  [ -d "$d/csv" ] || { echo "same_target: $d/csv is missing (bench/generate.py --out $d)" >&2; exit 2; }
  sets+=("bench-$(basename "$d")|import $d/csv")
done

for backend in "${backends[@]}"; do
  for s in "${sets[@]}"; do
    name=${s%%|*} steps=${s#*|}
    # shellcheck disable=SC2086 # the steps are words by design
    outcome "$BASE" base "$backend" "$name" $steps
    # shellcheck disable=SC2086
    outcome "$NEW" new "$backend" "$name" $steps
    echo "compared $backend $name" >&2
  done
done

# Timestamps, run ids and database names are not results.
for f in $(find "$WORK/out" -name 'findings-*.csv'); do
  sed -i -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z?/TIME/g; s/ferry_same_[0-9]+_(base|new)_/DB_/g' "$f"
done
if diff -r "$WORK/out/base" "$WORK/out/new" > "$WORK/diff.txt"; then
  echo "same_target: identical (${backends[*]}; ${#sets[@]} sets)"
  exit 0
fi
head -n 60 "$WORK/diff.txt"
echo "same_target: DIFFERENT ($(wc -l < "$WORK/diff.txt") diff lines)"
exit 1
