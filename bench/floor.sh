#!/usr/bin/env bash
# SQLite's own floor for Ferry's target (issue 16): how much of an import's time the database
# itself needs to store the rows Ferry writes, against the rows `sqlite3 .import` writes.
#
#   bash bench/floor.sh DATA_DIR [RUNS]      e.g. bench/data/accounts-a200000-s1 3
#
# DATA_DIR is a set made by bench/generate.py (csv/ and raw/). Ferry ($FERRY_BIN, default
# target/release/ferry) imports csv/ once into a scratch target, and sqlite3 .import loads raw/
# once into plain tables (neither timed). Then, RUNS rounds, round-robin, each into a new file
# with the same settings Ferry uses (WAL, synchronous=NORMAL, one transaction), timed:
#   raw         INSERT … SELECT of the plain tables into empty plain tables (no keys, no indexes)
#   ferry       INSERT … SELECT of every table the import wrote into an empty copy of Ferry's
#               schema (its key and secondary indexes, provenance columns, journal rows)
#   ferry-noidx the same without any index but the rowid
#   ferry-src   the same with indexes, `src_file` stored as a small integer (what interning it
#               as an id would save)
#   .import     sqlite3 .import of the raw CSVs (CSV parsing + storing), the bench's yardstick
# No parsing, validation or hashing is in the INSERT … SELECT figures: they are what SQLite
# alone costs, so `ferry / .import` is the lowest ratio any build of Ferry could reach while
# writing this target from one thread.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: bench/floor.sh DATA_DIR [RUNS]}
RUNS=${2:-3}
FERRY=${FERRY_BIN:-target/release/ferry}
[ -d "$DATA/csv" ] && [ -d "$DATA/raw" ] || { echo "floor.sh: $DATA has no csv/ or raw/" >&2; exit 2; }
[ -x "$FERRY" ] || { echo "floor.sh: $FERRY is missing (cargo build --release)" >&2; exit 2; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
TABLES_RAW=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["raw_tables"]))' "$DATA/manifest.json")

echo "== Ferry imports $DATA/csv once (not timed)" >&2
"$FERRY" import "$DATA/csv" --db "$W/ferry.db" --json > "$W/import.json" 2> "$W/import.err"
sqlite3 "$W/ferry.db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
sqlite3 "$W/ferry.db" .schema > "$W/schema.sql"
grep -v '^CREATE \(UNIQUE \)\?INDEX' "$W/schema.sql" > "$W/schema-noidx.sql"
for v in schema schema-noidx; do sqlite3 "$W/$v.db" < "$W/$v.sql"; done
# every table the import wrote (rows now, none in a fresh target's copy)
TABLES_FERRY=$(for t in $(sqlite3 "$W/ferry.db" "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"); do
  if [ "$(sqlite3 "$W/ferry.db" "SELECT count(*) FROM \"$t\"")" -gt 0 ]; then printf '%s ' "$t"; fi; done)
ROWS_FERRY=$(for t in $TABLES_FERRY; do sqlite3 "$W/ferry.db" "SELECT count(*) FROM \"$t\""; done | awk '{ n += $1 } END { print n }')

echo "== sqlite3 .import of $DATA/raw once (not timed)" >&2
sqlite3 "$W/raw.db" < "$DATA/raw/schema.sql"
sqlite3 "$W/plain.db" < "$DATA/raw/schema.sql"
{ echo ".mode csv"; for t in $TABLES_RAW; do echo ".import '$DATA/raw/$t.csv' $t"; done; } > "$W/import.sqlite"
sqlite3 -bail "$W/raw.db" ".read $W/import.sqlite"
ROWS_RAW=$(for t in $TABLES_RAW; do sqlite3 "$W/raw.db" "SELECT count(*) FROM $t"; done | awk '{ n += $1 } END { print n }')

select_of() {  # DB TABLE MODE -> the SELECT list, every column named (cols; src: src_file as 1).
  # Named columns, never `*`: SQLite copies a `SELECT *` of an identical table record by record
  # (its transfer optimisation), which no real import could do.
  sqlite3 "$1" "SELECT name FROM pragma_table_info('$2') ORDER BY cid" | while read -r c; do
    if [ "$3" = src ] && [ "$c" = src_file ]; then printf '1,'; else printf '"%s",' "$c"; fi
  done | sed 's/,$//'
}
copy_sql() {  # SOURCE TABLES MODE -> SQL
  echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; ATTACH '$1' AS s; BEGIN;"
  for t in $2; do echo "INSERT INTO main.\"$t\" SELECT $(select_of "$1" "$t" "$3") FROM s.\"$t\";"; done
  echo "COMMIT;"
}
copy_sql "$W/raw.db" "$TABLES_RAW" cols > "$W/raw.sql"
copy_sql "$W/ferry.db" "$TABLES_FERRY" cols > "$W/ferry.sql"
copy_sql "$W/ferry.db" "$TABLES_FERRY" src > "$W/ferry-src.sql"

TIMES=$W/times
one() {  # NAME TEMPLATE_DB SQL_OR_-   (- = .import)
  rm -f "$W/t.db" "$W/t.db-wal" "$W/t.db-shm"; cp "$2" "$W/t.db"
  if [ "$3" = - ]; then
    /usr/bin/time -o "$W/tf" -f '%e %U %S' sqlite3 -bail "$W/t.db" ".read $W/import.sqlite" > /dev/null
  else
    /usr/bin/time -o "$W/tf" -f '%e %U %S' sqlite3 -bail "$W/t.db" < "$3" > /dev/null
  fi
  read -r e u s < <(tail -n1 "$W/tf"); echo "$1 $e $u $s" >> "$TIMES"
}
for r in $(seq "$RUNS"); do
  echo "== round $r/$RUNS (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  one raw "$W/plain.db" "$W/raw.sql"
  one ferry "$W/schema.db" "$W/ferry.sql"
  one ferry-noidx "$W/schema-noidx.db" "$W/ferry.sql"
  one ferry-src "$W/schema.db" "$W/ferry-src.sql"
  one .import "$W/plain.db" -
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rows: Ferry's target $ROWS_FERRY in $(echo $TABLES_FERRY | wc -w) tables; raw $ROWS_RAW"
python3 - "$TIMES" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for n in dict.fromkeys(r[0] for r in rows):
    med[n] = (statistics.median(float(r[1]) for r in rows if r[0] == n),
              statistics.median(float(r[2]) + float(r[3]) for r in rows if r[0] == n))
imp = med[".import"]
print("| what (median) | wall s | CPU s | CPU / .import | wall / .import |")
print("|---|---:|---:|---:|---:|")
for n, (w, c) in med.items():
    print(f"| {n} | {w:.2f} | {c:.2f} | {c / imp[1]:.2f}× | {w / imp[0]:.2f}× |")
EOF
