#!/usr/bin/env bash
# Dumps a target's certification tables (every column, ids included) and its run journal's
# counters, in a stable order: bash bench/notes/cert_dump.sh DB (a SQLite file or a postgres URL).
DB=$1
q() { if [[ $DB == postgres* ]]; then psql "$DB" -qAtF'|' -c "$1"; else sqlite3 -separator '|' "$DB" "$1"; fi; }
for t in cert_program cert_component cert_program_component cert_registration cert_enrollment; do
  echo "== $t"; q "SELECT * FROM $t ORDER BY id"
done
echo "== run_count"; q "SELECT * FROM run_count ORDER BY 1, 2" 2>/dev/null
echo "== run"; q "SELECT id, kind, mode, status, errors, warnings, infos FROM run ORDER BY id" 2>/dev/null
