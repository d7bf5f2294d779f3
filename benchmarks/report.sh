#!/usr/bin/env bash
# Times the demo's report task alone, and nilearn + matplotlib drawing the report's brain figures
# from the same outputs (benchmarks/report_nilearn.py), in one run. Prints both, the ratio, and the
# report's size. Goal: under 5 s and under 20 MB on 2 cores. Not a pass/fail test.
#
# Usage: benchmarks/report.sh   (runs the demo first if it is not cached: about 70 s cold)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product pipe >/dev/null
PIPE="$(swift build -c release --show-bin-path)/pipe"
SPEC=pipelines/demo.json
"$PIPE" run "$SPEC" --quiet >/dev/null
KEY=$("$PIPE" plan "$SPEC" --json | python3 -c 'import json,sys; print(next(t["key"] for t in json.load(sys.stdin) if t["stage"] == "report"))')
rm -rf "cache/demo/tasks/$KEY"
# Only the report reruns; its task time comes from the run's own events.
python3 - "$PIPE" "$SPEC" <<'PY'
import json, subprocess, sys, time
pipe, spec = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
run = subprocess.run([pipe, "run", spec, "--json"], capture_output=True, text=True, check=True)
wall = time.perf_counter() - t0
task = None
for line in run.stdout.splitlines():
    event = json.loads(line)
    if event.get("event") == "finished" and event.get("stage") == "report":
        task, rss = event["seconds"], event["peakRSS"] / 2**20
    if event.get("event") == "run-finished":
        assert event["executed"] == 1, f"expected the report alone to run: {line}"
print(f"pipe report task {task:.2f} s (whole run with planning {wall:.2f} s; process peak {rss:.0f} MB)")
open("/tmp/pipe-report-seconds", "w").write(str(task))
PY
files=$(ls out/demo/report | wc -l)
bytes=$(du -sb out/demo/report | cut -f1)
echo "pipe report: $files files, $bytes bytes ($(numfmt --to=iec "$bytes"))"
PY_BIN="${PIPE_PYTHON:-.venv/bin/python}"
peer=$("$PY_BIN" benchmarks/report_nilearn.py out/demo)
echo "$peer"
python3 - "$(cat /tmp/pipe-report-seconds)" "$peer" <<'PY'
import sys
pipe = float(sys.argv[1]); nilearn = float(sys.argv[2].split()[1])
print(f"ratio: nilearn / pipe = {nilearn / pipe:.1f}x (nilearn draws fewer figures: see report_nilearn.py)")
PY
