# Shared by the load scripts (sourced): the release binary to measure.

# deflect_binary WORK: prints the path of the deflect binary to run — $BIN when set, else a
# fresh release build copied into WORK, so another build cannot swap the binary under a
# running benchmark.
deflect_binary() {
  if [ -n "${BIN:-}" ]; then
    echo "$BIN"
    return
  fi
  cargo build --release --quiet >&2
  local target
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  cp "$target/release/deflect" "$1/deflect"
  echo "$1/deflect"
}
