#!/usr/bin/env bash
# Times `pipe validate` on a study whose every run is checked before compute (headers, repetition
# times, confounds files' columns and rows, brain masks against the seeds), next to the same survey
# of the same files in Python (nibabel headers, the sidecar's RepetitionTime, pandas reading each
# confounds file: its columns and rows), which is what a study glued from nilearn scripts would run
# as a pre-flight. It also times the study with a qc stage's motion rules, which the check
# foresees from every run's confounds file for each group-level stage. Then the study's first
# `pipe plan` with an empty cache, which hashes every source file (on all cores, and pinned to
# one), next to `sha256sum` and `openssl dgst -sha256` of the same files.
# Not a pass/fail test.
#
# Usage: benchmarks/spec-check.sh [copies]   (default 10: 490 subjects x 2 sessions = 980 runs)
# The 49-subject demo-scale cohort is generated once in benchmarks/data/spec-check (about 35 s);
# each copy is 49 more subjects, linked to the same files under new labels.
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES="${1:-10}"
PYTHON="${PIPE_PYTHON:-$PWD/.venv/bin/python}"
swift build -c release --product pipe >/dev/null
PIPE="$(swift build -c release --show-bin-path)/pipe"
DATA=benchmarks/data/spec-check
if [ ! -f "$DATA/participants.tsv" ]; then
  rm -rf "$DATA"
  "$PIPE" synth --out "$DATA" >/dev/null
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pipe-speccheck.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" - "$PWD/$DATA" "$WORK" "$COPIES" "$PWD/pipelines/ketamine-amygdala.json" <<'PY'
import csv, glob, json, os, shutil, sys
data, work, copies, spec = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
src = f"{data}/derivatives/fmriprep"
dst = f"{work}/derivatives/fmriprep"
subjects = sorted(d for d in os.listdir(src) if d.startswith("sub-"))
rows = list(csv.reader(open(f"{data}/participants.tsv"), delimiter="\t"))
out = [rows[0]]
for k in range(copies):
    for s in subjects:
        new = f"sub-{k}{s[4:]}"
        for f in glob.glob(f"{src}/{s}/**/*", recursive=True):
            if os.path.isdir(f):
                continue
            target = f"{dst}/{new}/" + os.path.relpath(f, f"{src}/{s}").replace(s, new)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(f, target)
        row = next(r for r in rows[1:] if r[0] == s)[:]
        row[0] = new
        out.append(row)
with open(f"{work}/participants.tsv", "w") as f:
    f.write("\n".join("\t".join(r) for r in out) + "\n")
os.makedirs(f"{work}/atlases")
atlas = f"{data}/atlas/atlas-synth_space-MNI152NLin2009cAsym_res-4mm_dseg"
for name in ["amygdala_subregions", "peak_labels"]:
    shutil.copy(atlas + ".nii.gz", f"{work}/atlases/{name}_2mm.nii.gz")
    shutil.copy(atlas + ".tsv", f"{work}/atlases/{name}.tsv")
shutil.copy(spec, f"{work}/study.json")
# The same study with motion QC: a qc stage's rules, which the check foresees from every run's
# confounds file, read by every group-level stage.
study = json.load(open(spec))
stages = {}
for name, stage in study["stages"].items():
    if stage["kind"] in ("group", "longitudinal", "roi"):
        stage["from"] = ([stage["from"]] if isinstance(stage["from"], str) else stage["from"]) + ["qc"]
    stages[name] = stage
    if name == "connectivity":
        stages["qc"] = {"kind": "qc", "from": ["clean", "connectivity"], "max_mean_fd": 0.5, "max_censored_fraction": 0.2}
study["stages"] = stages
json.dump(study, open(f"{work}/study-qc.json", "w"), indent=1)
PY
"$PYTHON" - "$PIPE" "$WORK" <<'PY'
import glob, json, os, resource, subprocess, sys, time
pipe, work = sys.argv[1], sys.argv[2]

def timed(run):
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    run()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum((a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime) for a, b in zip(after, before))
    return wall, cpu

