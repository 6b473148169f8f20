#!/usr/bin/env bash
# PostgreSQL's own floor for Ferry's target (issue 16): how long the server alone needs to store
# the rows Ferry writes, against `psql \copy` of the raw files (bench/run.sh's yardstick).
#
#   bash bench/floor-pg.sh DATA_DIR [RUNS]      e.g. bench/data/billing-a200000-s1 3
#
# DATA_DIR is a set made by bench/generate.py (csv/ and raw/). Needs psql and pg_dump, and a
# server on 127.0.0.1:5432 with trust authentication for user postgres. Ferry ($FERRY_BIN,
# default target/release/ferry) imports csv/ once into a new database (not timed); every
# non-empty table it wrote is dumped in COPY's binary format (what Ferry itself sends), and its
# schema with pg_dump --schema-only, split into tables, primary keys and the rest (unique
# constraints and secondary indexes). Then, RUNS rounds, round-robin, each into a new database
# whose schema is made first (not timed; a CHECKPOINT is taken before each timed command), timed:
#   \copy          psql \copy of raw/*.csv into the plain tables of raw/schema.sql, as run.sh
#                  does it (same psql flags, one \copy per table, FORMAT csv, autocommit)
#   ferry          \copy (FORMAT binary) of every table Ferry wrote into an empty copy of its
#                  schema with every index, in one transaction: what the server alone needs to
#                  store Ferry's target, the lowest any client could reach
#   ferry-noidx    the same with the primary keys only (no unique constraint, no other index)
#   ferry-idx-after  the same, then the unique constraints and indexes built (in the same
#                  transaction, timed together)
#   ferry-src      as ferry, with `src_file` stored as an integer (what interning it would save)
#   ferry-noprov   as ferry, without the provenance columns (run_id src_file src_sheet src_row
#                  src_col rec_hash) in the entity tables that carry them all; the journal and
#                  derived tables keep their run_id: the most dropping provenance could buy
#   ferry-bare     both: primary keys only and no provenance columns — the least the server
#                  could spend on Ferry's rows and their ids while keeping them
#   live           (FLOOR_LIVE=1, the default) the real `ferry import DATA/csv --db postgres://…`
#                  into a database it creates, as run.sh measures it
# For each: wall and client CPU (/usr/bin/time), the server's CPU as run.sh samples it (every
# process named postgres, reaped children included, so parallel index-build workers count, and
# so does anything else the server did meanwhile), and the CPU of the psql session's own backend
# (read from /proc/self/stat by the backend after COMMIT; it misses parallel workers and the WAL
# writer). Before each round the script waits (up to FLOOR_WAIT s, default 1200) for a 1-minute
# load average of at most FLOOR_MAX_LOAD (default 3), and records it either way.
set -euo pipefail
DATA=$(cd "${1:?usage: bench/floor-pg.sh DATA_DIR [RUNS]}" && pwd)
RUNS=${2:-3}
cd "$(dirname "$0")/.."
FERRY=${FERRY_BIN:-target/release/ferry}
LIVE=${FLOOR_LIVE:-1}
MAX_LOAD=${FLOOR_MAX_LOAD:-3}
WAIT=${FLOOR_WAIT:-1200}
PROV="run_id src_file src_sheet src_row src_col rec_hash"
[ -d "$DATA/csv" ] && [ -d "$DATA/raw" ] || { echo "floor-pg.sh: $DATA has no csv/ or raw/" >&2; exit 2; }
[ -x "$FERRY" ] || { echo "floor-pg.sh: $FERRY is missing (cargo build --release)" >&2; exit 2; }
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "floor-pg.sh: no server on 127.0.0.1:5432" >&2; exit 2; }
mapfile -t TABLES_RAW < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["raw_tables"]))' "$DATA/manifest.json")
ROWS_RAW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["raw_rows"])' "$DATA/manifest.json")
RECORDS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$DATA/manifest.json")
PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -X -q -v ON_ERROR_STOP=1)
PGURL_BASE=postgresql://postgres@127.0.0.1:5432
CLK_TCK=$(getconf CLK_TCK)
W=$(mktemp -d)
DBS=()
cleanup() {
  for db in "${DBS[@]}"; do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$W"
}
trap cleanup EXIT
# a private copy, so that a rebuild meanwhile cannot change what is measured
cp "$FERRY" "$W/ferry-bin"; FERRY=$W/ferry-bin
N=0
new_db() {  # sets DB to a new database's name (created unless $1 = bare)
  N=$((N + 1)); DB="ferry_floor_$$_$N"
  DBS+=("$DB")
  [ "${1:-}" = bare ] || "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" >/dev/null
}
drop_db() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }
q() { "${PSQL[@]}" -d "$1" -Atc "$2"; }
ferry_ok() {  # JSON -> exit 1 unless the run succeeded without findings
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j["status"]=="succeeded" and j["errors"]==0 and j["warnings"]==0 else 1)' "$1"
}

