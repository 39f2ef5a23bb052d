#!/usr/bin/env bash
# Semver hygiene: compares the public API of every published crate with the
# newest release tag (`vX.Y.Z`) using cargo-semver-checks, which fails when a
# change needs a bigger version step than Cargo.toml's version makes (see
# CHANGELOG.md). Before the first tag there is nothing to compare against,
# and the script says so. SEMVER_BASELINE=<git rev> compares against another
# revision (to try the check by hand).
set -euo pipefail
cd "$(dirname "$0")/.."

baseline="${SEMVER_BASELINE:-$(git tag --list 'v[0-9]*' --sort=-v:refname | head -n 1)}"
if [[ -z "$baseline" ]]; then
  echo "no release tag (v*) yet: nothing to compare the public API against"
  exit 0
fi
if ! cargo semver-checks --version >/dev/null 2>&1; then
  cargo install cargo-semver-checks --locked
fi
# The published library crates (publish = false ones are tools; a binary
# has no API to compare).
mapfile -t published < <(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    is_lib = any("lib" in t["kind"] for t in p["targets"])
    if p["publish"] != [] and is_lib:
        print(p["name"])
')
args=()
for p in "${published[@]}"; do args+=(--package "$p"); done
echo "comparing ${#published[@]} crates with $baseline"
cargo semver-checks check-release --baseline-rev "$baseline" "${args[@]}"
