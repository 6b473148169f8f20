#!/usr/bin/env bash
# Times the non-import paths of issue 16 (direction 4) for one binary on one backend:
#   bash bench/notes/bench_paths.sh BIN sqlite|pg CERT_DIR [IMPORT_CSV_DIR]
# prints one line per step: "<step> <wall s> <user+sys s> <maxrss KiB>".
set -uo pipefail
BIN=$1 BACKEND=$2 CERT=$3 IMPORT=${4:-}
W=$(mktemp -d /tmp/benchpaths.XXXXXX)
PGDB="ferry_i16bulk_$$"
db() { # a fresh target named $1
  if [ "$BACKEND" = pg ]; then
    psql -h 127.0.0.1 -U postgres -qAtc "DROP DATABASE IF EXISTS ${PGDB}_$1 WITH (FORCE)" >/dev/null
    echo "postgresql://postgres@127.0.0.1:5432/${PGDB}_$1"
  else echo "$W/$1.db"; fi
}
t() { # step name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$W/time" "$@" > "$W/out" 2> "$W/err" || { echo "$name FAILED rc=$?"; tail -3 "$W/err"; }
  read -r e u s m < "$W/time"
  printf '%-22s %6.2f s wall %6.2f s cpu %7d KiB\n' "$name" "$e" "$(echo "$u + $s" | bc)" "$m"
}
run_of() { # the target's latest run
  if [ "$BACKEND" = pg ]; then psql "$1" -qAtc "SELECT max(id) FROM run"; else sqlite3 "$1" "SELECT max(id) FROM run"; fi; }
D=$(db cert)
"$BIN" import "$CERT/students" --db "$D" --no-backup > /dev/null 2>&1
t migrate "$BIN" certification migrate "$CERT/legacy_csv" --db "$D" --no-backup --json
R=$(run_of "$D")
t rollback-migrate "$BIN" rollback "$R" --db "$D"
if [ -n "$IMPORT" ]; then
  D2=$(db imp)
  "$BIN" import "$IMPORT" --db "$D2" --no-backup > /dev/null 2>&1
  R=$(run_of "$D2")
  t upgrade-check "$BIN" upgrade check --db "$D2"
  t rollback-import "$BIN" rollback "$R" --db "$D2"
fi
if [ "$BACKEND" = pg ]; then
  for x in cert imp; do psql -h 127.0.0.1 -U postgres -qAtc "DROP DATABASE IF EXISTS ${PGDB}_$x WITH (FORCE)" >/dev/null; done
fi
rm -rf "$W"
