"""References for SeedCorrelation and SeedSummary (numpy only).

Usage: signal_connectivity.py DIR T V M N. Inputs (float64, row-major): data.f64 (T x V),
seed.f64 (T), seeds.f64 (T x M), region.f64 (T x N). Writes:
- pearson.ref.f64: np.corrcoef(seed, data[:, j])[0, 1] per column (constant column -> 0);
- roi.ref.f64: np.corrcoef(seeds.T) (M x M);
- partial.ref.f64 (M x V): residualise seed i and every column on [1, other seeds] with
  np.linalg.lstsq, then Pearson of the residuals;
- eigen.ref.f64 (T): SPM spm_regions eigenvariate of the column-centred region via np.linalg.svd:
  u1 * s1 / sqrt(N), sign so that sum(v1) > 0.
"""
import sys
from pathlib import Path

import numpy as np

root = Path(sys.argv[1])
t, v, m, n = map(int, sys.argv[2:6])
data = np.fromfile(root / "data.f64", "<f8").reshape(t, v)
seed = np.fromfile(root / "seed.f64", "<f8")
seeds = np.fromfile(root / "seeds.f64", "<f8").reshape(t, m)
region = np.fromfile(root / "region.f64", "<f8").reshape(t, n)

with np.errstate(invalid="ignore", divide="ignore"):
    r = np.array([np.corrcoef(seed, data[:, j])[0, 1] for j in range(v)])
r[~np.isfinite(r)] = 0
r.astype("<f8").tofile(root / "pearson.ref.f64")

np.corrcoef(seeds.T).astype("<f8").ravel().tofile(root / "roi.ref.f64")

partial = np.zeros((m, v))
for i in range(m):
    design = np.column_stack([np.ones(t)] + [seeds[:, k] for k in range(m) if k != i])
    beta, *_ = np.linalg.lstsq(design, seeds[:, i], rcond=None)
    e = seeds[:, i] - design @ beta
    beta, *_ = np.linalg.lstsq(design, data, rcond=None)
    res = data - design @ beta
    with np.errstate(invalid="ignore", divide="ignore"):
        rr = (res.T @ e) / (np.linalg.norm(res, axis=0) * np.linalg.norm(e))
    rr[~np.isfinite(rr)] = 0
    partial[i] = rr
partial.astype("<f8").ravel().tofile(root / "partial.ref.f64")

y = region - region.mean(axis=0)
u, s, vt = np.linalg.svd(y, full_matrices=False)
u1, v1 = u[:, 0], vt[0]
d = 1.0 if v1.sum() >= 0 else -1.0
(u1 * d * s[0] / np.sqrt(n)).astype("<f8").tofile(root / "eigen.ref.f64")
print("ok")
