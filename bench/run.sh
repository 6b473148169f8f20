#!/usr/bin/env bash
# Ferry's benchmark: Ferry against the raw loaders on the same generated rows (issue 16).
#
#   bash bench/run.sh [--small] [--sizes N,N] [--shapes accounts,billing] [--only sqlite|pg]
#                     [--runs N] [--seed S] [--enrollments N] [--no-paths] [--no-build]
#
#   --small          10,000 accounts (a few minutes on 2 cores) and 5,000 enrollments
#   --sizes N,N      account counts (default 200000,1000000); --accounts N is --sizes N
#   --shapes LIST    data shapes (default accounts,billing; also mixed, the set of issues 5-15):
#                    accounts = User, Contact, ContactEmail, ContactPhone; billing = the same and
#                    two invoices of four ledger records per account (bench/generate.py --shape)
#   --only sqlite|pg only the SQLite measurements (Ferry → SQLite, sqlite3 .import) or only the
#                    PostgreSQL ones (Ferry → PostgreSQL, psql \copy, pgloader); the section it
#                    writes is then a separate one (…, SQLite only), so a partial run never
#                    replaces a full one
#   --runs N         timed runs of each measurement, round-robin; the median is reported (default 3)
#   --seed S         the generators' seed (default 1)
#   --enrollments N  enrollments of the certification set (default 50,000; --small 5,000)
#   --no-paths       skip the other paths (ferry rollback, ferry certification migrate)
#   --no-build       use target/release/ferry (or $FERRY_BIN) as it is
#
# For each shape and size: generates bench/data/<shape>-a<N>-s<S>/ (reused when the generator
# and its parameters are unchanged), then runs every measurement once per round, --runs rounds
# (round-robin: run 1 of each, then run 2 of each …, so that a change in the machine's load
# falls on all of them alike), each on a fresh target, under /usr/bin/time (wall, peak RSS, user
# and system CPU of the timed process; for PostgreSQL also the server's CPU, see README):
#   ferry import CSV folder (live, then `ferry rollback` of that run; and --test-only), XML file,
#     XLSX workbooks → SQLite
#   sqlite3 .import of the raw CSVs into equivalent plain tables
#   ferry import CSV folder (live, then rollback; and --test-only) → PostgreSQL on
#     127.0.0.1:5432, a new database per run (created by Ferry, dropped afterwards)
#   psql \copy and pgloader of the same raw CSVs into PostgreSQL on 127.0.0.1:5432
# Then, when bench/generate_cert.py exists, `ferry certification migrate` of a set of N
# enrollments into SQLite and PostgreSQL (the students imported first, not timed).
# Prints medians, ratios against issue 16's goals, CPU seconds per 1,000 records and peak RSS,
# and writes one section per shape and size of bench/RESULTS.md (`<!-- size:KEY -->`; other
# sections and the hand-written text outside them are kept).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SIZES=200000,1000000
SHAPES=accounts,billing
ONLY=all
RUNS=3
SEED=1
BUILD=1
SMALL=0
PATHS=1
ENROLLMENTS=
while [ $# -gt 0 ]; do
  case "$1" in
    --small) SIZES=10000; SMALL=1 ;;
    --sizes|--accounts) SIZES=$2; shift ;;
    --sizes=*|--accounts=*) SIZES=${1#*=} ;;
    --shapes) SHAPES=$2; shift ;;
    --shapes=*) SHAPES=${1#*=} ;;
    --only) ONLY=$2; shift ;;
    --only=*) ONLY=${1#*=} ;;
    --runs) RUNS=$2; shift ;;
    --runs=*) RUNS=${1#*=} ;;
    --seed) SEED=$2; shift ;;
    --seed=*) SEED=${1#*=} ;;
    --enrollments) ENROLLMENTS=$2; shift ;;
    --enrollments=*) ENROLLMENTS=${1#*=} ;;
    --no-paths) PATHS=0 ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case "$ONLY" in all|sqlite|pg) ;; *) echo "run.sh: --only sqlite or --only pg" >&2; exit 2 ;; esac