def validate(spec="study.json"):
    r = subprocess.run([pipe, "validate", f"{work}/{spec}"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(r.stderr)
    validate.out = r.stdout.strip()

def validate_qc():
    validate("study-qc.json")

def python_survey():
    import nibabel as nib
    import pandas as pd
    runs = 0
    for bold in sorted(glob.glob(f"{work}/derivatives/fmriprep/sub-*/ses-*/func/*_desc-preproc_bold.nii.gz")):
        header = nib.load(bold).header
        shape, zooms = header.get_data_shape(), header.get_zooms()
        tr = json.load(open(bold.replace(".nii.gz", ".json")))["RepetitionTime"]
        prefix = bold.split("_space-")[0]
        confounds = pd.read_csv(prefix + "_desc-confounds_timeseries.tsv", sep="\t")
        assert len(confounds) == shape[3] and tr > 0 and "csf" in confounds.columns
        runs += 1
    python_survey.runs = runs

def plan(cache, one_core=False):
    # `pipe plan` with an empty cache hashes every source file (the digests of its inputs are
    # part of each task's key); pinned to one core, its hashing runs one file at a time.
    cmd = ([ "taskset", "-c", "0"] if one_core else []) + [pipe, "plan", f"{work}/study.json", "--cache-dir", cache]
    subprocess.run(cmd, capture_output=True, check=True)

def first_plan(one_core=False):
    first_plan.n = getattr(first_plan, "n", 0) + 1
    os.makedirs(f"{work}/plan-cache-{first_plan.n}")  # an existing cache keeps the digests (plan writes nothing else)
    plan(f"{work}/plan-cache-{first_plan.n}", one_core)

# The files the plan hashes: each run's sources are symlinks to the cohort's files, so each
# distinct file is hashed once (its identity is the target's).
sources = sorted({os.path.realpath(f) for f in glob.glob(f"{work}/derivatives/fmriprep/**/*", recursive=True)
                  if os.path.isfile(f)} | {os.path.realpath(f) for f in glob.glob(f"{work}/atlases/*")})
source_bytes = sum(os.path.getsize(f) for f in sources)

def hash_with(*tool):
    def run():
        for k in range(0, len(sources), 200):
            subprocess.run(list(tool) + sources[k:k + 200], capture_output=True, check=True)
    return run

import nibabel, pandas  # loaded once, outside the timing
qcs = [timed(validate_qc) for _ in range(3)]
pipes = [timed(validate) for _ in range(3)]
peers = [timed(python_survey) for _ in range(3)]
firsts = [timed(first_plan) for _ in range(3)]
firsts_one = [timed(lambda: first_plan(one_core=True)) for _ in range(3)]
memo_plans = [timed(lambda: plan(f"{work}/plan-cache-1")) for _ in range(3)]
sha256sums = [timed(hash_with("sha256sum")) for _ in range(3)]
openssls = [timed(hash_with("openssl", "dgst", "-sha256")) for _ in range(3)]
pipe_best, peer_best = min(pipes), min(peers)
runs = python_survey.runs
print(validate.out)
print(f"runs:                          {runs}")
print(f"pipe validate (whole check):   {pipe_best[0]:6.3f} s wall  {pipe_best[1]:6.3f} s cpu  ({1000 * pipe_best[0] / runs:.2f} ms per run; best of 3)")
qc_best = min(qcs)
print(f"  with motion QC foreseen:     {qc_best[0]:6.3f} s wall  {qc_best[1]:6.3f} s cpu  (a qc stage's max_mean_fd and max_censored_fraction, read by every group-level stage)")
print(f"Python survey (nibabel+pandas): {peer_best[0]:6.3f} s wall  {peer_best[1]:6.3f} s cpu  ({1000 * peer_best[0] / runs:.2f} ms per run; best of 3)")
print(f"ratio:                         pipe checks the whole study {peer_best[0] / pipe_best[0]:.1f}x faster than the survey alone in Python")
print()
first, first_one, memo_plan = min(firsts), min(firsts_one), min(memo_plans)
print(f"first pipe plan, empty cache:  {first[0]:6.3f} s wall  {first[1]:6.3f} s cpu  (hashes {len(sources)} source files, {source_bytes / 2**20:.0f} MiB; best of 3)")
print(f"  pinned to one core:          {first_one[0]:6.3f} s wall  {first_one[1]:6.3f} s cpu  (taskset -c 0)")
print(f"  again, digests memoised:     {memo_plan[0]:6.3f} s wall  {memo_plan[1]:6.3f} s cpu")
for name, runs_ in (("sha256sum (coreutils)", sha256sums), ("openssl dgst -sha256", openssls)):
    best = min(runs_)
    print(f"{name + ' of the files:':31}{best[0]:6.3f} s wall  {best[1]:6.3f} s cpu  (pipe's whole first plan takes {first[0] / best[0]:.2f}x this)")
PY
