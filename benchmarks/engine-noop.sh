#!/usr/bin/env bash
# Times the engine on a 10,000-task study of test stage kinds: the cold run, then `pipe plan` and a
# no-op rerun (target: no-op <= 0.5 s). Prints the times and ratios. Not a pass/fail test.
#
# Usage: benchmarks/engine-noop.sh [subjects]   (default 2500 subjects x 4 stages = 10,000 tasks)
set -euo pipefail
cd "$(dirname "$0")/.."
SUBJECTS="${1:-2500}"
swift build -c release --product pipe-testtool >/dev/null
TOOL="$(swift build -c release --show-bin-path)/pipe-testtool"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pipe-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/data"
python3 - "$WORK" "$SUBJECTS" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
subs = [f"{i:05d}" for i in range(1, n + 1)]
for i, s in enumerate(subs):
    with open(f"{work}/data/sub-{s}_ses-1.txt", "w") as f:
        f.write(" ".join(str((i * 7 + k) % 101) for k in range(16)) + "\n")
spec = {
    "pipe": 1,
    "cohort": {"subjects": subs, "sessions": ["1"]},
    "stages": {
        "raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
        "scaled": {"kind": "test.scale", "from": ["raw"], "factor": 2},
        "clamped": {"kind": "test.clamp", "from": ["scaled"], "max": 150},
        "subj": {"kind": "test.subject", "from": ["clamped"]},
    },
}
json.dump(spec, open(f"{work}/study.json", "w"), indent=1)
PY
python3 - "$TOOL" "$WORK" <<'PY'
import os, resource, subprocess, sys, time
tool, work = sys.argv[1], sys.argv[2]
spec = f"{work}/study.json"

def timed(args, out=subprocess.DEVNULL):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([tool] + args, check=True, stdout=out)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu

cold = timed(["run", spec, "--quiet"])
with open(f"{work}/plan.txt", "w") as f:
    timed(["plan", spec], out=f)
print(open(f"{work}/plan.txt").read().splitlines()[-1])
# Best of 3 (the machine may be shared); the first no-op also proves nothing reran.
plans = [timed(["plan", spec]) for _ in range(3)]
noops = [timed(["run", spec, "--quiet"]) for _ in range(3)]
plan, noop = min(plans), min(noops)
print(f"cold run:      {cold[0]:7.3f} s wall  {cold[1]:7.3f} s cpu")
print(f"plan:          {plan[0]:7.3f} s wall  {plan[1]:7.3f} s cpu   (best of 3)")
print(f"no-op rerun:   {noop[0]:7.3f} s wall  {noop[1]:7.3f} s cpu   (best of 3; target <= 0.5 s: {'met' if noop[0] <= 0.5 else 'NOT met'})")
print(f"plan + no-op:  {plan[0] + noop[0]:7.3f} s wall")
print(f"cold / no-op:  {cold[0] / noop[0]:7.1f} x")
PY
