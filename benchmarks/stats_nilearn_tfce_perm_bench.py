"""nilearn permuted_ols(tfce=True) timing on the stats-bench design: 49 subjects, the same
~229k-voxel ellipsoid mask (91 x 109 x 91, 2 mm), 3 covariates, two-sample tested variable.

Usage: stats_nilearn_tfce_perm_bench.py [perms=4] [subjects=49] [covars=3]
Prints wall seconds per permutation (n_jobs=-1, all cores); extrapolate linearly to 5000.
The unpermuted map's TFCE is computed too (nilearn always does), so per-permutation time is
wall / (perms + 1).
"""
import sys, time
import numpy as np
import nibabel as nib
from nilearn.maskers import NiftiMasker
from nilearn.mass_univariate import permuted_ols

p, s, k = [int(a) for a in (sys.argv[1:] + ["4", "49", "3"][len(sys.argv) - 1:])]
x, y, z = np.meshgrid(np.arange(91), np.arange(109), np.arange(91), indexing="ij")
mask = ((x - 45) / 36) ** 2 + ((y - 54) / 46) ** 2 + ((z - 40) / 33) ** 2 <= 1
affine = np.diag([2.0, 2.0, 2.0, 1.0])
masker = NiftiMasker(nib.Nifti1Image(mask.astype(np.uint8), affine)).fit()
rng = np.random.default_rng(1)
Y = rng.standard_normal((s, int(mask.sum())))
tested = (np.arange(s) < s // 2).astype(float)[:, None]
conf = rng.standard_normal((s, k)) if k else None
t0, c0 = time.time(), time.process_time()
permuted_ols(tested, Y, confounding_vars=conf, n_perm=p, n_jobs=-1, random_state=0, verbose=0,
             tfce=True, masker=masker, two_sided_test=True)
wall = time.time() - t0
print(f"nilearn permuted_ols tfce=True: {s} subjects x {mask.sum()} voxels x {p} perms, {k} covariates: "
      f"{wall:.2f} s wall ({wall / (p + 1) * 1000:.0f} ms per map incl. the unpermuted one; "
      f"x5000 = {wall / (p + 1) * 5000 / 60:.0f} min); parent CPU {time.process_time() - c0:.2f} s")
