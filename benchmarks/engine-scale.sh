#!/usr/bin/env bash
# Biobank scale by simulation: studies of N subjects x 2 runs with the engine's cheap test kinds,
# a per-scan stage, a per-subject stage and a group stage (3N + 1 tasks). For each N: the cold run,
# `pipe plan` and a no-op rerun (wall, CPU, peak memory of the process), and the cache index and
# journal sizes, so the growth is visible. Goals at 100,000 tasks: plan and no-op rerun <= 3 s,
# planner memory <= 1 GB, index and journal linear in tasks. Not a pass/fail test.
#
# Usage: benchmarks/engine-scale.sh [N ...]   (default 333 3333 33333: about 1k, 10k, 100k tasks)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(333 3333 33333)
swift build -c release --product pipe-testtool >/dev/null
TOOL="$(swift build -c release --show-bin-path)/pipe-testtool"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pipe-scale.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
python3 - "$TOOL" "$WORK" "${SIZES[@]}" <<'PY'
import json, os, resource, subprocess, sys, time
tool, work, sizes = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3:]]

def timed(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", tool] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, err = p.communicate()
    assert p.returncode == 0, err
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, int(err.strip().splitlines()[-1]) / 1024

def size(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total

print(f"{'tasks':>8} {'cold s':>8} {'plan s':>8} {'plan MB':>8} {'no-op s':>8} {'no-op MB':>9} {'index KB':>9} {'B/task':>7} {'journal KB':>11} {'B/task':>7}")
for n in sizes:
    d = f"{work}/n{n}"
    os.makedirs(f"{d}/data")
    subs = [f"{i:06d}" for i in range(1, n + 1)]
    for i, s in enumerate(subs):
        for run in ("1", "2"):
            with open(f"{d}/data/sub-{s}_run-{run}.txt", "w") as f:
                f.write(f"{i % 97} {run} 3\n")
    spec = {"pipe": 1, "cohort": {"subjects": subs, "runs": ["1", "2"]},
            "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_run-{run}.txt"},
                       "subj": {"kind": "test.subject", "from": ["raw"]},
                       "total": {"kind": "test.sum", "from": ["subj"]}}}
    json.dump(spec, open(f"{d}/study.json", "w"))
    tasks = 3 * n + 1
    cold = timed(["run", f"{d}/study.json", "--quiet"])
    plan = min(timed(["plan", f"{d}/study.json"]) for _ in range(3))
    journal_before = size(f"{d}/cache/journal")
    noop = min(timed(["run", f"{d}/study.json", "--quiet"]) for _ in range(3))
    journal = (size(f"{d}/cache/journal") - journal_before) / 3   # one no-op run's journal
    index = size(f"{d}/cache/index")
    print(f"{tasks:>8} {cold[0]:>8.2f} {plan[0]:>8.3f} {plan[2]:>8.0f} {noop[0]:>8.3f} {noop[2]:>9.0f} {index / 1024:>9.0f} {index / tasks:>7.0f} {journal / 1024:>11.0f} {journal / tasks:>7.0f}")
PY
