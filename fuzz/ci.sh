#!/usr/bin/env bash
# Fuzz smoke run for CI: builds every target and runs each for
# ${FUZZ_SECONDS:-30} s (FUZZ_TARGETS="a b" for a subset) with -rss_limit_mb=512 -timeout=5; exits 1 on any
# crash, timeout or OOM (the input is kept in fuzz/artifacts/<target>/, the
# full log in fuzz/ci-logs/<target>.log). Works on the stable toolchain (no
# nightly): --sanitizer none. Non-interactive (stdin is /dev/null).
#
# Seeds: corpus-run/<t> (new inputs, git-ignored), corpus/<t>, regressions/<t>;
# the regression inputs run first, so a harness regression fails at once.
set -euo pipefail
cd "$(dirname "$0")"
SECS="${FUZZ_SECONDS:-30}"
export CARGO_TERM_COLOR=never
start=$(date +%s)
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "=== installing cargo-fuzz"
  cargo install cargo-fuzz --locked </dev/null
fi
# cargo-fuzz passes -Z flags only with a sanitizer; with --sanitizer none the
# build is plain stable cargo plus libfuzzer-sys' own C++ build.
cargo fuzz build -O --sanitizer none </dev/null
mkdir -p corpus-run artifacts ci-logs
failed=()
# FUZZ_TARGETS="a b" restricts the run to some targets.
for t in ${FUZZ_TARGETS:-$(cargo fuzz list </dev/null)}; do
  echo "=== fuzz $t for ${SECS}s"
  mkdir -p "corpus-run/$t" "artifacts/$t"
  seeds=("corpus-run/$t" "corpus/$t")
  [ -d "regressions/$t" ] && seeds+=("regressions/$t")
  before=$(find "artifacts/$t" -type f | wc -l)
  touch "ci-logs/$t.log.start"
  rc=0
  cargo fuzz run -O --sanitizer none "$t" "${seeds[@]}" -- \
    -max_total_time="$SECS" -rss_limit_mb=512 -timeout=5 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 \
    </dev/null >"ci-logs/$t.log" 2>&1 || rc=$?
  # A "slow unit" is only a finding if it is slow again: this machine is
  # shared and can stall a process for seconds (a 41 s unit once ran in
  # 0.2 s on replay). Replayed alone under the same 5 s timeout; kept (and
  # failed) if it crashes or takes longer, dropped with a note if not.
  for f in $(find "artifacts/$t" -type f -name 'slow-unit-*' -newer "ci-logs/$t.log.start" 2>/dev/null); do
    t0=$(date +%s%N)
    if timeout 30 cargo fuzz run -O --sanitizer none "$t" "$f" -- -timeout=5 -runs=1 \
      </dev/null >>"ci-logs/$t.log" 2>&1; then
      ms=$(( ($(date +%s%N) - t0) / 1000000 ))
      if [ "$ms" -lt 5000 ]; then
        echo "note: $t: slow unit $(basename "$f") not slow on replay (${ms} ms): a machine stall, dropped"
        rm -f "$f"
      fi
    fi
  done
  after=$(find "artifacts/$t" -type f | wc -l)
  grep -h '^stat::number_of_executed_units\|^stat::average_exec_per_sec\|^stat::peak_rss_mb' \
    "ci-logs/$t.log" | tr '\n' ' ' || true
  echo
  if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ]; then
    echo "!!! $t: exit code $rc, new artifacts: $((after - before))"
    grep -h -A6 'panicked at\|ERROR: libFuzzer\|SUMMARY:\|Test unit written' "ci-logs/$t.log" | head -n 40 || true
    failed+=("$t")
  fi
done
echo "fuzz: $(($(date +%s) - start)) s in total"
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz findings in: ${failed[*]} (inputs under fuzz/artifacts/<target>/, logs under fuzz/ci-logs/)"
  exit 1
fi
echo "fuzz: no findings"
