#!/usr/bin/env bash
# Long fuzzing campaign: every target for ${FUZZ_SECONDS:-600} s,
# ${JOBS:-2} targets at a time, niced, -rss_limit_mb=512 -timeout=5.
#
#   cd fuzz && cargo fuzz build -O --sanitizer none && JOBS=2 ./campaign.sh [target...]
#
# The built binaries are copied to campaign-bin/ first, so a rebuild while the
# campaign runs (other crates changing) does not mix builds. Logs go to
# campaign-logs/<t>.log (git-ignored), findings to artifacts/<t>/. A target
# that stops early on a finding is restarted for the rest of its time (at most
# 5 restarts); campaign-logs/<t>.runs lists "<exit code> <seconds>" per run.
# Summary: ./campaign.sh --summary (parses the final stats of every log).
set -uo pipefail
cd "$(dirname "$0")"
SECS="${FUZZ_SECONDS:-600}"
JOBS="${JOBS:-2}"
BIN_DIR="target/x86_64-unknown-linux-gnu/release"

summary() {
  printf '| target | execs/s | total execs | run time (s) | peak RSS (MB) | runs (exit codes) | artifacts |\n'
  printf '|---|---|---|---|---|---|---|\n'
  for log in campaign-logs/*.log; do
    t=$(basename "$log" .log)
    [ "$t" = build ] && continue
    execs=$(grep -h '^stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
    peak=$(grep -h '^stat::peak_rss_mb' "$log" | awk '$2>m {m=$2} END {print m+0}')
    secs=$(awk '{s+=$2} END {print s+0}' "campaign-logs/$t.runs" 2>/dev/null)
    codes=$(awk '{printf "%s%s", sep, $1; sep=","} END {print ""}' "campaign-logs/$t.runs" 2>/dev/null)
    rate=$(awk -v e="$execs" -v s="$secs" 'BEGIN {if (s > 0) printf "%d", e / s; else print 0}')
    arts=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$rate" "$execs" "$secs" "$peak" "$codes" "$arts"
  done
}

if [ "${1:-}" = "--summary" ]; then
  summary
  exit 0
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi
mkdir -p campaign-bin campaign-logs artifacts corpus-run
for t in "${targets[@]}"; do
  cp "$BIN_DIR/$t" "campaign-bin/$t" || { echo "no binary for $t: build first"; exit 2; }
done

run_target() {
  local t="$1" start now left rc i
  local log="campaign-logs/$t.log"
  mkdir -p "corpus-run/$t" "artifacts/$t"
  : >"$log"
  : >"campaign-logs/$t.runs"
  start=$(date +%s)
  for i in 0 1 2 3 4 5; do
    now=$(date +%s)
    left=$((SECS - (now - start)))
    [ "$left" -ge 5 ] || break
    local seeds=("corpus-run/$t" "corpus/$t")
    [ -d "regressions/$t" ] && seeds+=("regressions/$t")
    echo "=== run $i of $t for ${left}s ($(date -u +%T))" >>"$log"
    local t0
    t0=$(date +%s)
    nice -n 5 "campaign-bin/$t" "${seeds[@]}" -max_total_time="$left" \
      -rss_limit_mb=512 -timeout=5 -artifact_prefix="artifacts/$t/" \
      -print_final_stats=1 </dev/null >>"$log" 2>&1
    rc=$?
    echo "$rc $(($(date +%s) - t0))" >>"campaign-logs/$t.runs"
    [ "$rc" -eq 0 ] && break
  done
  echo "done $t: $(cat "campaign-logs/$t.runs" | tr '\n' ' ')"
}

running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
wait
summary
