"""nilearn permuted_ols on the data set stats-bench wrote (BENCH_WRITE), for benchmarks/group-stats.sh.

Usage: group_stats_nilearn.py DIR {maxt|cluster|tfce} N1 N2

Runs nilearn 0.14.1 `permuted_ols` (two-sided, n_jobs=-1: all cores, random_state=0) on the data in
DIR: without a threshold (maxt); with `threshold=0.001`, nilearn's cluster-forming threshold as an
uncorrected p, converted by nilearn to |t| > t.isf(0.001 / 2, df) (cluster); or with `tfce=True`
(tfce). Cluster and TFCE need the masker; both also compute max-T, as pipe's runs do.

nilearn 0.14.1 resolves n_jobs=-1 to cpu_count() + 2 workers (its formula is cpu_count() - n_jobs + 1;
joblib's convention would give cpu_count()), so on 2 cores 4 worker processes share them. N1 and N2
(N2 > N1) are rounded up to multiples of the worker count so that every worker gets an equal share.
nilearn's cost is linear in the permutation count: T(N) = fixed + N * per_perm, where the
fixed part is the unpermuted map's t (and TFCE), the masker round trip and joblib memmapping the
data. The two runs give per_perm = (T(N2) - T(N1)) / (N2 - N1) and fixed = T(N1) - N1 * per_perm,
and T(N) = fixed + N * per_perm for any N (scaling T(N2) alone would multiply the fixed part too).
An untimed call with one permutation per worker first starts the workers and runs every code
path once, so neither timed run pays for that.

Peak memory: joblib runs the permutations in worker processes, so one process's max RSS undercounts;
a thread samples the proportional set size (PSS: shared pages split between the processes sharing
them, so memmapped data is counted once) summed over this process and its descendants every 0.1 s,
over the whole run (data loading included).

The last line is `result FIXED_S PER_PERM_S PEAK_MIB` for the calling script. Also printed, to check that nilearn
tested the same numbers as pipe: max |t| and, for cluster, the threshold and the unpermuted map's
largest cluster (size, mass), which depend on the voxel layout as well.
"""
import json
import os
import sys
import threading
import time

import nibabel as nib
import numpy as np
from nilearn.maskers import NiftiMasker
from nilearn.mass_univariate import permuted_ols
from nilearn.mass_univariate._utils import calculate_cluster_measures
from nilearn.mass_univariate.permuted_least_squares import _compute_t_stat_threshold, _sanitize_inputs_permuted_ols
from scipy.ndimage import generate_binary_structure

CLUSTER_P = 0.001


def tree_pss_kib(root):
    """PSS in KiB summed over `root` and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return total


peak_kib = 0


def sample_memory():
    global peak_kib
    while True:
        peak_kib = max(peak_kib, tree_pss_kib(os.getpid()))
        time.sleep(0.1)


threading.Thread(target=sample_memory, daemon=True).start()

data_dir, stat, n1, n2 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
assert stat in ("maxt", "cluster", "tfce") and 0 < n1 < n2, sys.argv

# The data set, as stats-bench wrote it: voxels in x-fastest mask order. nilearn's masker orders
# voxels as numpy's C order of the (x, y, z) mask, so the columns are reordered to match it.
with open(os.path.join(data_dir, "shape.json")) as f:
    shape = json.load(f)
s, v, k = shape["subjects"], shape["voxels"], shape["covariates"]
mask = np.fromfile(os.path.join(data_dir, "mask.u8"), np.uint8).reshape(shape["grid"], order="F") > 0
column = np.full(mask.size, -1)
column[mask.ravel(order="F")] = np.arange(v)
Y = np.fromfile(os.path.join(data_dir, "data.f64"), "<f8").reshape(s, v)[:, column.reshape(mask.shape, order="F")[mask]]
tested = np.fromfile(os.path.join(data_dir, "tested.f64"), "<f8")[:, None]
conf = np.fromfile(os.path.join(data_dir, "confounds.f64"), "<f8").reshape(s, k) if k else None
masker = NiftiMasker(nib.Nifti1Image(mask.astype(np.uint8), np.diag([2.0, 2.0, 2.0, 1.0]))).fit()
options = {"maxt": {}, "cluster": {"threshold": CLUSTER_P, "masker": masker}, "tfce": {"tfce": True, "masker": masker}}[stat]

workers = _sanitize_inputs_permuted_ols(-1, "dict", False, None, Y[:, :1], tested)[0]
n1, n2 = (-(-n // workers) * workers for n in (n1, n2))


def run(n):
    return permuted_ols(tested, Y, confounding_vars=conf, n_perm=n, n_jobs=-1, random_state=0, verbose=0,
                        two_sided_test=True, **options)


run(workers)
walls = []
for n in (n1, n2):
    t0 = time.time()
    out = run(n)
    walls.append(time.time() - t0)
    print(f"nilearn {stat}: {n} perms: {walls[-1]:.2f} s wall")
per_perm = (walls[1] - walls[0]) / (n2 - n1)
fixed = walls[0] - n1 * per_perm
check = f"max |t| {np.abs(out['t']).max():.6f}"
if stat == "cluster":
    # The threshold nilearn used (its own conversion, with the intercept it adds among the covariates).
    covars = np.hstack([conf, np.ones((s, 1))]) if k else np.ones((s, 1))
    thr = _compute_t_stat_threshold(CLUSTER_P, True, tested, covars)
    size, mass = calculate_cluster_measures(masker.inverse_transform(out["t"][0]).get_fdata()[..., None], thr,
                                            generate_binary_structure(3, 1), two_sided_test=True)
    check += f"; cluster threshold |t| > {thr:.4f}, observed max cluster {size[0]} voxels, mass {mass[0]:.4f}"
print(f"nilearn {stat}: {s} subjects x {v} voxels, {k} covariates, {workers} workers on {os.cpu_count()} cores: "
      f"{per_perm * 1000:.1f} ms/perm + {fixed:.2f} s fixed; {check}")
print(f"result {fixed:.4f} {per_perm:.6f} {peak_kib / 1024:.0f}")
