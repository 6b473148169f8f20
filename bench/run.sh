#!/usr/bin/env bash
# Ferry's benchmark: Ferry against the raw loaders on the same generated rows.
#
#   bash bench/run.sh [--small] [--accounts N] [--runs N] [--seed S] [--no-build]
#
#   --small        10,000 accounts (a few minutes on 2 cores, CI may run it)
#   --accounts N   N accounts (default 1,000,000)
#   --runs N       timed runs of each measurement; the median is reported (default 3)
#   --seed S       the generator's seed (default 1)
#   --no-build     use target/release/ferry (or $FERRY_BIN) as it is
#
# Generates bench/data/a<N>-s<S>/ (reused when the generator and its parameters are unchanged),
# then times, each --runs times on a fresh target, with wall time and peak RSS from
# /usr/bin/time:
#   ferry import CSV folder (live, and --test-only), XML file, XLSX workbooks → SQLite
#   sqlite3 .import of the raw CSVs into equivalent plain tables
#   ferry import CSV folder (live, and --test-only) → PostgreSQL on 127.0.0.1:5432, a new
#     database per run (created by Ferry, dropped afterwards)
#   psql \copy and pgloader of the same raw CSVs into PostgreSQL on 127.0.0.1:5432
# and prints medians, rows/s, ratios and peak RSS, and writes its section of bench/RESULTS.md
# (one section per data-set size; the other sizes' sections are kept).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ACCOUNTS=1000000
RUNS=3
SEED=1
BUILD=1
SMALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --small) ACCOUNTS=10000; SMALL=1 ;;
    --accounts) ACCOUNTS=$2; shift ;;
    --accounts=*) ACCOUNTS=${1#*=} ;;
    --runs) RUNS=$2; shift ;;
    --runs=*) RUNS=${1#*=} ;;
    --seed) SEED=$2; shift ;;
    --seed=*) SEED=${1#*=} ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '%s\n' "$*" >&2; }
[ -x /usr/bin/time ] || { say "run.sh: /usr/bin/time is missing (apt-get install -y time)"; exit 2; }

# ---- Ferry --------------------------------------------------------------------------------
FERRY=${FERRY_BIN:-$ROOT/target/release/ferry}
if [ "$BUILD" = 1 ] && [ -z "${FERRY_BIN:-}" ]; then
  say "== cargo build --release"
  cargo build --release --quiet
fi
[ -x "$FERRY" ] || { say "run.sh: $FERRY is missing (cargo build --release)"; exit 2; }
# What the binary was built from, taken now (someone may commit during a long run);
# FERRY_BUILT_FROM=... overrides it for a binary built earlier.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no -- crates Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  commit="$commit + uncommitted changes in crates/"
fi
commit=${FERRY_BUILT_FROM:-$commit}
commit="$commit; binary sha256 $(sha256sum "$FERRY" | cut -c1-12)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- data ---------------------------------------------------------------------------------
DATA=$ROOT/bench/data/a$ACCOUNTS-s$SEED
GEN_SHA=$(sha256sum bench/generate.py | cut -d' ' -f1)
if ! python3 - "$DATA/manifest.json" "$GEN_SHA" "$ACCOUNTS" "$SEED" <<'EOF' 2>/dev/null
import json, sys
m = json.load(open(sys.argv[1]))
ok = (m["generator_sha256"] == sys.argv[2] and m["accounts"] == int(sys.argv[3])
      and m["seed"] == int(sys.argv[4]) and m["max_sheet_rows"] == 1048575
      and m["formats"] == ["csv", "raw", "xlsx", "xml"])
sys.exit(0 if ok else 1)
EOF
then
  say "== generating $ACCOUNTS accounts (seed $SEED) into ${DATA#$ROOT/}"
  python3 bench/generate.py --accounts "$ACCOUNTS" --seed "$SEED" --out "$DATA"
else
  say "== reusing ${DATA#$ROOT/} (same generator, same parameters)"
fi
mapfile -t XLSX_PARTS < <(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("\n".join(m["xlsx_parts"]))' "$DATA/manifest.json")
XLSX_INPUTS=()
for p in "${XLSX_PARTS[@]}"; do XLSX_INPUTS+=("$DATA/xlsx/$p"); done

WORK=$(mktemp -d "$ROOT/bench/data/work.XXXXXX")
PGDBS=()
cleanup() {
  for db in "${PGDBS[@]}"; do
    psql -h 127.0.0.1 -U postgres -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
# a private copy, so that a rebuild during the run cannot change what is measured
cp "$FERRY" "$WORK/ferry-bin"
FERRY=$WORK/ferry-bin
TIMES=$WORK/times.tsv    # name, run, elapsed s, peak RSS KiB, user s, sys s, exit
NOTES=$WORK/notes.txt    # lines the report prints as they are
: > "$TIMES"; : > "$NOTES"
note() { printf '%s\n' "$*" >> "$NOTES"; say "   $*"; }

# time_one NAME RUN OUT ERR CMD...: runs CMD under /usr/bin/time (its stdout to OUT, stderr to
# ERR) and appends a line to $TIMES.
time_one() {
  local name=$1 run=$2 out=$3 err=$4; shift 4
  local tf=$WORK/time.$$ rc=0
  if [ "$out" = "$err" ]; then
    /usr/bin/time -o "$tf" -f '%e %M %U %S' "$@" > "$out" 2>&1 || rc=$?
  else
    /usr/bin/time -o "$tf" -f '%e %M %U %S' "$@" > "$out" 2> "$err" || rc=$?
  fi
  read -r e m u s < <(tail -n1 "$tf")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$run" "$e" "$m" "$u" "$s" "$rc" >> "$TIMES"
  say "   $name run $run: ${e}s, peak RSS $((m / 1024)) MiB, exit $rc"
  return $rc
}

# ---- Ferry → SQLite -------------------------------------------------------------------------
# Each run imports into a new target (`import` creates it with the default setup data). The
# --json summary is checked: status succeeded, no finding at all, every generated record read.
check_ferry() {  # NAME JSON
  python3 - "$1" "$2" "$DATA/manifest.json" <<'EOF'
import json, sys
name, path, manifest = sys.argv[1:]
m = json.load(open(manifest))
try:
    d = json.load(open(path))
except Exception as e:
    print(f"{name}: no --json summary ({e})"); sys.exit(1)
read = sum(c["read"] for _, c in d["counts"])
imported = sum(c["imported"] for _, c in d["counts"])
problems = []
if d["status"] != "succeeded": problems.append(f"status {d['status']}")
if d["errors"] or d["warnings"] or d["infos"]:
    problems.append(f"{d['errors']} errors, {d['warnings']} warnings, {d['infos']} notes")
if read != m["records"]: problems.append(f"read {read} of {m['records']} records")
if imported != m["records"]: problems.append(f"imported {imported} of {m['records']} records")
if problems:
    print(f"{name}: " + "; ".join(problems)); sys.exit(1)
EOF
}

# The target of one Ferry run: a new SQLite file, or (FERRY_TARGET=pg) a new PostgreSQL database
# that `ferry import` creates itself (CREATE DATABASE and the schema are inside the timed run, as
# creating the SQLite file is) and that is dropped after the run.
FERRY_TARGET=sqlite
PGURL_BASE=postgresql://postgres@127.0.0.1:5432
fresh_ferry_target() {  # sets TARGET_DB (and TARGET_PGDB)
  TARGET_PGDB=
  if [ "$FERRY_TARGET" = pg ]; then
    drop_ferry_target
    TARGET_PGDB="ferry_bench_$$_ferry_$RANDOM$RANDOM"
    PGDBS+=("$TARGET_PGDB")
    TARGET_DB="$PGURL_BASE/$TARGET_PGDB"
  else
    rm -rf "$WORK/ferry"; mkdir -p "$WORK/ferry"
    TARGET_DB="$WORK/ferry/target.db"
  fi
}
drop_ferry_target() {
  if [ -n "${TARGET_PGDB:-}" ]; then
    psql -h 127.0.0.1 -p 5432 -U postgres -X -qAtc "DROP DATABASE IF EXISTS $TARGET_PGDB WITH (FORCE)" \
      >/dev/null 2>&1 || note "could not drop database $TARGET_PGDB"
    TARGET_PGDB=
  fi
}

ferry_bench() {  # NAME [import args...]
  local name=$1; shift
  say "== $name"
  local run
  for run in $(seq 1 "$RUNS"); do
    fresh_ferry_target
    time_one "$name" "$run" "$WORK/ferry.json" "$WORK/ferry.err" \
      "$FERRY" import "$@" --db "$TARGET_DB" --json || true
    if ! msg=$(check_ferry "$name" "$WORK/ferry.json"); then
      note "FINDINGS/PROBLEM $msg (stderr: $(tail -n 2 "$WORK/ferry.err" | tr '\n' ' '))"
      # once, the findings themselves (a test-only run with a log)
      if [ "$run" = 1 ]; then
        fresh_ferry_target
        "$FERRY" import "$@" --test-only --db "$TARGET_DB" --log "$WORK/findings-$run.csv" \
          >/dev/null 2>&1 || true
        if [ -f "$WORK/findings-$run.csv" ]; then
          tail -n +2 "$WORK/findings-$run.csv" | cut -d, -f2,3 | sort | uniq -c | sort -rn | head -n 10 \
            | while read -r line; do note "  finding: $line"; done || true
          mkdir -p "$ROOT/bench/data/findings"
          cp "$WORK/findings-$run.csv" "$ROOT/bench/data/findings/$(echo "$name" | tr -c 'A-Za-z0-9\n' '_').csv"
        fi
      fi
    fi
    drop_ferry_target
  done
}

ferry_bench "Ferry CSV → SQLite, live" "$DATA/csv"
ferry_bench "Ferry CSV → SQLite, --test-only" "$DATA/csv" --test-only
ferry_bench "Ferry XML → SQLite, live" "$DATA/xml/bench.xml"
ferry_bench "Ferry XLSX → SQLite, live" "${XLSX_INPUTS[@]}"

# ---- sqlite3 .import ------------------------------------------------------------------------
RAW=$DATA/raw
TABLES=(users contacts contact_emails contact_phones ledger)
{
  echo ".mode csv"
  for t in "${TABLES[@]}"; do echo ".import '$RAW/$t.csv' $t"; done
} > "$WORK/import.sqlite"
count_check() {  # NAME "counts as t=n …"
  python3 - "$1" "$2" "$DATA/manifest.json" <<'EOF'
import json, sys
name, got, manifest = sys.argv[1:]
m = json.load(open(manifest))
c = m["counts"]
want = {"users": c["User"], "contacts": c["Contact"], "contact_emails": c["ContactEmail"],
        "contact_phones": c["ContactPhone"], "ledger": m["ledger_rows"]}
have = dict(kv.split("=") for kv in got.split())
bad = [f"{t}: {have.get(t)} of {n}" for t, n in want.items() if int(have.get(t, -1)) != n]
if bad:
    print(f"{name}: row counts differ: " + ", ".join(bad)); sys.exit(1)
EOF
}
say "== sqlite3 .import"
for run in $(seq 1 "$RUNS"); do
  rm -f "$WORK/raw.db"
  sqlite3 "$WORK/raw.db" < "$RAW/schema.sql"
  time_one "sqlite3 .import" "$run" "$WORK/sqlite.out" "$WORK/sqlite.out" \
    sqlite3 -bail "$WORK/raw.db" ".read $WORK/import.sqlite" || note "sqlite3 .import failed: $(head -c 300 "$WORK/sqlite.out")"
  counts=$(for t in "${TABLES[@]}"; do printf '%s=%s ' "$t" "$(sqlite3 "$WORK/raw.db" "SELECT count(*) FROM $t")"; done)
  msg=$(count_check "sqlite3 .import" "$counts") || note "$msg"
done
rm -f "$WORK/raw.db"

# ---- PostgreSQL -----------------------------------------------------------------------------
PG_OK=1
if ! command -v psql >/dev/null || ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  PG_OK=0
  note "PostgreSQL: no server answers on 127.0.0.1:5432 (or psql is missing); Ferry → PostgreSQL, psql \\copy and pgloader not measured"
fi
PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -X -q -v ON_ERROR_STOP=1)
new_pgdb() {  # prints the name of a new database holding the plain tables
  local db="ferry_bench_$$_$1_$RANDOM"
  PGDBS+=("$db")
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
  "${PSQL[@]}" -d "$db" -f "$RAW/schema.sql" >/dev/null
  echo "$db"
}
drop_pgdb() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null || true; }
pg_counts() {
  for t in "${TABLES[@]}"; do printf '%s=%s ' "$t" "$("${PSQL[@]}" -d "$1" -Atc "SELECT count(*) FROM $t")"; done
}

if [ "$PG_OK" = 1 ]; then
  FERRY_TARGET=pg
  ferry_bench "Ferry CSV → PostgreSQL, live" "$DATA/csv"
  ferry_bench "Ferry CSV → PostgreSQL, --test-only" "$DATA/csv" --test-only
  FERRY_TARGET=sqlite

  say "== psql \\copy"
  for t in "${TABLES[@]}"; do echo "\\copy $t FROM '$RAW/$t.csv' WITH (FORMAT csv)"; done > "$WORK/copy.psql"
  for run in $(seq 1 "$RUNS"); do
    db=$(new_pgdb copy)
    time_one "psql \\copy" "$run" "$WORK/psql.out" "$WORK/psql.out" \
      "${PSQL[@]}" -d "$db" -f "$WORK/copy.psql" || note "psql \\copy failed: $(head -c 300 "$WORK/psql.out")"
    msg=$(count_check "psql \\copy" "$(pg_counts "$db")") || note "$msg"
    drop_pgdb "$db"
  done

  PGLOADER_OK=1
  if ! command -v pgloader >/dev/null; then
    say "== installing pgloader (apt-get install -y pgloader)"
    if ! { [ "$(id -u)" = 0 ] && { apt-get install -y -qq pgloader >/dev/null 2>&1 \
           || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq pgloader >/dev/null 2>&1; }; }; }; then
      PGLOADER_OK=0
      note "pgloader: not installed and could not be installed here (apt-get install -y pgloader failed or not root); not measured"
    fi
  fi
  if [ "$PGLOADER_OK" = 1 ]; then
    say "== pgloader"
    for run in $(seq 1 "$RUNS"); do
      db=$(new_pgdb pgl)
      loads=()
      for t in "${TABLES[@]}"; do
        sed "s|@PGURL@|postgresql://postgres@127.0.0.1:5432/$db|" "$RAW/pgloader/$t.load" > "$WORK/$t.load"
        loads+=("$WORK/$t.load")
      done
      if ! time_one "pgloader" "$run" "$WORK/pgloader.out" "$WORK/pgloader.out" \
           pgloader --no-ssl-cert-verification -D "$WORK/pgloader" "${loads[@]}"; then
        note "pgloader failed (exit status above): $(grep -m3 -E 'ERROR|FATAL' "$WORK/pgloader.out" | tr '\n' ' ')"
      fi
      msg=$(count_check "pgloader" "$(pg_counts "$db")") || note "$msg"
      drop_pgdb "$db"
    done
  fi