for s in ${SHAPES//,/ }; do
  case "$s" in accounts|billing|mixed) ;; *) echo "run.sh: unknown shape $s" >&2; exit 2 ;; esac
done
if [ -z "$ENROLLMENTS" ]; then
  if [ "$SMALL" = 1 ]; then ENROLLMENTS=5000; else ENROLLMENTS=50000; fi
fi

say() { printf '%s\n' "$*" >&2; }
[ -x /usr/bin/time ] || { say "run.sh: /usr/bin/time is missing (apt-get install -y time)"; exit 2; }
want() { [ "$ONLY" = all ] || [ "$ONLY" = "$1" ]; }  # want sqlite|pg

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
# a binary from elsewhere (FERRY_BIN) was not built from this tree: say so unless told
[ -n "${FERRY_BIN:-}" ] && commit="$FERRY_BIN, built from an unstated commit (FERRY_BUILT_FROM not set)"
commit=${FERRY_BUILT_FROM:-$commit}
commit="$commit; binary sha256 $(sha256sum "$FERRY" | cut -c1-12)"

mkdir -p "$ROOT/bench/data"
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

# ---- PostgreSQL ---------------------------------------------------------------------------
PG_OK=0
PG_NOTE=
if want pg; then
  if command -v psql >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    PG_OK=1
  else
    PG_NOTE="PostgreSQL: no server answers on 127.0.0.1:5432 (or psql is missing); Ferry → PostgreSQL, psql \\copy and pgloader not measured"
    say "   $PG_NOTE"
  fi
fi
PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -X -q -v ON_ERROR_STOP=1)
PGURL_BASE=postgresql://postgres@127.0.0.1:5432
PGLOADER_OK=0
PGLOADER_NOTE=
if [ "$PG_OK" = 1 ]; then
  PGLOADER_OK=1
  if ! command -v pgloader >/dev/null; then
    say "== installing pgloader (apt-get install -y pgloader)"
    if ! { [ "$(id -u)" = 0 ] && { apt-get install -y -qq pgloader >/dev/null 2>&1 \
           || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq pgloader >/dev/null 2>&1; }; }; }; then
      PGLOADER_OK=0
      PGLOADER_NOTE="pgloader: not installed and could not be installed here (apt-get install -y pgloader failed or not root); not measured"
    fi
  fi
fi

# The PostgreSQL server's CPU time (user + system, in clock ticks) of every process named
# `postgres` — backends, checkpointer, WAL writer — plus their reaped children's (a backend that
# has exited is counted in the postmaster's cutime/cstime). Sampled around a timed PostgreSQL
# command, the difference is the server's share of the work, which /usr/bin/time cannot see. It
# includes whatever else the server did meanwhile (other people's tests on a shared machine).
pg_cpu_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(postgres)" { s += $14 + $15 + $16 + $17 } END { print s + 0 }'
}
CLK_TCK=$(getconf CLK_TCK)

# ---- timing -------------------------------------------------------------------------------
TIMES=   # per section: name, run, elapsed s, peak RSS KiB, user s, sys s, exit, server CPU s, records
NOTES=   # per section: lines the report prints as they are
note() { printf '%s\n' "$*" >> "$NOTES"; say "   $*"; }

