"""Exhaustive permutation F reference for pipe's PermutationTest.runF, written from scratch.

Usage: stats_permutation_f.py DIR
Reads (little-endian float64): shape.f64 = [n, V], labels.f64 (n group labels 0..g-1),
Y.f64 (n x V, row-major). Design: one-hot groups; H0: all group means equal (F with g-1, n-g df).

Every distinct assignment of the label multiset to the n rows is enumerated (combinations of
positions for each group in turn: n!/prod(m_i!) assignments, the observed one included). For each,
F per voxel from two least-squares fits (full: one-hot, reduced: intercept). Observed F is also
checked against scipy.stats.f_oneway. FWE p = #{max F >= F_obs (1 - 1e-10)} / N and uncorrected
p = #{F >= F_obs (1 - 1e-10)} / N (same voxel), written as integer counts.
Writes f.f64 (V), fwe_count.f64 (V), unc_count.f64 (V), null.f64 (sorted maxima), count.f64 [N].
"""
import sys, itertools
import numpy as np
from scipy import stats

d = sys.argv[1]
r = lambda name: np.fromfile(f"{d}/{name}.f64", "<f8")
wr = lambda name, a: np.asarray(a, "<f8").ravel().tofile(f"{d}/{name}.f64")
TOL = 1e-10

n, V = map(int, r("shape"))
labels = r("labels").astype(int)
Y = r("Y").reshape(n, V)
g = labels.max() + 1
sizes = [int((labels == k).sum()) for k in range(g)]


def f_map(lab):
    X = np.eye(g)[lab]
    b, *_ = np.linalg.lstsq(X, Y, rcond=None)
    rss1 = ((Y - X @ b) ** 2).sum(0)
    rss0 = ((Y - Y.mean(0)) ** 2).sum(0)
    return ((rss0 - rss1) / (g - 1)) / (rss1 / (n - g))


def assignments(free, k):
    """All ways to place groups k, k+1, ... on the free positions."""
    if k == g - 1:
        yield {k: free}
        return
    for chosen in itertools.combinations(free, sizes[k]):
        rest = tuple(i for i in free if i not in chosen)
        for tail in assignments(rest, k + 1):
            yield {k: chosen, **tail}


f_obs = f_map(labels)
ref = np.array([stats.f_oneway(*[Y[labels == k, v] for k in range(g)]).statistic for v in range(V)])
assert np.allclose(f_obs, ref, rtol=1e-10, atol=0), "lstsq F disagrees with scipy f_oneway"

cut = f_obs * (1 - TOL)
maxima, unc = [], np.zeros(V)
for a in assignments(tuple(range(n)), 0):
    lab = np.empty(n, int)
    for k, pos in a.items():
        lab[list(pos)] = k
    f = f_map(lab)
    maxima.append(f.max())
    unc += f >= cut
maxima = np.array(maxima)
N = len(maxima)
expected = np.prod(np.arange(1, n + 1, dtype=float)) / np.prod([np.prod(np.arange(1, m + 1, dtype=float)) for m in sizes])
assert N == round(expected), (N, expected)
fwe = (maxima[None, :] >= cut[:, None]).sum(1)
wr("f", f_obs); wr("fwe_count", fwe); wr("unc_count", unc); wr("null", np.sort(maxima)); wr("count", [N])
