#!/usr/bin/env bash
# Minimizes the corpus of one fuzz target with `cargo fuzz cmin` (only inputs that add coverage
# stay). When it is still over CAP_BYTES (default 2 MB), it is capped: the seeds (seed-*, see
# seeds.py) and the inputs up to MAX_BYTES (default 8 KiB) are kept and minimized again.
# Run from anywhere: fuzz/cmin.sh xml
set -euo pipefail
cd "$(dirname "$0")"
target=$1
cap=${CAP_BYTES:-2000000}
max=${MAX_BYTES:-8192}
cmin() {
  RUSTC_BOOTSTRAP=1 cargo fuzz cmin "$target" "corpus/$target" -- -rss_limit_mb=1024 -timeout=10
}
size() { du -sb "corpus/$target" | cut -f1; }
cmin
if [ "$(size)" -gt "$cap" ]; then
  keep=$(mktemp -d)
  find "corpus/$target" -type f \( -name 'seed-*' -o -size "-$((max + 1))c" \) -exec cp {} "$keep/" \;
  rm -rf "corpus/$target"
  mv "$keep" "corpus/$target"
  chmod 755 "corpus/$target"
  cmin
fi
echo "corpus/$target: $(find "corpus/$target" -type f | wc -l) files, $(size) bytes"
