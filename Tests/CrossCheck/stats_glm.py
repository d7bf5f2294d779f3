"""Reference OLS for pipe's GLMFit: numpy lstsq betas, t for a contrast vector, F for a matrix.

Usage: stats_glm.py DIR. Reads X.f64 (n x p), Y.f64 (n x V), c.f64 (p), C.f64 (q x p),
shape.f64 = [n, p, V, q]; writes beta.f64 (p x V), t.f64, F.f64.
"""
import sys
import numpy as np
d = sys.argv[1]
r = lambda name: np.fromfile(f"{d}/{name}.f64", "<f8")
n, p, V, q = map(int, r("shape"))
X = r("X").reshape(n, p); Y = r("Y").reshape(n, V); c = r("c"); C = r("C").reshape(q, p)
beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
res = Y - X @ beta
df = n - np.linalg.matrix_rank(X)
s2 = (res ** 2).sum(0) / df
XtXi = np.linalg.inv(X.T @ X)
t = (c @ beta) / np.sqrt(s2 * (c @ XtXi @ c))
cb = C @ beta
M = np.linalg.inv(C @ XtXi @ C.T)
F = np.einsum("iv,ij,jv->v", cb, M, cb) / (q * s2)
beta.astype("<f8").tofile(f"{d}/beta.f64"); t.astype("<f8").tofile(f"{d}/t.f64"); F.astype("<f8").tofile(f"{d}/F.f64")
