#!/usr/bin/env python3
"""Writes the small committed fixture Tests/Fixtures/sub-01_task-rest_bold.nii.gz with nibabel.

A 10x12x10x20 big-endian int16 image with scl_slope/scl_inter, the TR stored in milliseconds, an
MNI-like LAS affine and a comment extension: the awkward cases a reader meets in scanner data. The
expected values (from nibabel) go to sub-01_task-rest_bold.expected.json. Rerun only on purpose.
"""
import json
import os
import sys

import nibabel as nib
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261125)
shape = (10, 12, 10, 20)
x, y, z = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape[:3]], indexing="ij")
brain = (x**2 + y**2 + z**2) < 0.8
signal = 800 + 200 * np.sin(np.arange(shape[3]) / 3.0)
data = np.where(brain[..., None], signal + rng.normal(0, 25, shape), 0).astype(np.float64)

hdr = nib.Nifti1Header(endianness=">")
hdr.set_data_dtype(np.int16)
affine = np.array([[-4.0, 0, 0, 20], [0, 4, 0, -24], [0, 0, 4, -18], [0, 0, 0, 1]])
img = nib.Nifti1Image(np.zeros(shape, np.int16), affine, hdr)
img.header.set_slope_inter(0.1, 5.0)
raw = np.round((data - 5.0) / 0.1).astype(">i2")
img = nib.Nifti1Image(raw, affine, img.header)
img.header.set_slope_inter(0.1, 5.0)
img.header.set_xyzt_units("mm", "msec")
img.header["pixdim"][4] = 2000.0
img.header.set_qform(affine, code=4)
img.header.set_sform(affine, code=4)
img.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"pipe fixture: scanner-like int16 with scaling"))
path = os.path.join(here, "sub-01_task-rest_bold.nii.gz")
nib.save(img, path)

back = nib.load(path)
values = back.get_fdata(dtype=np.float64)
expected = {
    "shape": list(back.shape),
    "affine": back.affine.tolist(),
    "tr_seconds": float(back.header.get_zooms()[3]) / 1000.0,
    "datatype": "int16",
    "byte_order": "big",
    "slope": 0.1,
    "inter": 5.0,
    "orientation": "".join(nib.aff2axcodes(back.affine)),
    "min": float(values.min()),
    "max": float(values.max()),
    "mean": float(values.mean()),
    "sum": float(values.sum()),
    "nan_count": int(np.isnan(values).sum()),
    "extensions": [int(e.get_code()) for e in back.header.extensions],
}
with open(os.path.join(here, "sub-01_task-rest_bold.expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
print(path, file=sys.stderr)
