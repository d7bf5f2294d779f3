"""Reference for ScrubbingMask: nilearn's own _load_scrub (load_confounds "scrub"), 0.14.1.

Usage: signal_scrub.py DIR. DIR/cases.json: list of {name, fd, dvars, fd_threshold,
dvars_threshold, scrub}; NaN is passed as null. Writes DIR/<name>.ref.f64: 1.0 = kept, 0.0 = censored.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from nilearn.interfaces.fmriprep.load_confounds_components import _load_scrub

root = Path(sys.argv[1])
for case in json.loads((root / "cases.json").read_text()):
    fd = np.array([np.nan if x is None else x for x in case["fd"]], dtype=float)
    dv = np.array([np.nan if x is None else x for x in case["dvars"]], dtype=float)
    frame = pd.DataFrame({"framewise_displacement": fd, "std_dvars": dv})
    outliers = _load_scrub(frame, case["scrub"], case["fd_threshold"], case["dvars_threshold"])
    keep = np.ones(len(fd))
    if outliers.size:
        keep[outliers.to_numpy().sum(axis=1) > 0] = 0
    keep.astype("<f8").tofile(root / f"{case['name']}.ref.f64")
print("ok")
