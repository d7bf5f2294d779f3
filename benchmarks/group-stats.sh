#!/usr/bin/env bash
# Benchmark (not a test): group permutation inference, pipe next to nilearn 0.14.1 `permuted_ols`
# on the same numbers in the same invocation (issue 6).
#
#   benchmarks/group-stats.sh            # about 8 minutes on 2 cores; PIPE_PYTHON picks the Python
#
# Data: stats-bench writes one data set (BENCH_WRITE; little-endian float64 files and the mask) and
# both tools read it: 49 subjects x the 228,783-voxel ellipsoid mask on the 91x109x91 2 mm grid
# (smooth noise maps, FWHM about 2.5 voxels), a two-group tested variable (24 vs 25), 3 Gaussian
# covariates (plus the intercept both tools add); two-sided tests.
# Measured, on all cores, as time per 5000 permutations of the inference call (loading excluded):
#   max-T         the max |t| null alone;
#   cluster mass  max-T plus the largest-cluster null at cluster-forming p < 0.001 (two-sided, so
#                 |t| > t.isf(0.0005, 44) = 3.5258), faces (6-) connectivity; nilearn `threshold=0.001`;
#   TFCE          max-T plus the max |TFCE| null (E 0.5, H 2, 6-connected); pipe's exact step-free
#                 TFCE (its default), nilearn's 100-step TFCE (`tfce=True`).
# pipe (benchmarks/StatsBenchmark, the library's PermutationTest) runs all 5000 permutations of each,
# with its default arithmetic (at this size: Float32 products, Float64 observed map; nilearn: Float64).
# nilearn runs the counts printed and is extrapolated linearly from two counts, fixed cost counted
# once (benchmarks/group_stats_nilearn.py). Each pipe run is followed by the nilearn run of the same
# statistic; the 1-minute load average before each pair is printed (the machine is shared).
# Peak memory: pipe, max RSS of its single process (getrusage); nilearn, peak over time of the PSS
# summed over its processes (joblib workers included), sampled every 0.1 s.
# Both tools print max |t| (and, for cluster mass, the threshold and the unpermuted map's largest
# cluster), which must agree: the check that they tested the same data in the same voxel layout.
# Targets (issue 19): max-T >= 20x faster than nilearn, TFCE >= 300x; none for cluster mass.
set -euo pipefail
cd "$(dirname "$0")/.."
# Builds are serialised with other users' builds of this checkout.
flock /tmp/swift-build.lock swift build -c release --product stats-bench >/dev/null
BENCH=.build/release/stats-bench
PY=${PIPE_PYTHON:-.venv/bin/python}
PERMS=5000
# nilearn's two permutation counts per statistic (about 1.8 s per TFCE permutation on 2 cores).
NILEARN_MAXT="200 2000" NILEARN_CLUSTER="40 400" NILEARN_TFCE="4 20"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
BENCH_SECTIONS= BENCH_WRITE="$WORK/data" "$BENCH" >/dev/null

# pipe_run NAME VAR=VALUE...: stats-bench on the data set; its last line has the wall time and peak RSS.
pipe_run() {
  local name=$1; shift
  env BENCH_READ="$WORK/data" "$@" "$BENCH" >"$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
  local line; line=$(tail -1 "$WORK/out")
  echo "pipe    $line"
  echo "$(sed -n 's/.*: \([0-9.]*\) s wall.*/\1/p' <<<"$line") $(sed -n 's/.*peak RSS \([0-9]*\) MB.*/\1/p' <<<"$line")" >"$WORK/pipe-$name"
}
# nilearn_run NAME N1 N2: the nilearn script's last line is `result FIXED_S PER_PERM_S PEAK_MIB`.
nilearn_run() {
  "$PY" benchmarks/group_stats_nilearn.py "$WORK/data" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/out" "$WORK/err"; exit 1; }
  sed '$d; s/^/        /' "$WORK/out"
  tail -1 "$WORK/out" | cut -d' ' -f2- >"$WORK/nilearn-$1"
}
pair() {
  cut -d' ' -f1 /proc/loadavg >"$WORK/load-$1"
  echo "-- $1, load $(cat "$WORK/load-$1")"
}

pair maxt
pipe_run maxt BENCH_SECTIONS=maxt BENCH_PERMS=$PERMS
nilearn_run maxt $NILEARN_MAXT
pair cluster
pipe_run cluster BENCH_SECTIONS=spatial BENCH_TFCE=0 BENCH_SPATIAL_PERMS=$PERMS
nilearn_run cluster $NILEARN_CLUSTER
pair tfce
pipe_run tfce BENCH_SECTIONS=spatial BENCH_CLUSTER=0 BENCH_SPATIAL_PERMS=$PERMS
nilearn_run tfce $NILEARN_TFCE

echo
printf 'machine load now  %s (1, 5, 15 min); %s cores\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
printf '%-13s %16s %19s %8s %7s %10s %13s %5s\n' statistic "pipe s/$PERMS" "nilearn s/$PERMS" ratio target "pipe MiB" "nilearn MiB" load
for stat in maxt cluster tfce; do
  read -r ps pm <"$WORK/pipe-$stat"
  read -r fixed per nm <"$WORK/nilearn-$stat"
  ns=$(awk "BEGIN{print $fixed + $PERMS * $per}")
  case $stat in
    maxt) label="max-T" target=">= 20x" ;;
    cluster) label="cluster mass" target="-" ;;
    tfce) label="TFCE" target=">= 300x" ;;
  esac
  printf '%-13s %16.1f %19.1f %7.1fx %7s %10d %13d %5s\n' "$label" "$ps" "$ns" "$(awk "BEGIN{print $ns / $ps}")" "$target" "$pm" "$nm" "$(cat "$WORK/load-$stat")"
done
echo "nilearn extrapolated from (max-T, cluster, TFCE) = ($NILEARN_MAXT), ($NILEARN_CLUSTER), ($NILEARN_TFCE) permutations (rounded up to whole rounds of workers; see above)"