echo "== Ferry imports $DATA/csv once (not timed)" >&2
new_db bare; SRC=$DB
"$FERRY" import "$DATA/csv" --db "$PGURL_BASE/$SRC" --json > "$W/import.json" 2> "$W/import.err" \
  || { echo "floor-pg.sh: ferry import failed: $(tail -n 3 "$W/import.err")" >&2; exit 1; }
ferry_ok "$W/import.json" || { echo "floor-pg.sh: the import had findings or failed" >&2; exit 1; }

# every table the import wrote (rows now; a copy of the schema has none), and its rows
mapfile -t TABLES < <(q "$SRC" "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
FT=(); ROWS_FERRY=0
for t in "${TABLES[@]}"; do
  n=$(q "$SRC" "SELECT count(*) FROM public.$t")
  if [ "$n" -gt 0 ]; then FT+=("$t"); ROWS_FERRY=$((ROWS_FERRY + n)); printf '%s %s\n' "$t" "$n" >> "$W/rows"; fi
done
count_sql() { local t s=; for t in "${FT[@]}"; do s="$s${s:+ + }(SELECT count(*) FROM public.$t)"; done; echo "SELECT $s"; }
COUNT_FERRY=$(count_sql)

# schema_of DB PREFIX: PREFIX.pre (tables, sequences), PREFIX.pk (primary keys), PREFIX.sec
# (everything else in pg_dump's post-data section: unique constraints, indexes)
schema_of() {
  pg_dump -h 127.0.0.1 -p 5432 -U postgres --schema-only --no-owner --section=pre-data "$1" > "$2.pre"
  pg_dump -h 127.0.0.1 -p 5432 -U postgres --schema-only --no-owner --section=post-data "$1" > "$W/post.sql"
  python3 - "$W/post.sql" "$2" <<'EOF'
import re, sys
text = "\n".join(l for l in open(sys.argv[1]).read().splitlines() if not l.startswith("--"))
pk, sec = [], []
for s in (s.strip() for s in text.split(";\n")):
    if not s: continue
    if re.match(r"(SET|SELECT pg_catalog\.set_config)\b", s): continue
    (pk if "PRIMARY KEY" in s else sec).append(s + ";\n")
open(sys.argv[2] + ".pk", "w").write("".join(pk))
open(sys.argv[2] + ".sec", "w").write("".join(sec))
EOF
}
schema_of "$SRC" "$W/ferry"

# the variants' schemas: altered in a scratch database, dumped again (pg_dump writes no dropped column)
# the provenance columns are dropped from the tables that carry all of them (the entity tables,
# which have rec_hash); the journal and derived tables (run_count, invoice, ledger_line, …) keep
# their run_id, which rollback needs
PROV_TABLES=" $(q "$SRC" "SELECT quote_ident(c.relname) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attname = 'rec_hash' AND NOT a.attisdropped" | tr '\n' ' ') "
is_prov() { [[ "$PROV_TABLES" == *" $1 "* ]] && [[ " $PROV " == *" $2 "* ]]; }  # TABLE COLUMN
cols_of() {  # TABLE MODE(src|noprov) -> the SELECT list of the dump
  local t=$1 mode=$2
  q "$SRC" "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = 'public.$t'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum" |
  while read -r c; do
    if [ "$mode" = src ] && [ "$c" = src_file ]; then printf '(CASE WHEN src_file IS NULL THEN NULL ELSE 1 END)::integer,'
    elif [ "$mode" = noprov ] && is_prov "$t" "$c"; then :
    else printf '%s,' "$c"; fi
  done | sed 's/,$//'
}
variant_schema() {  # MODE
  local db t c alter=
  new_db; db=$DB
  cat "$W/ferry.pre" "$W/ferry.pk" "$W/ferry.sec" | "${PSQL[@]}" -d "$db" >/dev/null
  for t in "${TABLES[@]}"; do
    for c in $(q "$SRC" "SELECT attname FROM pg_attribute WHERE attrelid = 'public.$t'::regclass AND attnum > 0 AND NOT attisdropped"); do
      if [ "$1" = src ] && [ "$c" = src_file ]; then alter="${alter}ALTER TABLE public.$t ALTER COLUMN src_file TYPE integer USING NULL;"
      elif [ "$1" = noprov ] && is_prov "$t" "$c"; then alter="${alter}ALTER TABLE public.$t DROP COLUMN $c;"; fi
    done
  done
  "${PSQL[@]}" -d "$db" -c "$alter" >/dev/null
  schema_of "$db" "$W/$1"
  drop_db "$db"
}
variant_schema src
variant_schema noprov
idx_names() { grep -o '\(INDEX\|CONSTRAINT\) [a-z0-9_]*' "$1" | cut -d' ' -f2 | sort; }
GONE=$(comm -23 <(idx_names "$W/ferry.sec") <(idx_names "$W/noprov.sec") | tr '\n' ' ')
SCHEMA_NOTE="schema: $(grep -c '^CREATE TABLE' "$W/ferry.pre") tables, $(grep -c ';$' "$W/ferry.pk") primary keys, $(grep -c ';$' "$W/ferry.sec") other constraints and indexes; without provenance $(grep -c ';$' "$W/noprov.sec") (gone: ${GONE:-none})"
echo "   $SCHEMA_NOTE" >&2

echo "== dumping ${#FT[@]} tables, $ROWS_FERRY rows (binary COPY; not timed)" >&2
mkdir -p "$W/dump"
for t in "${FT[@]}"; do
  f=$(echo "$t" | tr -dc 'A-Za-z0-9_')
  echo "\\copy public.$t TO '$W/dump/$f.bin' WITH (FORMAT binary)"
  echo "\\copy (SELECT $(cols_of "$t" src) FROM public.$t) TO '$W/dump/$f.src.bin' WITH (FORMAT binary)"
  echo "\\copy (SELECT $(cols_of "$t" noprov) FROM public.$t) TO '$W/dump/$f.noprov.bin' WITH (FORMAT binary)"
done > "$W/dump.psql"
"${PSQL[@]}" -d "$SRC" -f "$W/dump.psql" >/dev/null
mib() { find "$W/dump" "$@" -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f MiB", s / 1048576 }'; }
DUMP_SIZES="Ferry's rows $(mib -name '*.bin' ! -name '*.src.bin' ! -name '*.noprov.bin') in binary COPY format ($(mib -name '*.src.bin') with src_file as an integer, $(mib -name '*.noprov.bin') without provenance); raw CSVs $(for t in "${TABLES_RAW[@]}"; do stat -c %s "$DATA/raw/$t.csv"; done | awk '{ s += $1 } END { printf "%.0f MiB", s / 1048576 }')"
echo "   $DUMP_SIZES" >&2
drop_db "$SRC"

# the timed psql scripts; the backend prints its own CPU ticks (user, system) after COMMIT
BACKEND="SELECT 'backend_ticks=' || (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint) FROM pg_read_file('/proc/self/stat') s;"
load_script() {  # SUFFIX(''|.src|.noprov) INDEXES(''|file) -> psql script
  local t f
  echo "BEGIN;"
  for t in "${FT[@]}"; do f=$(echo "$t" | tr -dc 'A-Za-z0-9_'); echo "\\copy public.$t FROM '$W/dump/$f$1.bin' WITH (FORMAT binary)"; done
  [ -n "$2" ] && cat "$2"
  echo "COMMIT;"
  echo "$BACKEND"
}
load_script "" "" > "$W/ferry.psql"
load_script "" "$W/ferry.sec" > "$W/ferry-idx-after.psql"
load_script .src "" > "$W/ferry-src.psql"
load_script .noprov "" > "$W/ferry-noprov.psql"
{ for t in "${TABLES_RAW[@]}"; do echo "\\copy $t FROM '$DATA/raw/$t.csv' WITH (FORMAT csv)"; done; echo "$BACKEND"; } > "$W/copy.psql"
COUNT_RAW="SELECT $(for t in "${TABLES_RAW[@]}"; do printf '(SELECT count(*) FROM %s) + ' "$t"; done) 0"

# as run.sh: every process named postgres, with its reaped children. Sampled 0.5 s after the last
# session ended: a backend that exits while the sample reads /proc (after the postmaster's line,
# before its own) is counted nowhere, which made some samples taken at once read about 0.
pg_cpu_ticks() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '$2 == "(postgres)" { s += $14 + $15 + $16 + $17 } END { print s + 0 }'
}
TIMES=$W/times
# one NAME -> a fresh database with the measurement's schema (not timed), CHECKPOINT, the timed
# command, the row count checked, the database dropped
one() {
  local name=$1 db url= want count before after rc=0 backend=-
  case $name in
    '\copy') new_db; db=$DB; "${PSQL[@]}" -d "$db" -f "$DATA/raw/schema.sql" >/dev/null ;;
    live) new_db bare; db=$DB; url=$PGURL_BASE/$db ;;
    *) new_db; db=$DB
       case $name in
         ferry) cat "$W/ferry.pre" "$W/ferry.pk" "$W/ferry.sec" ;;
         ferry-noidx|ferry-idx-after) cat "$W/ferry.pre" "$W/ferry.pk" ;;
         ferry-src) cat "$W/src.pre" "$W/src.pk" "$W/src.sec" ;;
         ferry-noprov) cat "$W/noprov.pre" "$W/noprov.pk" "$W/noprov.sec" ;;
         ferry-bare) cat "$W/noprov.pre" "$W/noprov.pk" ;;
       esac | "${PSQL[@]}" -d "$db" >/dev/null ;;
  esac
  "${PSQL[@]}" -d postgres -c CHECKPOINT >/dev/null
  sleep 0.5; before=$(pg_cpu_ticks)
  case $name in
    '\copy') /usr/bin/time -o "$W/tf" -f '%e %U %S' "${PSQL[@]}" -d "$db" -f "$W/copy.psql" > "$W/out" 2>&1 || rc=$? ;;
    live) /usr/bin/time -o "$W/tf" -f '%e %U %S' "$FERRY" import "$DATA/csv" --db "$url" --json > "$W/out" 2> "$W/err" || rc=$? ;;
    ferry-noidx) /usr/bin/time -o "$W/tf" -f '%e %U %S' "${PSQL[@]}" -d "$db" -f "$W/ferry.psql" > "$W/out" 2>&1 || rc=$? ;;
    ferry-bare) /usr/bin/time -o "$W/tf" -f '%e %U %S' "${PSQL[@]}" -d "$db" -f "$W/ferry-noprov.psql" > "$W/out" 2>&1 || rc=$? ;;
    *) /usr/bin/time -o "$W/tf" -f '%e %U %S' "${PSQL[@]}" -d "$db" -f "$W/$name.psql" > "$W/out" 2>&1 || rc=$? ;;
  esac
  sleep 0.5; after=$(pg_cpu_ticks)
  [ "$rc" = 0 ] || { echo "floor-pg.sh: $name failed: $(tail -c 400 "$W/out") $(tail -n 3 "$W/err" 2>/dev/null)" >&2; exit 1; }
  if [ "$name" = live ]; then
    ferry_ok "$W/out" || { echo "floor-pg.sh: ferry live import had findings or failed" >&2; exit 1; }
  else
    backend=$(sed -n 's/.*backend_ticks=\([0-9]*\).*/\1/p' "$W/out" | tail -n1)
    backend=$(awk -v b="$backend" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", b / t }')
    if [ "$name" = '\copy' ]; then want=$ROWS_RAW; count=$(q "$db" "$COUNT_RAW"); else want=$ROWS_FERRY; count=$(q "$db" "$COUNT_FERRY"); fi
    [ "$count" = "$want" ] || { echo "floor-pg.sh: $name stored $count rows of $want" >&2; exit 1; }
  fi
  drop_db "$db"
  read -r e u s < <(tail -n1 "$W/tf")
  local server; server=$(awk -v a="$after" -v b="$before" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (a - b) / t }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$ROUND" "$e" "$u" "$s" "$server" "$backend" >> "$TIMES"
  printf '   %-16s round %s: wall %6.2f s, client CPU %5.2f s, server CPU %6.2f s, backend %s s\n' \
    "$name" "$ROUND" "$e" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "$server" "$backend" >&2
}
load1() { cut -d' ' -f1 /proc/loadavg; }
wait_load() {
  local waited=0
  while awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN { exit !(l > m) }'; do
    [ "$waited" -ge "$WAIT" ] && { echo "   load $(load1) still above $MAX_LOAD after ${WAIT}s; measuring anyway" >&2; return; }
    echo "   load $(load1) > $MAX_LOAD: waiting 30 s" >&2; sleep 30; waited=$((waited + 30))
  done
}
NAMES=('\copy' ferry ferry-noidx ferry-idx-after ferry-src ferry-noprov ferry-bare)
[ "$LIVE" = 1 ] && NAMES+=(live)
LOADS=
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ROUND in $(seq "$RUNS"); do
  wait_load
  LOADS="$LOADS $(load1)"
  echo "== round $ROUND/$RUNS (load $(load1))" >&2
  for n in "${NAMES[@]}"; do one "$n"; done
