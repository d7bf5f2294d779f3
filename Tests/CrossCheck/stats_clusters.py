"""References for pipe's cluster kernels: scipy.ndimage.label, nilearn calculate_tfce, FDR.

Usage: stats_clusters.py MODE DIR. Maps are float64 in x-fastest (Fortran) order over a grid
shape.f64 = [nx, ny, nz, ...]; mask.f64 is 0/1.
  label:  structure rank r (1, 2, 3), threshold thr: writes labels of map > thr and of map < -thr
          (scipy.ndimage.label on the masked grid) as pos.f64 / neg.f64.
  tfce:   nilearn.mass_univariate._utils.calculate_tfce(two_sided_test=True), 6-connectivity.
  table:  nilearn.reporting.get_clusters_table on a NIfTI built from map + affine.f64 (16,
          row-major); shape = [nx, ny, nz, threshold, two_sided, cluster_threshold]; writes
          table.f64 rows [id number, sub-peak index (0 = peak), X, Y, Z, Peak Stat, size mm3 or -1].
  fdr:    nilearn.glm.fdr_threshold(z, alpha) -> fdr.f64 [threshold]; BH q-values -> q.f64.
"""
import sys
import numpy as np
from scipy.ndimage import label, generate_binary_structure

mode, d = sys.argv[1], sys.argv[2]
r = lambda name: np.fromfile(f"{d}/{name}.f64", "<f8")
wr = lambda name, a: np.asarray(a, "<f8").ravel(order="F").tofile(f"{d}/{name}.f64")

if mode in ("label", "tfce", "table"):
    sh = r("shape"); nx, ny, nz = map(int, sh[:3])
    m = r("map").reshape((nx, ny, nz), order="F")
    mask = r("mask").reshape((nx, ny, nz), order="F") > 0
    m = np.where(mask, m, 0.0)
if mode == "label":
    rank, thr = int(sh[3]), sh[4]
    st = generate_binary_structure(3, rank)
    pos, _ = label((m > thr) & mask, st)
    neg, _ = label((m < -thr) & mask, st)
    wr("pos", pos.astype(float)); wr("neg", neg.astype(float))
elif mode == "tfce":
    from nilearn.mass_univariate._utils import calculate_tfce
    out = calculate_tfce(m[..., None], bin_struct=generate_binary_structure(3, 1), two_sided_test=True)[..., 0]
    wr("tfce", out)
elif mode == "fdr":
    from nilearn.glm import fdr_threshold
    z = r("z"); alpha = r("alpha")[0]
    wr("fdr", [fdr_threshold(z, alpha)])
    from scipy.stats import norm
    p = norm.sf(z)
    o = np.argsort(p); m_ = len(p)
    q = p[o] * m_ / np.arange(1, m_ + 1)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty(m_); out[o] = np.minimum(q, 1)
    wr("q", out)
elif mode == "table":
    import nibabel as nib
    from nilearn.reporting import get_clusters_table
    aff = r("affine").reshape(4, 4)
    thr, two_sided, cthr = sh[3], bool(sh[4]), int(sh[5])
    img = nib.Nifti1Image(m.astype(np.float64), aff)
    tab = get_clusters_table(img, stat_threshold=thr, cluster_threshold=cthr, two_sided=two_sided)
    out = []
    for _, row in tab.iterrows():
        cid = str(row["Cluster ID"])
        num = int("".join(ch for ch in cid if ch.isdigit()))
        letters = "".join(ch for ch in cid if ch.isalpha())
        sub = 0 if not letters else ord(letters) - ord("a") + 1
        size = row["Cluster Size (mm3)"]
        out.append([num, sub, row["X"], row["Y"], row["Z"], row["Peak Stat"], -1 if size == "" else float(size)])
    np.asarray(out, "<f8").ravel().tofile(f"{d}/table.f64")
