"""nilearn permuted_ols with TFCE on one group test of the full-size study, for benchmarks/full-study.sh.

Usage: full_study_nilearn_group.py OUT STAGE N1 N2

OUT is the study's output folder (pipelines/full.json publishes to out/full) and STAGE a `group`
stage with one two-group contrast (responders_baseline). The same data as pipe's test: the
subjects in the stage's summary (QC exclusions applied), their Fisher z maps of the stage's seed
and session, the voxels where pipe's t map is defined (its group mask), the group column's first
level coded 1 and an intercept (nilearn's model_intercept). Two-sided, tfce=True, n_jobs=-1.

nilearn's cost is linear in the permutation count: T(N) = fixed + N * per_perm. Two timed runs (N1 <
N2, after an untimed warm-up) give both, as in benchmarks/group_stats_nilearn.py. Prints max |t|
next to pipe's (the same-data check), and last `result FIXED_S PER_PERM_S`.
"""
import glob
import json
import os
import sys
import time

import nibabel as nib
import numpy as np
from nilearn.maskers import NiftiMasker
from nilearn.mass_univariate import permuted_ols

out, stage, n1, n2 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
summary = json.load(open(glob.glob(os.path.join(out, stage, "*_summary.json"))[0]))
contrast = summary["contrasts"][0]
seed, session, column = summary["seed"], summary["session"], summary["design"]["group"]
rows = [line.rstrip("\n").split("\t") for line in open(os.path.join(out, "cohort", "participants.tsv"))]
header = rows[0]
level = {r[0]: r[header.index(column)] for r in rows[1:]}
positive = contrast["contrast"].split(">")[0].strip()
subjects = summary["subjects"]
tested = np.array([[1.0 if level["sub-" + s] == positive else 0.0] for s in subjects])
maps = [glob.glob(os.path.join(out, "connectivity", f"sub-{s}_ses-{session}_*seed-{seed}_stat-z_connectivity.nii.gz"))[0]
        for s in subjects]
t_pipe = glob.glob(os.path.join(out, stage, "*_stat-t_statmap.nii.gz"))[0]
t_img = nib.load(t_pipe)
t_data = np.asarray(t_img.dataobj)
mask = nib.Nifti1Image((np.isfinite(t_data) & (t_data != 0)).astype(np.uint8), t_img.affine)
masker = NiftiMasker(mask).fit()
y = masker.transform(maps)
print(f"{len(subjects)} subjects ({int(tested.sum())} {positive}), {y.shape[1]} voxels")


def run(n):
    start = time.perf_counter()
    result = permuted_ols(tested, y, model_intercept=True, n_perm=n, two_sided_test=True, random_state=0,
                          n_jobs=-1, tfce=True, masker=masker, output_type="dict", verbose=0)
    return time.perf_counter() - start, result


run(4)
s1, _ = run(n1)
s2, result = run(n2)
per = (s2 - s1) / (n2 - n1)
fixed = s1 - n1 * per
print(f"nilearn max |t| {np.abs(result['t']).max():.6f}, pipe {contrast['max_abs_t']:.6f}")
print(f"{n1} permutations {s1:.1f} s, {n2} permutations {s2:.1f} s")
print(f"result {fixed:.3f} {per:.5f}")
