#!/usr/bin/env bash
# Instruction counts of the hot paths (benches/instructions/src/main.rs),
# under valgrind's callgrind, against benches/instructions/baseline.json.
# Counts, not times: the same on a busy machine and a quiet one, so this
# runs in CI (.ci/run) as a regression gate; wall-clock benches stay out.
#
#   bash benches/instructions/check.sh            check (exit 1 on a regression)
#   bash benches/instructions/check.sh --write    record the counts as the baseline
#
# A path fails when it takes more than TOLERANCE percent (default 3) more
# instructions per iteration than its baseline; one that got cheaper by as
# much is reported, so the baseline can be lowered with --write. Counts
# depend on the compiler: the baseline records rustc's version, and a
# different one is reported, not failed (rebase with --write).
set -euo pipefail
cd "$(dirname "$0")/../.."
BASELINE=benches/instructions/baseline.json
TOLERANCE="${TOLERANCE:-3}"
MODE="${1:-check}"
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed" >&2; exit 1; }

cargo build -q --release -p mtproto-instructions --bin instructions
BIN="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/instructions"
[[ -x "$BIN" ]] || { echo "instructions: no bench binary" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/instructions.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

RESULTS="$WORK/results.txt"
: >"$RESULTS"
for name in $("$BIN" --names); do
  out="$WORK/$name.callgrind"
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='*measured_*' \
    "$BIN" "$name" >/dev/null 2>"$WORK/$name.log" ||
    { echo "instructions: $name failed under valgrind:" >&2; tail -20 "$WORK/$name.log" >&2; exit 1; }
  total="$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out" | head -n1)"
  [[ -n "$total" ]] || total="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out" | head -n1)"
  echo "$name $total" >>"$RESULTS"
done

python3 - "$MODE" "$BASELINE" "$RESULTS" "$TOLERANCE" "$(rustc --version)" <<'PY'
import json, sys
mode, path, results, tol, rustc = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
ITERATIONS = 100
now = {}
for line in open(results):
    name, total = line.split()
    now[name] = int(total) // ITERATIONS
if mode == "--write":
    json.dump({"rustc": rustc, "iterations": ITERATIONS, "instructions_per_iteration": now},
              open(path, "w"), indent=2, sort_keys=True)
    open(path, "a").write("\n")
    for k, v in sorted(now.items()):
        print(f"{k:24} {v:>12,}")
    print(f"wrote {path}")
    sys.exit(0)
base = json.load(open(path))
same_compiler = base.get("rustc") == rustc
old = base["instructions_per_iteration"]
failed = []
print(f"{'path':24} {'baseline':>12} {'now':>12} {'change':>8}")
for k in sorted(set(old) | set(now)):
    if k not in now or k not in old:
        print(f"{k:24} {'-':>12} {'-':>12}  (only in {'the baseline' if k in old else 'this run'})")
        failed.append(k)
        continue
    change = (now[k] - old[k]) * 100.0 / max(old[k], 1)
    note = ""
    if change > tol:
        note = "  REGRESSION"
        failed.append(k)
    elif change < -tol:
        note = "  cheaper: lower the baseline (--write)"
    print(f"{k:24} {old[k]:>12,} {now[k]:>12,} {change:>+7.1f}%{note}")
if not same_compiler:
    print(f"note: the baseline was made with {base.get('rustc')}, this is {rustc}: counts are not comparable; not failing (rebase with --write)")
    sys.exit(0)
if failed:
    print(f"instructions: {len(failed)} path(s) over the {tol:g}% tolerance: {', '.join(failed)}")
    sys.exit(1)
print(f"instructions: every path within {tol:g}% of its baseline")
PY
