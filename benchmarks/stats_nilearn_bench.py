"""nilearn permuted_ols timing on data of the same shape as stats-bench (max-T only).

Usage: stats_nilearn_bench.py [subjects=49] [voxels=228783] [perms=200] [covars=3]
Prints wall and CPU seconds and the per-permutation time; n_jobs=-1 (all cores).
Extrapolate linearly to 5000 permutations (nilearn's cost is linear in n_perm).
"""
import sys, time, os
import numpy as np
from nilearn.mass_univariate import permuted_ols

s, v, p, k = [int(a) for a in (sys.argv[1:] + ["49", "228783", "200", "3"][len(sys.argv) - 1:])]
rng = np.random.default_rng(1)
Y = rng.standard_normal((s, v))
x = (np.arange(s) < s // 2).astype(float)[:, None]
conf = rng.standard_normal((s, k)) if k else None
t0, c0 = time.time(), time.process_time()
out = permuted_ols(x, Y, confounding_vars=conf, n_perm=p, n_jobs=-1, random_state=0, verbose=0)
wall = time.time() - t0
print(f"nilearn permuted_ols: {s} subjects x {v} voxels x {p} perms, {k} covariates: {wall:.2f} s wall "
      f"({wall / p * 1000:.2f} ms/perm; x5000 = {wall / p * 5000:.1f} s); parent CPU {time.process_time() - c0:.2f} s")