fi


# ---- report ---------------------------------------------------------------------------------
ferry_version=$("$FERRY" --version 2>/dev/null | head -n1)
export BENCH_LOAD="load average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after"
export BENCH_FERRY_VERSION="$ferry_version ($commit)"
export BENCH_SQLITE_VERSION="sqlite3 $(sqlite3 --version | cut -d' ' -f1-2)"
export BENCH_PSQL_VERSION=$(psql --version 2>/dev/null || echo "not installed")
export BENCH_PG_SERVER=$("${PSQL[@]}" -d postgres -Atc 'SHOW server_version' 2>/dev/null || echo "not reachable")
pg_settings=$("${PSQL[@]}" -d postgres -Atc "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'max_wal_size', 'wal_level')" 2>/dev/null || true)
if [ -n "$pg_settings" ]; then export BENCH_PG_SERVER="$BENCH_PG_SERVER ($pg_settings)"; fi
pgl_version=$(pgloader --version 2>/dev/null || true)
pgl_version=${pgl_version%%$'\n'*}
export BENCH_PGLOADER_VERSION=${pgl_version:-pgloader not installed}
export BENCH_PGLOADER_VERSION=${BENCH_PGLOADER_VERSION//\"/}
export BENCH_PYTHON_VERSION=$(python3 --version)
export BENCH_NPROC=$(nproc)
export BENCH_FREE=$(free -h)
export BENCH_CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
export BENCH_KERNEL=$(uname -sr)
export BENCH_DISK=$(du -sh "$DATA"/xml "$DATA"/csv "$DATA"/xlsx "$DATA"/raw 2>/dev/null | sed "s|$DATA/||" | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')
python3 bench/report.py --times "$TIMES" --notes "$NOTES" --manifest "$DATA/manifest.json" \
  --runs "$RUNS" --small "$SMALL" --results bench/RESULTS.md
