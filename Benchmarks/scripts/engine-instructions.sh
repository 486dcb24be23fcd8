#!/usr/bin/env bash
# Instructions per scored event, counted by valgrind (callgrind) inside `PartitionEngine.apply` only: the same
# number on every run of the same build, however noisy the VM. Compare builds with it; wall-clock ratios here
# drift ±15–30 % from one minute to the next (docs/benchmarks.md), which hides any change below ~20 %.
#
#   Benchmarks/scripts/engine-instructions.sh [BIN...]      (default: .build/release/leadscored)
#   EVENTS=1000000 CONTACTS=100000 FORM=score-scanned (or score = pre-decoded) CACHE=1 (simulate a 1 MB L2:
#   also prints its misses per event, a proxy for memory stalls); about 7 min per build for 1 M events.
#
# Needs valgrind (apt-get install valgrind). Valgrind 3.19 cannot read the DWARF 5 of Swift's release builds, so
# the script runs a copy without debug info (symbols are kept). One line per build.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install -y valgrind)" >&2; exit 1; }
EVENTS=${EVENTS:-1000000}; CONTACTS=${CONTACTS:-100000}; FORM=${FORM:-score-scanned}
[ $# -gt 0 ] || set -- .build/release/leadscored
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
cache=(--cache-sim=no)
[ -z "${CACHE:-}" ] || cache=(--cache-sim=yes --D1=32768,8,64 --LL=1048576,16,64)
for bin in "$@"; do
    strip --strip-debug -o "$WORK/bin" "$bin"
    # EngineCore.apply, specialized for each form of event (scanned, decoded); they never call each other,
    # so collection is toggled on exactly once per event.
    valgrind --tool=callgrind --toggle-collect='*EngineCoreV5apply_7trigger*' "${cache[@]}" \
        --callgrind-out-file="$WORK/out" "$WORK/bin" bench-engine --events "$EVENTS" --contacts "$CONTACTS" \
        --only "$FORM" --repeats 1 > "$WORK/log" 2>&1
    python3 - "$WORK/log" "$EVENTS" "$bin" <<'PY'
import re, sys
log, n, name = open(sys.argv[1]).read(), int(sys.argv[2]), sys.argv[3]
def total(label):
    m = re.search(r"==\d+== " + label + r":\s+([\d,]+)", log)
    return int(m.group(1).replace(",", "")) if m else None
ir, ll = total("I\s+refs"), total("LL misses")
line = f"{name}: {ir / n:.0f} instructions per event"
if ll is not None: line += f", {ll / n:.2f} simulated L2 misses per event"
print(line)
PY
done
