#!/usr/bin/env bash
# Benchmark (not a test): the demo's whole analysis on the full-size synthetic cohort,
# pipelines/full.json (49 subjects x 2 sessions, 2 mm 91x109x91, 240 volumes, 5000 permutations).
#
#   benchmarks/full-study.sh     # about 21 min on 2 cores the first time (7.5 of them generating the cohort,
#                                # 8 GB, into cache/full, where it stays), 14 min after; BENCH_NILEARN=0
#                                # skips nilearn (about 3.5 min)
#
# 1. The cohort: the spec's data and cohort stages alone (a copy of the spec holding just those
#    two, so their cache keys are the study's). Timed when it runs; served from cache/full after.
# 2. `pipe cache gc` down to those two stages, so the analysis recomputes from the cohort on.
# 3. The analysis, local executor, `--jobs 2`: wall, CPU and peak RSS of the run (/usr/bin/time).
#    Then two edits, clean's series dropped: a report parameter, and an roi follow-up's parameter
#    (which reruns that stage and the report): wall time and the tasks that ran.
# 4. gc again and the analysis with the worker executor (a process per task, `--jobs 2`), where
#    each task's CPU time and peak memory are its own: per stage, the wall span (first start to
#    last finish), task seconds, CPU seconds, largest task peak, and the cache bytes (clean's
#    entries are kept for this run, `--set stages.clean.keep=true`, to be counted).
# 5. nilearn on the same data: one scan's subject chain (Tests/CrossCheck/nilearn_chain.py: the
#    spec's confounds, band-pass, smoothing and seeds; without scrubbing, which costs it little)
#    and one group test (responders_baseline, TFCE, extrapolated to 5000 permutations from two
#    counts: benchmarks/full_study_nilearn_group.py); the whole study's nilearn time is
#    extrapolated as 98 scans + 6 TFCE tests (the demo has six permutation tests with TFCE).
# Goal (issue 19): the analysis under 2 minutes, peak under 1.5 GB, at --jobs 2.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)"; exit 2; }
flock /tmp/swift-build.lock swift build -c release --product pipe >/dev/null
PIPE=$PWD/.build/release/pipe
PY=${PIPE_PYTHON:-.venv/bin/python}
SPEC=$PWD/pipelines/full.json
CACHE=$PWD/cache/full
OUT=$PWD/out/full
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PY" - "$SPEC" "$WORK/data.json" "$CACHE" "$WORK/out-data" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["stages"] = {k: v for k, v in spec["stages"].items() if k in ("data", "cohort")}
spec["cache"], spec["outputs"] = sys.argv[3], sys.argv[4]
json.dump(spec, open(sys.argv[2], "w"))
PY
# measure NAME CMD...: wall, user + sys CPU and max RSS into $WORK/NAME.time ("s cpu kib").
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/$name.raw" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || { tail -20 "$WORK/$name.err"; exit 1; }
  awk '{print $1, $2 + $3, $4}' "$WORK/$name.raw" >"$WORK/$name.time"
}
planned=$("$PIPE" plan "$WORK/data.json" 2>/dev/null | tail -1)
echo "cohort: $planned"
measure generate "$PIPE" run "$WORK/data.json" --jobs 2 --quiet
read -r gen_s gen_cpu gen_kb <"$WORK/generate.time"
printf 'cohort           %7.1f s wall %7.1f s CPU  peak %5d MiB%s\n' "$gen_s" "$gen_cpu" $((gen_kb / 1024)) \
  "$(grep -q ': 0 cached' <<<"$planned" && echo '  (generated)' || echo '  (cached)')"
data_bytes=$("$PIPE" cache ls "$WORK/data.json" --json | "$PY" -c "import json,sys; print(sum(e['bytes'] for e in json.load(sys.stdin) if e['stage']=='data'))")

"$PIPE" cache gc "$WORK/data.json" --cache-dir "$CACHE" >/dev/null
measure local "$PIPE" run "$SPEC" --jobs 2 --json
read -r local_s local_cpu local_kb <"$WORK/local.time"
# Edits after the analysis, clean's series dropped (keep: false): a report parameter, then an roi
# follow-up's. Neither stage reads a series, so neither recomputes a run.
measure edit_report "$PIPE" run "$SPEC" --jobs 2 --json --set stages.report.motion_scans=4
measure edit_roi "$PIPE" run "$SPEC" --jobs 2 --json --set stages.report.motion_scans=4 --set stages.anxiety_followup.permutations=2000

"$PIPE" cache gc "$WORK/data.json" --cache-dir "$CACHE" >/dev/null
measure worker "$PIPE" run "$SPEC" --jobs 2 --json --executor worker --set stages.clean.keep=true
read -r worker_s worker_cpu worker_kb <"$WORK/worker.time"
"$PIPE" cache ls "$SPEC" --json >"$WORK/entries.json"

nil_scan=0 nil_scan_kb=0 nil_fixed=0 nil_per=0
if [ "${BENCH_NILEARN:-1}" = 1 ]; then
  "$PY" - "$SPEC" "$OUT" "$WORK/nilearn.json" "$WORK/nilearn" <<'PY'
import glob, json, os, sys
spec, out, cfg_path, out_dir = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
clean = spec["stages"]["clean"]
conn = spec["stages"]["connectivity"]
src = glob.glob(os.path.join(os.path.dirname(sys.argv[1]), spec["cache"], "tasks", "*", "out",
                             "sub-01_ses-baseline_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz"))
def sibling(suffix):
    return src[0].replace("space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz", suffix)
