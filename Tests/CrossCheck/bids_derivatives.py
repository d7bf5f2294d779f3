"""Reads pipe's published outputs as a BIDS-derivatives dataset, for DemoStudyTests.

Usage: bids_derivatives.py OUT. Loads OUT with pybids (BIDSLayout, is_derivative=True) and every
NIfTI file in it with nibabel, and prints one JSON object:
{"description": dataset_description.json as pybids reads it, "subjects": pybids' subject labels,
 "niftis": how many NIfTI files pybids indexed, "without_metadata": NIfTI files whose sidecar
 metadata pybids cannot find (or that lack TaskKey), "unreadable": NIfTI files nibabel cannot load,
 "non_finite": NIfTI files with NaN or infinite values}.
"""
import json
import sys

import nibabel
import numpy as np
from bids import BIDSLayout


def main():
    layout = BIDSLayout(sys.argv[1], validate=False, is_derivative=True)
    niftis = layout.get(extension=".nii.gz")
    without, unreadable, non_finite = [], [], []
    for f in niftis:
        metadata = layout.get_metadata(f.path)
        if "TaskKey" not in metadata:
            without.append(f.filename)
        try:
            data = np.asarray(nibabel.load(f.path).dataobj)
        except Exception as e:  # noqa: BLE001 - any failure to read is the finding
            unreadable.append(f"{f.filename}: {e}")
            continue
        if not np.all(np.isfinite(data)):
            non_finite.append(f.filename)
    print(json.dumps({"description": layout.get_dataset_description(), "subjects": sorted(layout.get_subjects()),
                      "niftis": len(niftis), "without_metadata": without, "unreadable": unreadable,
                      "non_finite": non_finite}))


if __name__ == "__main__":
    main()
