#!/usr/bin/env bash
# Fuzz smoke run for CI: builds every target and runs each for
# ${FUZZ_SECONDS:-30} s; fails on any crash, timeout or OOM.
# Works on the stable toolchain (no nightly): --sanitizer none.
set -euo pipefail
cd "$(dirname "$0")"
SECS="${FUZZ_SECONDS:-30}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# cargo-fuzz passes -Z flags only with a sanitizer; with --sanitizer none the
# build is plain stable cargo plus libfuzzer-sys' own C++ build.
cargo fuzz build -O --sanitizer none
mkdir -p corpus-run artifacts
failed=()
for t in $(cargo fuzz list); do
  echo "=== fuzz $t for ${SECS}s"
  # Seeds are read from corpus/<t> and regressions/<t>; new inputs go to
  # corpus-run/<t> (git-ignored) so the checked-in corpus stays small.
  mkdir -p "corpus-run/$t" "artifacts/$t"
  seeds=("corpus-run/$t" "corpus/$t")
  [ -d "regressions/$t" ] && seeds+=("regressions/$t")
  if ! cargo fuzz run -O --sanitizer none "$t" "${seeds[@]}" -- \
      -max_total_time="$SECS" -rss_limit_mb=512 -timeout=5 \
      -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>&1 | tail -n 25; then
    failed+=("$t")
  fi
done
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz findings in: ${failed[*]} (inputs under fuzz/artifacts/<target>/)"
  exit 1
fi
echo "fuzz: no findings"
