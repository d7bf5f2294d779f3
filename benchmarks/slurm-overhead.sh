#!/usr/bin/env bash
# The Slurm executor's per-task overhead against the local executor, on the same study of cheap
# test tasks (N scans x 2 stages), measured in one run. Prints both walls, the overhead per task,
# and the sbatch/squeue calls. Goal: under 1 s per task once arrays are amortised.
#
# Usage: benchmarks/slurm-overhead.sh [scans]   (default 200; needs root for the local Slurm, which
# scripts/slurm/start starts if SLURM_CONF is not set, with 8 CPUs)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"
STARTED=0
if [ -z "${SLURM_CONF:-}" ]; then
  export PIPE_SLURM_CPUS="${PIPE_SLURM_CPUS:-8}"
  eval "$(scripts/slurm/start)"
  STARTED=1
fi
swift build -c release --product pipe-testtool >/dev/null
TOOL="$(swift build -c release --show-bin-path)/pipe-testtool"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pipe-slurm-bench.XXXXXX")"
trap 'rm -rf "$WORK"; if [ "$STARTED" = 1 ]; then scripts/slurm/stop; fi' EXIT
chmod 755 "$WORK"
mkdir -p "$WORK/data"
python3 - "$WORK" "$N" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
subs = [f"{i:04d}" for i in range(1, n + 1)]
for i, s in enumerate(subs):
    open(f"{work}/data/sub-{s}_ses-1.txt", "w").write(f"{i} {i + 1} {i + 2}\n")
json.dump({"pipe": 1, "cohort": {"subjects": subs, "sessions": ["1"]}, "slurm": {"poll_seconds": 1},
           "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                      "scaled": {"kind": "test.scale", "from": ["raw"], "factor": 2}}},
          open(f"{work}/study.json", "w"))
PY
python3 - "$TOOL" "$WORK" "$N" <<'PY'
import subprocess, sys, time
tool, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def run(name, extra):
    t0 = time.perf_counter()
    r = subprocess.run([tool, "run", f"{work}/study.json", "--cache-dir", f"{work}/cache-{name}", "--outputs", f"{work}/out-{name}"] + extra,
                       capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, r.stderr
local, _ = run("local", ["--quiet"])
slurm, err = run("slurm", ["--executor", "slurm"])
calls = next(l for l in err.splitlines() if l.startswith("slurm: "))
tasks = 2 * n
print(f"{tasks} tasks: local {local:.2f} s, slurm {slurm:.2f} s; overhead {(slurm - local) / tasks:.3f} s per task")
print(calls)
same = subprocess.run(["diff", "-r", "-x", "dataset_description.json", "-x", "methods.md", f"{work}/out-local", f"{work}/out-slurm"]).returncode == 0
print("outputs identical:", same)
PY
