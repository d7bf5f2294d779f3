"""Reference for EPIBrainMask: nilearn.masking.compute_epi_mask (0.14.1).

Usage: signal_epi_mask.py DIR. DIR/cases.json: list of {name, shape, input, lower_cutoff,
upper_cutoff, connected, opening, exclude_zeros}. Writes DIR/<name>.ref.f64 (1.0 = in mask), x fastest.
"""
import json
import sys
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
from nilearn.masking import compute_epi_mask

warnings.simplefilter("ignore")
root = Path(sys.argv[1])
for case in json.loads((root / "cases.json").read_text()):
    shape = tuple(case["shape"])
    data = np.fromfile(root / case["input"], "<f8").reshape(shape, order="F")
    img = nib.Nifti1Image(data, np.diag([2.0, 2.5, 3.0, 1.0]))
    mask = compute_epi_mask(img, lower_cutoff=case["lower_cutoff"], upper_cutoff=case["upper_cutoff"],
                            connected=case["connected"], opening=case["opening"], exclude_zeros=case["exclude_zeros"])
    np.asarray(mask.get_fdata(), dtype="<f8").ravel(order="F").tofile(root / f"{case['name']}.ref.f64")
print("ok")