# time_one NAME RUN RECORDS PG OUT ERR CMD...: runs CMD under /usr/bin/time (its stdout to OUT,
# its stderr to ERR) and appends a line to $TIMES; PG=1 also samples the server's CPU.
# RECORDS is the records (or rows) the command handles, for CPU per 1,000 records.
time_one() {
  local name=$1 run=$2 records=$3 pg=$4 out=$5 err=$6; shift 6
  local tf=$WORK/time.$$ rc=0 before=0 after=0 server=-
  [ "$pg" = 1 ] && before=$(pg_cpu_ticks)
  if [ "$out" = "$err" ]; then
    /usr/bin/time -o "$tf" -f '%e %M %U %S' "$@" > "$out" 2>&1 || rc=$?
  else
    /usr/bin/time -o "$tf" -f '%e %M %U %S' "$@" > "$out" 2> "$err" || rc=$?
  fi
  if [ "$pg" = 1 ]; then
    after=$(pg_cpu_ticks)
    server=$(awk -v a="$after" -v b="$before" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (a - b) / t }')
  fi
  read -r e m u s < <(tail -n1 "$tf")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$run" "$e" "$m" "$u" "$s" "$rc" "$server" "$records" >> "$TIMES"
  say "   $name run $run: ${e}s, CPU $(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')s$([ "$pg" = 1 ] && echo " + server ${server}s"), peak RSS $((m / 1024)) MiB, exit $rc"
  return $rc
}

# ---- Ferry runs ---------------------------------------------------------------------------
# Each run imports into a new target (`import` creates it with the default setup data). The
# --json summary is checked: status succeeded, no finding at all (unless ALLOW_FINDINGS=1),
# every record read and imported (WANT_RECORDS, when set).
check_ferry() {  # NAME JSON -> prints problems; exit 1 when there are some
  python3 - "$1" "$2" "${WANT_RECORDS:-}" "${ALLOW_FINDINGS:-0}" <<'EOF'
import json, sys
name, path, want, allow = sys.argv[1:]
try:
    d = json.load(open(path))
except Exception as e:
    print(f"{name}: no --json summary ({e})"); sys.exit(1)
read = sum(c["read"] for _, c in d["counts"])
imported = sum(c["imported"] for _, c in d["counts"])
problems = []
if d["status"] != "succeeded": problems.append(f"status {d['status']}")
if (d["errors"] or d["warnings"] or d["infos"]) and allow != "1":
    problems.append(f"{d['errors']} errors, {d['warnings']} warnings, {d['infos']} notes")
if want and read != int(want): problems.append(f"read {read} of {want} records")
if want and imported != int(want): problems.append(f"imported {imported} of {want} records")
if problems:
    print(f"{name}: " + "; ".join(problems)); sys.exit(1)
EOF
}
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null || true; }

# The target of one Ferry run: a new SQLite file, or (pg) a new PostgreSQL database that
# `ferry import` creates itself (CREATE DATABASE and the schema are inside the timed run, as
# creating the SQLite file is) and that is dropped after the run.
fresh_target() {  # sqlite|pg -> sets TARGET_DB (and TARGET_PGDB)
  TARGET_PGDB=
  rm -rf "$WORK/ferry"; mkdir -p "$WORK/ferry"
  if [ "$1" = pg ]; then
    TARGET_PGDB="ferry_bench_$$_ferry_$RANDOM$RANDOM"
    PGDBS+=("$TARGET_PGDB")
    TARGET_DB="$PGURL_BASE/$TARGET_PGDB"
  else
    TARGET_DB="$WORK/ferry/target.db"
  fi
}
drop_target() {
  if [ -n "${TARGET_PGDB:-}" ]; then
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $TARGET_PGDB WITH (FORCE)" >/dev/null 2>&1 \
      || note "could not drop database $TARGET_PGDB"
    TARGET_PGDB=
  fi
  rm -rf "$WORK/ferry"
}
label_of() { [ "$1" = pg ] && echo PostgreSQL || echo SQLite; }