done
echo "data: $DATA; $RECORDS records; raw rows $ROWS_RAW; Ferry's target $ROWS_FERRY rows in ${#FT[@]} tables"
echo "load average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after; 1-minute load at the start of each round:$LOADS"
echo "$SCHEMA_NOTE"
echo "$DUMP_SIZES"
echo "rows per table: $(tr '\n' ' ' < "$W/rows")"
echo
echo "each run (name, round, wall s, user s, sys s, server CPU s (all postgres), backend CPU s):"
sed 's/^/    /' "$TIMES"
echo
python3 - "$TIMES" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
label = {"\\copy": "`psql \\copy` of the raw CSVs (run.sh's yardstick)",
         "ferry": "storing Ferry's target: every index during the load",
         "ferry-noidx": "… primary keys only (no unique constraint, no other index)",
         "ferry-idx-after": "… primary keys during the load, then the rest built",
         "ferry-src": "… every index, `src_file` as an integer",
         "ferry-noprov": "… every index, no provenance columns",
         "ferry-bare": "… primary keys only and no provenance columns",
         "live": "Ferry CSV → PostgreSQL, live (`ferry import`)"}
med = {}
for n in dict.fromkeys(r[0] for r in rows):
    rs = [r for r in rows if r[0] == n]
    m = lambda f: statistics.median(f(r) for r in rs)
    med[n] = (m(lambda r: float(r[2])), m(lambda r: float(r[3]) + float(r[4])), m(lambda r: float(r[5])),
              m(lambda r: float(r[3]) + float(r[4]) + float(r[5])),
              None if rs[0][6] == "-" else m(lambda r: float(r[6])))
c = med["\\copy"]
print("| what (median) | wall s | client CPU s | server CPU s | client + server CPU s | backend CPU s | wall / `\\copy` | CPU / `\\copy` |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for n, (w, cl, sv, tot, be) in med.items():
    print(f"| {label.get(n, n)} | {w:.2f} | {cl:.2f} | {sv:.2f} | {tot:.2f} | {'—' if be is None else f'{be:.2f}'} | {w / c[0]:.2f}× | {tot / c[3]:.2f}× |")
if "live" in med:
    f = med["ferry"]; l = med["live"]
    print(f"\nFerry live / the floor (ferry): {l[0] / f[0]:.2f}× by wall, {l[3] / f[3]:.2f}× by CPU; "
          f"the floor is {f[0] / l[0] * 100:.0f} % of the live import's wall time")
EOF
