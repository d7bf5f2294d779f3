"""Exhaustive max-T FWE p of a group or longitudinal stage that reads a maps table, from scratch.

Usage: stats_maps_permutation.py MODE DIR TABLE ARGS...
  Reads DIR/TABLE (participant_id, session, path relative to DIR) and DIR/participants.tsv,
  and the NIfTI maps with nibabel (not pipe's reader). The group mask is the voxels every map
  used covers (finite and non-zero), as pipe's "intersection".
  twosample LEVEL_A LEVEL_B SESSION: the maps at SESSION; the OLS t of the indicator of LEVEL_A
            in [x, 1] (the group column `group`; equal to the cell-means contrast A - B); every
            choice of LEVEL_A positions among the subjects (itertools.combinations, the identity
            included).
  paired PRE POST: d = post - pre per subject with both; the one-sample t of d; every one of the
            2^n sign vectors (the identity included).
  For each relabeling the maximum |t| over the mask; FWE p of a voxel = #{max >= |t|(1 - 1e-10)} / N,
  pipe's rule for an exhaustive enumeration (docs/statistics.md). Writes, over the full grid in
  NIfTI order (x fastest), count.f64 (the count; -1 outside the mask), p.f64 (count / N; -1
  outside), and n.f64 = [N].
"""
import sys, csv, itertools
import numpy as np
import nibabel as nib

mode, d = sys.argv[1], sys.argv[2]
TOL = 1e-10

def table(name):
    with open(f"{d}/{name}", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))

strip = lambda s, p: s[len(p):] if s.startswith(p) else s
maps = {}
for row in table(sys.argv[3]):
    maps[(strip(row["participant_id"], "sub-"), strip(row.get("session", ""), "ses-"))] = f"{d}/{row['path']}"
groups = {strip(r["participant_id"], "sub-"): r.get("group", "") for r in table("participants.tsv")}

def load(paths):
    data = np.stack([np.asarray(nib.load(p).get_fdata(dtype=np.float64)).reshape(-1, order="F") for p in paths])
    return data

def t_two(x, Y):
    X = np.column_stack([x, np.ones(len(x))])
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
    res = Y - X @ beta
    s2 = (res ** 2).sum(0) / (X.shape[0] - 2)
    return beta[0] / np.sqrt(s2 * np.linalg.inv(X.T @ X)[0, 0])

def t_one(Z):
    return Z.mean(0) / (Z.std(0, ddof=1) / np.sqrt(Z.shape[0]))

if mode == "twosample":
    a, b, session = sys.argv[4], sys.argv[5], sys.argv[6]
    subjects = sorted(s for (s, ses) in maps if ses == session and groups[s] in (a, b))
    data = load([maps[(s, session)] for s in subjects])
    mask = np.all((data != 0) & np.isfinite(data), axis=0)
    Y = data[:, mask]
    n, n1 = len(subjects), sum(groups[s] == a for s in subjects)
    def t_for(chosen):
        x = np.zeros(n); x[list(chosen)] = 1
        return t_two(x, Y)
    t_obs = t_two(np.array([1.0 if groups[s] == a else 0.0 for s in subjects]), Y)
    maxima = np.array([np.abs(t_for(c)).max() for c in itertools.combinations(range(n), n1)])
elif mode == "paired":
    pre, post = sys.argv[4], sys.argv[5]
    subjects = sorted(s for (s, ses) in maps if ses == pre and (s, post) in maps)
    before, after = load([maps[(s, pre)] for s in subjects]), load([maps[(s, post)] for s in subjects])
    mask = np.all((before != 0) & np.isfinite(before) & (after != 0) & np.isfinite(after), axis=0)
    Z = (after - before)[:, mask]
    n = len(subjects)
    t_obs = t_one(Z)
    maxima = []
    for bits in range(2 ** n):
        s = np.array([-1.0 if (bits >> i) & 1 else 1.0 for i in range(n)])
        maxima.append(np.abs(t_one(Z * s[:, None])).max())
    maxima = np.array(maxima)
else:
    sys.exit(f"unknown mode {mode}")

count = (maxima[None, :] >= (np.abs(t_obs) * (1 - TOL))[:, None]).sum(1)
full_count = np.full(mask.size, -1.0); full_count[mask] = count
full_p = np.full(mask.size, -1.0); full_p[mask] = count / len(maxima)
full_count.astype("<f8").tofile(f"{d}/count.f64")
full_p.astype("<f8").tofile(f"{d}/p.f64")
np.array([len(maxima)], "<f8").tofile(f"{d}/n.f64")
