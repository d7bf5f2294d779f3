"""Reference for GaussianSmoothing: nilearn.image.smooth_img on a small 4D float64 volume.

Usage: signal_smoothing.py DIR. DIR/cases.json: list of {name, shape, affine (4x4), fwhm (number,
list of 3, or null), input}. Writes DIR/<name>.ref.f64 in NIfTI order (x fastest).
"""
import json
import sys
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
from nilearn.image import smooth_img

warnings.simplefilter("ignore")

root = Path(sys.argv[1])
for case in json.loads((root / "cases.json").read_text()):
    shape = tuple(case["shape"])
    data = np.fromfile(root / case["input"], "<f8").reshape(shape, order="F")
    img = nib.Nifti1Image(data, np.asarray(case["affine"], dtype=float))
    out = smooth_img(img, fwhm=case["fwhm"]).get_fdata(dtype=np.float64)
    np.asarray(out, dtype="<f8").ravel(order="F").tofile(root / f"{case['name']}.ref.f64")
print("ok")