atlas = os.path.join(out, "cohort", "atlas.nii.gz")
index = {l.split("\t")[1]: int(l.split("\t")[0]) for l in open(os.path.join(out, "cohort", "atlas.tsv")).read().split("\n")[1:] if l}
motion = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
assert clean["confounds"] == "6P+wm_csf", clean["confounds"]
json.dump({"bold": src[0], "mask": sibling("space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz"),
           "confounds": sibling("desc-confounds_timeseries.tsv"), "confound_columns": motion + ["white_matter", "csf"],
           "dummy_scans": clean["dummy_scans"], "t_r": 2.0, "smoothing_fwhm": clean["smoothing_fwhm"], "detrend": True,
           "low_pass": clean["low_pass"], "high_pass": clean["high_pass"], "standardize": False,
           "seeds": [{"name": s["name"], "atlas": atlas, "label": index[s["label"]]} for s in conn["seeds"]],
           "out_dir": out_dir}, open(cfg_path, "w"))
PY
  measure nilearn_scan "$PY" Tests/CrossCheck/nilearn_chain.py "$WORK/nilearn.json"
  read -r nil_scan _ nil_scan_kb <"$WORK/nilearn_scan.time"
  "$PY" benchmarks/full_study_nilearn_group.py "$OUT" responders_baseline 4 12 >"$WORK/nilearn_group.out"
  sed '$d; s/^/nilearn group: /' "$WORK/nilearn_group.out"
  read -r _ nil_fixed nil_per < <(tail -1 "$WORK/nilearn_group.out")
fi

"$PY" - "$WORK" "$data_bytes" <<PY
import json, sys
work, data_bytes = sys.argv[1], int(sys.argv[2])
def events(name):
    return [json.loads(l) for l in open(f"{work}/{name}.out") if l.startswith("{")]
local, worker = events("local"), events("worker")
order = [s["name"] for e in worker if e["event"] == "run-started" for s in e["stages"]]
def spans(evs):
    st = {}
    for e in evs:
        if e["event"] in ("started", "finished"):
            d = st.setdefault(e["stage"], {"first": e["time"], "last": e["time"], "tasks": 0, "secs": 0.0, "cpu": 0.0, "peak": 0})
            d["first"] = min(d["first"], e["time"]); d["last"] = max(d["last"], e["time"])
            if e["event"] == "finished":
                d["tasks"] += 1; d["secs"] += e["seconds"]; d["cpu"] += e.get("cpuSeconds", 0.0); d["peak"] = max(d["peak"], e["peakRSS"])
    return st
ls, ws = spans(local), spans(worker)
entries = json.load(open(f"{work}/entries.json"))
bytes_by = {}
for e in entries:
    bytes_by[e["stage"]] = bytes_by.get(e["stage"], 0) + e["bytes"]
scans = 98
print()
print(f"{'stage':22} {'tasks':>5} {'local wall s':>12} {'worker wall s':>13} {'task s':>8} {'CPU s':>8} {'peak MiB':>9} {'cache MiB':>10} {'MiB/scan':>9}")
for name in order:
    if name not in ws: continue
    w, l = ws[name], ls.get(name)
    per_scan = bytes_by.get(name, 0) / 2**20 / scans if w["tasks"] == scans else float("nan")
    print(f"{name:22} {w['tasks']:5d} {(l['last'] - l['first']) if l else float('nan'):12.1f} {w['last'] - w['first']:13.1f} {w['secs']:8.1f} {w['cpu']:8.1f} "
          f"{w['peak'] / 2**20:9.0f} {bytes_by.get(name, 0) / 2**20:10.1f} {per_scan:9.2f}")
print(f"{'data (the cohort)':22} {scans:5d} {'':12} {'':13} {'':8} {'':8} {'':9} {data_bytes / 2**20:10.1f} {data_bytes / 2**20 / scans:9.2f}")
PY
echo
"$PY" - <<PY
local_s, local_cpu, local_kb = $local_s, $local_cpu, $local_kb
worker_s, worker_cpu = $worker_s, $worker_cpu
print(f"analysis, local executor   {local_s:6.1f} s wall, {local_cpu:6.1f} s CPU, efficiency {local_cpu / (2 * local_s):.2f}, peak {local_kb / 1024:5.0f} MiB"
      f"   (goal < 120 s, < 1536 MiB)")
print(f"analysis, worker executor  {worker_s:6.1f} s wall, {worker_cpu:6.1f} s CPU (with its workers, which /usr/bin/time counts as children)")
import json
for name, what in (("edit_report", "a report parameter"), ("edit_roi", "an roi parameter")):
    wall = float(open(f"$WORK/{name}.time").read().split()[0])
    ran = [e["stage"] for e in map(json.loads, (l for l in open(f"$WORK/{name}.out") if l.startswith("{"))) if e["event"] == "finished"]
    print(f"edit, {what:20} {wall:6.1f} s wall, {len(ran)} tasks run ({', '.join(sorted(set(ran))) or 'none'}); clean's series dropped")
nil_scan, fixed, per = $nil_scan, $nil_fixed, $nil_per
if nil_scan > 0:
    group = fixed + 5000 * per
    study = 98 * nil_scan + 6 * group
    print(f"nilearn, one scan          {nil_scan:6.1f} s, peak {$nil_scan_kb / 1024:5.0f} MiB")
    print(f"nilearn, one TFCE test     {group:6.0f} s for 5000 permutations ({fixed:.1f} s + {per:.3f} s per permutation)")
    print(f"nilearn, whole study       {study / 3600:6.1f} h (98 scans + 6 TFCE tests), {study / local_s:.0f}x the pipe analysis")
PY