# ferry_run NAME KIND RUN ROLLBACK [import args...]: one timed `ferry import` into a fresh
# target of KIND (sqlite|pg); with ROLLBACK=1 (a live run) then one timed `ferry rollback` of it.
ferry_run() {
  local name=$1 kind=$2 run=$3 rollback=$4; shift 4
  local pg=0 msg
  [ "$kind" = pg ] && pg=1
  fresh_target "$kind"
  time_one "$name" "$run" "$RECORDS" "$pg" "$WORK/ferry.json" "$WORK/ferry.err" \
    "$FERRY" import "$@" --db "$TARGET_DB" --json || true
  if ! msg=$(WANT_RECORDS=$RECORDS check_ferry "$name" "$WORK/ferry.json"); then
    note "FINDINGS/PROBLEM $msg (stderr: $(tail -n 2 "$WORK/ferry.err" | tr '\n' ' '))"
    if [ "$run" = 1 ]; then findings_of "$name" "$kind" "$@"; fi
  elif [ "$rollback" = 1 ]; then
    local id rname="ferry rollback of the CSV live run → $(label_of "$kind")"
    id=$(json_field "$WORK/ferry.json" run)
    time_one "$rname" "$run" "$RECORDS" "$pg" "$WORK/rollback.out" "$WORK/rollback.out" \
      "$FERRY" rollback "$id" --db "$TARGET_DB" \
      || note "$rname failed: $(tail -n 3 "$WORK/rollback.out" | tr '\n' ' ')"
  fi
  drop_target
}
# once per measurement, the findings themselves (a test-only run with a log)
findings_of() {  # NAME KIND [import args...]
  local name=$1 kind=$2; shift 2
  fresh_target "$kind"
  "$FERRY" import "$@" --test-only --db "$TARGET_DB" --log "$WORK/findings.csv" >/dev/null 2>&1 || true
  if [ -f "$WORK/findings.csv" ]; then
    tail -n +2 "$WORK/findings.csv" | cut -d, -f2,3 | sort | uniq -c | sort -rn | head -n 10 \
      | while read -r line; do note "  finding: $line"; done || true
    mkdir -p "$ROOT/bench/data/findings"
    cp "$WORK/findings.csv" "$ROOT/bench/data/findings/$(echo "$name" | tr -c 'A-Za-z0-9\n' '_').csv"
    rm -f "$WORK/findings.csv"
  fi
  drop_target
}

# ---- raw loaders --------------------------------------------------------------------------
count_check() {  # NAME "t=n …" -> prints problems; exit 1 when a table misses rows
  python3 - "$1" "$2" "$DATA/manifest.json" <<'EOF'
import json, sys
name, got, manifest = sys.argv[1:]
m = json.load(open(manifest))
c = m["counts"]
want = {"users": c["User"], "contacts": c["Contact"], "contact_emails": c["ContactEmail"],
        "contact_phones": c["ContactPhone"], "ledger": m["ledger_rows"]}
have = dict(kv.split("=") for kv in got.split())
bad = [f"{t}: {have.get(t)} of {want[t]}" for t in m["raw_tables"] if int(have.get(t, -1)) != want[t]]
if bad:
    print(f"{name}: row counts differ: " + ", ".join(bad)); sys.exit(1)
EOF
}
sqlite_import_run() {  # RUN
  local msg counts t
  rm -f "$WORK/raw.db"
  sqlite3 "$WORK/raw.db" < "$RAW/schema.sql"
  time_one "sqlite3 .import" "$1" "$RAW_ROWS" 0 "$WORK/sqlite.out" "$WORK/sqlite.out" \
    sqlite3 -bail "$WORK/raw.db" ".read $WORK/import.sqlite" || note "sqlite3 .import failed: $(head -c 300 "$WORK/sqlite.out")"
  counts=$(for t in "${TABLES[@]}"; do printf '%s=%s ' "$t" "$(sqlite3 "$WORK/raw.db" "SELECT count(*) FROM $t")"; done)
  msg=$(count_check "sqlite3 .import" "$counts") || note "$msg"
  rm -f "$WORK/raw.db"
}
new_pgdb() {  # prints the name of a new database holding the plain tables
  local db="ferry_bench_$$_$1_$RANDOM"
  PGDBS+=("$db")
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
  "${PSQL[@]}" -d "$db" -f "$RAW/schema.sql" >/dev/null
  echo "$db"
}
drop_pgdb() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null || true; }
pg_counts() {
  local t
  for t in "${TABLES[@]}"; do printf '%s=%s ' "$t" "$("${PSQL[@]}" -d "$1" -Atc "SELECT count(*) FROM $t")"; done
}
copy_run() {  # RUN
  local db msg
  db=$(new_pgdb copy)
  time_one "psql \\copy" "$1" "$RAW_ROWS" 1 "$WORK/psql.out" "$WORK/psql.out" \
    "${PSQL[@]}" -d "$db" -f "$WORK/copy.psql" || note "psql \\copy failed: $(head -c 300 "$WORK/psql.out")"
  msg=$(count_check "psql \\copy" "$(pg_counts "$db")") || note "$msg"
  drop_pgdb "$db"
}
pgloader_run() {  # RUN
  local db msg t loads=()
  db=$(new_pgdb pgl)
  for t in "${TABLES[@]}"; do
    sed "s|@PGURL@|$PGURL_BASE/$db|" "$RAW/pgloader/$t.load" > "$WORK/$t.load"
    loads+=("$WORK/$t.load")
  done
  if ! time_one "pgloader" "$1" "$RAW_ROWS" 1 "$WORK/pgloader.out" "$WORK/pgloader.out" \
       pgloader --no-ssl-cert-verification -D "$WORK/pgloader" "${loads[@]}"; then
    note "pgloader failed (exit status above): $(grep -m3 -E 'ERROR|FATAL' "$WORK/pgloader.out" | tr '\n' ' ')"
  fi
  msg=$(count_check "pgloader" "$(pg_counts "$db")") || note "$msg"
  drop_pgdb "$db"
}

