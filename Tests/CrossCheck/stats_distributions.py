"""Reference values for pipe's Numerics distributions (scipy.stats, nilearn z_score).

Usage: stats_distributions.py OUT_DIR. Writes little-endian float64 files: inputs and expected
outputs over a grid that reaches far into the tails.
"""
import sys
import numpy as np
from scipy import stats
from nilearn.glm._utils import z_score

out = sys.argv[1]
def w(name, a):
    np.asarray(a, dtype="<f8").ravel().tofile(f"{out}/{name}.f64")

ts = np.concatenate([-np.logspace(-3, 3, 25)[::-1], [0.0], np.logspace(-3, 3, 25), [1e5, 1e10, -1e10]])
dfs = np.array([1, 2, 3, 5, 7.5, 10, 20, 47, 100, 1000, 1e5])
T, D = np.meshgrid(ts, dfs, indexing="ij")
T, D = T.ravel(), D.ravel()
w("t_in", np.stack([T, D], 1))
w("t_sf", stats.t.sf(T, D)); w("t_cdf", stats.t.cdf(T, D)); w("t_logsf", stats.t.logsf(T, D))
w("t_z", z_score(stats.t.sf(T, D), stats.t.cdf(T, D)))

fs = np.concatenate([[1e-6, 1e-3, 0.1, 0.5, 1, 2, 5, 10, 30, 100, 1e3, 1e5, 1e8]])
d1s = np.array([1, 2, 3, 5, 10])
d2s = np.array([3, 10, 45, 200])
F, A, B = np.meshgrid(fs, d1s, d2s, indexing="ij")
F, A, B = F.ravel(), A.ravel(), B.ravel()
w("f_in", np.stack([F, A, B], 1)); w("f_sf", stats.f.sf(F, A, B)); w("f_cdf", stats.f.cdf(F, A, B))

xs = np.concatenate([np.linspace(-38, 38, 153), [-1e-8, 1e-8, 0.3, -0.3]])
w("n_x", xs); w("n_sf", stats.norm.sf(xs)); w("n_cdf", stats.norm.cdf(xs))
ps = np.concatenate([np.logspace(-300, -1, 120), np.linspace(0.1, 0.9, 17), 1 - np.logspace(-1, -15, 15)])
w("n_p", ps); w("n_isf", stats.norm.isf(ps))

tp = np.array([0.05, 0.01, 0.001, 1e-4, 1e-6])
tdf = np.array([3, 10, 27, 100])
P, DD = np.meshgrid(tp, tdf, indexing="ij")
w("tisf_in", np.stack([P.ravel(), DD.ravel()], 1)); w("tisf", stats.t.isf(P.ravel(), DD.ravel()))
