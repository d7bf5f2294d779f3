"""References for pipe's PermutationTest.

Usage: stats_permutation.py MODE DIR
  tmap:       nilearn permuted_ols(n_perm=0) t map. Reads tested.f64 (n), Y.f64 (n x V),
              conf.f64 (n x k), shape.f64 = [n, V, k]; writes t.f64.
  twosample:  exhaustive two-sample test written here from scratch: every choice of group-1
              positions (itertools.combinations), OLS t of the group indicator in [x, 1] by lstsq;
              max |t| per relabeling (identity included); FWE p = #{max >= |t|(1-1e-10)} / N.
              Reads Y.f64, shape.f64 = [n, V, n1]; writes t.f64, p.f64, null.f64.
  signflip:   exhaustive one-sample sign flips: all 2^n sign vectors, one-sample t; same p rule.
  signflip_onesided: the same with max t (not |t|) and p = #{max >= t - |t|*1e-10} / N.
              Reads Y.f64, shape.f64 = [n, V]; writes t.f64, p.f64, null.f64.
  fl:         exhaustive Freedman-Lane with covariates: residualise Y on Z = [1, covars], every
              permutation P of rows, t of x in P·Yr ~ [x, Z]. Reads tested, Y, conf, shape [n, V, k].
"""
import sys, itertools
import numpy as np

mode, d = sys.argv[1], sys.argv[2]
r = lambda name: np.fromfile(f"{d}/{name}.f64", "<f8")
wr = lambda name, a: np.asarray(a, "<f8").ravel().tofile(f"{d}/{name}.f64")
TOL = 1e-10

def ols_t(X, Y, col=0):
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
    res = Y - X @ beta
    df = X.shape[0] - np.linalg.matrix_rank(X)
    s2 = (res ** 2).sum(0) / df
    xtxi = np.linalg.inv(X.T @ X)
    return beta[col] / np.sqrt(s2 * xtxi[col, col])

def fwe(t, maxima):
    cut = np.abs(t) * (1 - TOL)
    return (maxima[None, :] >= cut[:, None]).sum(1) / len(maxima)

if mode == "tmap":
    from nilearn.mass_univariate import permuted_ols
    n, V, k = map(int, r("shape"))
    x = r("tested").reshape(n, 1); Y = r("Y").reshape(n, V)
    conf = r("conf").reshape(n, k) if k > 0 else None
    out = permuted_ols(x, Y, confounding_vars=conf, n_perm=0, model_intercept=True)
    wr("t", out["t"][0])
elif mode == "twosample":
    n, V, n1 = map(int, r("shape"))
    Y = r("Y").reshape(n, V)
    def t_for(g1):
        x = np.zeros(n); x[list(g1)] = 1
        return ols_t(np.column_stack([x, np.ones(n)]), Y)
    t_obs = t_for(range(n1))
    maxima = np.array([np.abs(t_for(g)).max() for g in itertools.combinations(range(n), n1)])
    wr("t", t_obs); wr("p", fwe(t_obs, maxima)); wr("null", np.sort(maxima))
elif mode in ("signflip", "signflip_onesided"):
    one = mode == "signflip_onesided"
    n, V = map(int, r("shape"))
    Y = r("Y").reshape(n, V)
    def t1(Z):
        return Z.mean(0) / (Z.std(0, ddof=1) / np.sqrt(n))
    t_obs = t1(Y)
    maxima = []
    for mask in range(2 ** n):
        s = np.array([-1.0 if (mask >> i) & 1 else 1.0 for i in range(n)])
        tt = t1(Y * s[:, None])
        maxima.append(tt.max() if one else np.abs(tt).max())
    maxima = np.array(maxima)
    if one:
        cut = t_obs - np.abs(t_obs) * TOL
        p = (maxima[None, :] >= cut[:, None]).sum(1) / len(maxima)
    else:
        p = fwe(t_obs, maxima)
    wr("t", t_obs); wr("p", p); wr("null", np.sort(maxima))
elif mode == "fl":
    n, V, k = map(int, r("shape"))
    x = r("tested"); Y = r("Y").reshape(n, V); conf = r("conf").reshape(n, k)
    Z = np.column_stack([np.ones(n), conf])
    g, *_ = np.linalg.lstsq(Z, Y, rcond=None)
    Yr = Y - Z @ g
    X = np.column_stack([x, Z])
    t_obs = ols_t(X, Y)
    maxima = np.array([np.abs(ols_t(X, Yr[list(p)])).max() for p in itertools.permutations(range(n))])
    wr("t", t_obs); wr("p", fwe(t_obs, maxima)); wr("null", np.sort(maxima))
elif mode == "signflip_spatial":
    # All 2^n sign flips of a one-sample design on a full nx x ny x nz grid (x fastest):
    # null max cluster size / mass (|t| > thr, 6-connectivity, +/- separately, as nilearn's
    # calculate_cluster_measures) and null max |TFCE| (nilearn calculate_tfce, stepped).
    from scipy.ndimage import label, generate_binary_structure
    from nilearn.mass_univariate._utils import calculate_tfce
    n, nx, ny, nz, thr = r("shape")
    n, nx, ny, nz = int(n), int(nx), int(ny), int(nz)
    Y = r("Y").reshape(n, nx * ny * nz)
    st = generate_binary_structure(3, 1)
    sizes, masses, tfces = [], [], []
    for mask in range(2 ** n):
        s = np.array([-1.0 if (mask >> i) & 1 else 1.0 for i in range(n)])
        Z = Y * s[:, None]
        t = Z.mean(0) / (Z.std(0, ddof=1) / np.sqrt(n))
        t3 = t.reshape((nx, ny, nz), order="F")
        best_s, best_m = 0, 0.0
        for sign in (1, -1):
            lab, k = label(sign * t3 > thr, st)
            for c in range(1, k + 1):
                vals = np.abs(t3[lab == c]) - thr
                best_s = max(best_s, vals.size); best_m = max(best_m, vals.sum())
        sizes.append(best_s); masses.append(best_m)
        tfces.append(np.abs(calculate_tfce(t3[..., None], st, two_sided_test=True)).max())
    wr("size", sizes); wr("mass", masses); wr("tfce", tfces)