# ---- one measurement by key ---------------------------------------------------------------
measure() {  # KEY RUN
  case "$1" in
    sqlite-csv)  ferry_run "Ferry CSV → SQLite, live" sqlite "$2" "$PATHS" "$DATA/csv" ;;
    sqlite-test) ferry_run "Ferry CSV → SQLite, --test-only" sqlite "$2" 0 "$DATA/csv" --test-only ;;
    sqlite-xml)  ferry_run "Ferry XML → SQLite, live" sqlite "$2" 0 "$DATA/xml/bench.xml" ;;
    sqlite-xlsx) ferry_run "Ferry XLSX → SQLite, live" sqlite "$2" 0 "${XLSX_INPUTS[@]}" ;;
    import)      sqlite_import_run "$2" ;;
    pg-csv)      ferry_run "Ferry CSV → PostgreSQL, live" pg "$2" "$PATHS" "$DATA/csv" ;;
    pg-test)     ferry_run "Ferry CSV → PostgreSQL, --test-only" pg "$2" 0 "$DATA/csv" --test-only ;;
    copy)        copy_run "$2" ;;
    pgloader)    pgloader_run "$2" ;;
    cert-sqlite) cert_run sqlite "$2" ;;
    cert-pg)     cert_run pg "$2" ;;
  esac
}

# run_rounds KEY...: --runs rounds, each running every measurement once, in this order.
run_rounds() {
  local run key loads=()
  for run in $(seq 1 "$RUNS"); do
    say "== round $run of $RUNS (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    for key in "$@"; do measure "$key" "$run"; done
  done
  ROUND_LOADS="${loads[*]}"
}

# ---- the report's environment (once) --------------------------------------------------------
export BENCH_FERRY_VERSION="$("$FERRY" --version 2>/dev/null | head -n1) ($commit)"
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
export BENCH_CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
export BENCH_KERNEL=$(uname -sr)

