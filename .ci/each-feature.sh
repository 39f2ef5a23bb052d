#!/usr/bin/env bash
# Builds (cargo check) every workspace package with no features, then with
# each of its features alone: what `cargo hack check --each-feature
# --no-dev-deps` does, without installing cargo-hack. Then each package's
# tests, benches and examples on their own (`-p P --all-targets`), so that
# none relies on a feature only another package's build turns on. Warnings are errors,
# so a feature that leaves code unused or unbuildable fails here. Its own
# target directory keeps the RUSTFLAGS change from rebuilding the main one.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/each-feature}"
export RUSTFLAGS="${RUSTFLAGS:-} -D warnings"

# One line per package: name, then its features (default excluded).
cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    feats = sorted(f for f in p["features"] if f != "default")
    print(p["name"], *feats)
' | while read -r pkg feats; do
  echo "--- $pkg: no features"
  cargo check -q -p "$pkg" --no-default-features
  for f in $feats; do
    echo "--- $pkg: --features $f"
    cargo check -q -p "$pkg" --no-default-features --features "$f"
  done
  echo "--- $pkg: all targets, on its own"
  cargo check -q -p "$pkg" --all-targets
done
echo "every package builds with no features, with each feature alone, and with its tests on its own"