# report SECTION_KEY KIND: writes the section from $TIMES and $NOTES
report() {
  export BENCH_FREE=$(free -h)
  export BENCH_LOAD="load average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after; 1-minute load at the start of each round: $ROUND_LOADS"
  python3 bench/report.py --times "$TIMES" --notes "$NOTES" --manifest "$DATA/manifest.json" \
    --runs "$RUNS" --small "$SMALL" --only "$ONLY" --key "$1" --kind "$2" --results bench/RESULTS.md
}
new_section() {
  TIMES=$WORK/times.tsv; NOTES=$WORK/notes.txt
  : > "$TIMES"; : > "$NOTES"
  [ -n "$PG_NOTE" ] && printf '%s\n' "$PG_NOTE" >> "$NOTES"
  [ -n "$PGLOADER_NOTE" ] && printf '%s\n' "$PGLOADER_NOTE" >> "$NOTES"
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
}

# ---- the shapes ---------------------------------------------------------------------------
GEN_SHA=$(sha256sum bench/generate.py | cut -d' ' -f1)
for SHAPE in ${SHAPES//,/ }; do
  for N in ${SIZES//,/ }; do
    if [ "$SHAPE" = mixed ]; then DATA=$ROOT/bench/data/a$N-s$SEED; else DATA=$ROOT/bench/data/$SHAPE-a$N-s$SEED; fi
    say ""
    say "#### shape $SHAPE, $N accounts"
    if ! python3 - "$DATA/manifest.json" "$GEN_SHA" "$N" "$SEED" "$SHAPE" <<'EOF' 2>/dev/null
import json, sys
m = json.load(open(sys.argv[1]))
ok = (m["generator_sha256"] == sys.argv[2] and m["accounts"] == int(sys.argv[3])
      and m["seed"] == int(sys.argv[4]) and m.get("shape") == sys.argv[5]
      and m["max_sheet_rows"] == 1048575 and m["formats"] == ["csv", "raw", "xlsx", "xml"])
sys.exit(0 if ok else 1)
EOF
    then
      say "== generating $N accounts, shape $SHAPE (seed $SEED) into ${DATA#$ROOT/}"
      python3 bench/generate.py --shape "$SHAPE" --accounts "$N" --seed "$SEED" --out "$DATA"
    else
      say "== reusing ${DATA#$ROOT/} (same generator, same parameters)"
    fi
    mapfile -t XLSX_PARTS < <(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("\n".join(m["xlsx_parts"]))' "$DATA/manifest.json")
    XLSX_INPUTS=()
    for p in "${XLSX_PARTS[@]}"; do XLSX_INPUTS+=("$DATA/xlsx/$p"); done
    mapfile -t TABLES < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["raw_tables"]))' "$DATA/manifest.json")
    RECORDS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$DATA/manifest.json")
    RAW_ROWS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["raw_rows"])' "$DATA/manifest.json")
    RAW=$DATA/raw
    { echo ".mode csv"; for t in "${TABLES[@]}"; do echo ".import '$RAW/$t.csv' $t"; done; } > "$WORK/import.sqlite"
    for t in "${TABLES[@]}"; do echo "\\copy $t FROM '$RAW/$t.csv' WITH (FORMAT csv)"; done > "$WORK/copy.psql"
    export BENCH_DISK=$(du -sh "$DATA"/xml "$DATA"/csv "$DATA"/xlsx "$DATA"/raw 2>/dev/null | sed "s|$DATA/||" | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')

    keys=()
    if want sqlite; then keys+=(sqlite-csv sqlite-test sqlite-xml sqlite-xlsx import); fi
    if [ "$PG_OK" = 1 ]; then
      keys+=(pg-csv pg-test copy)
      [ "$PGLOADER_OK" = 1 ] && keys+=(pgloader)
    fi
    new_section
    run_rounds "${keys[@]}"
    key=$SHAPE-$N
    [ "$SHAPE" = mixed ] && key=$N  # the sections of issues 5-15 were keyed by size alone
    [ "$ONLY" != all ] && key=$key-$ONLY
    report "$key" shape
  done
done

# ---- ferry certification migrate ----------------------------------------------------------------
# bench/generate_cert.py writes DIR/students (the accounts the registrations name: imported
# first, not timed) and DIR/legacy_csv (the legacy certification records: migrated, timed).
cert_run() {  # KIND RUN
  local kind=$1 run=$2 pg=0 msg name="ferry certification migrate → $(label_of "$1")"
  [ "$kind" = pg ] && pg=1
  fresh_target "$kind"
  if ! "$FERRY" import "$DATA/students" --db "$TARGET_DB" --json > "$WORK/students.json" 2> "$WORK/students.err"; then
    note "$name: importing the students failed: $(tail -n 2 "$WORK/students.err" | tr '\n' ' ')"
  fi
  # --add-missing-components: the set has a few registrations for components their program does
  # not contain (seed 002's warning); the option migrates them instead of leaving them out.
  time_one "$name" "$run" "$CERT_RECORDS" "$pg" "$WORK/cert.json" "$WORK/cert.err" \
    "$FERRY" certification migrate "$DATA/legacy_csv" --add-missing-components --db "$TARGET_DB" --json || true
  if ! msg=$(WANT_RECORDS=$CERT_RECORDS ALLOW_FINDINGS=1 check_ferry "$name" "$WORK/cert.json"); then
    note "FINDINGS/PROBLEM $msg (stderr: $(tail -n 2 "$WORK/cert.err" | tr '\n' ' '))"
  elif [ "$run" = 1 ]; then
    note "$name: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d errors, %d warnings, %d notes" % (d["errors"], d["warnings"], d["infos"]))' "$WORK/cert.json") (run 1)"
  fi
  drop_target
}
if [ "$PATHS" = 1 ]; then
  say ""
  say "#### ferry certification migrate, $ENROLLMENTS enrollments"
  if [ ! -f bench/generate_cert.py ]; then
    say "   bench/generate_cert.py is not in this tree: ferry certification migrate not measured"
  else
    DATA=$ROOT/bench/data/c$ENROLLMENTS-s$SEED
    CERT_SHA=$(sha256sum bench/generate_cert.py | cut -d' ' -f1)
    if [ "$(cat "$DATA/.generator_sha256" 2>/dev/null)" != "$CERT_SHA" ] || [ ! -f "$DATA/manifest.json" ]; then
      say "== generating $ENROLLMENTS enrollments (seed $SEED) into ${DATA#$ROOT/}"
      rm -rf "$DATA"
      if python3 bench/generate_cert.py --out "$DATA" --enrollments "$ENROLLMENTS" --seed "$SEED" >/dev/null; then
        echo "$CERT_SHA" > "$DATA/.generator_sha256"
      else
        say "   bench/generate_cert.py failed (above): ferry certification migrate not measured"
        rm -rf "$DATA"
      fi
    else
      say "== reusing ${DATA#$ROOT/} (same generator, same parameters)"
    fi
  fi
  if [ -f bench/generate_cert.py ] && [ -f "$DATA/manifest.json" ]; then
    # the records the migration reads: every row of the legacy CSV files
    CERT_RECORDS=$(cat "$DATA"/legacy_csv/*.csv | python3 -c 'import csv,sys,io; print(sum(1 for _ in csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig"))))')
    CERT_RECORDS=$((CERT_RECORDS - $(ls "$DATA"/legacy_csv/*.csv | wc -l)))  # header rows
    export BENCH_DISK=$(du -sh "$DATA"/students "$DATA"/legacy_csv 2>/dev/null | sed "s|$DATA/||" | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')
    keys=()
    want sqlite && keys+=(cert-sqlite)
    [ "$PG_OK" = 1 ] && keys+=(cert-pg)
    new_section
    run_rounds "${keys[@]}"
    key=cert-$ENROLLMENTS
    [ "$ONLY" != all ] && key=$key-$ONLY
    report "$key" cert
  fi
fi
