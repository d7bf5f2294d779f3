"""nilearn.signal.clean (0.14.1) with SPM and AFNI motion files, for MotionFileTests.

Usage: confounds_motion.py DIR. DIR holds signals.f64 (little-endian float64, T x V row-major),
rp_sub-01.txt (SPM realignment parameters) and dfile.r01.1D (AFNI 3dvolreg -1Dfile, with '#'
comment lines). Writes DIR/<case>.ref.f64 for:
- spm_6p: signal.clean with confounds=the rp_ file's path (nilearn reads it with np.genfromtxt);
- spm_24p: the 6 parameters, their backward differences (first row n/a, filled from the second
  row as nilearn's load_confounds fills fMRIPrep's n/a), and the squares of both;
- afni_6p: signal.clean with confounds=the .1D file's path (its '#' lines are comments).
Every case: detrend=True, standardize=False, standardize_confounds=True, filter=False, t_r=2.
"""
import sys
import warnings
from pathlib import Path

import numpy as np
from nilearn import signal

warnings.simplefilter("ignore")


def main():
    d = Path(sys.argv[1])
    motion = np.loadtxt(d / "rp_sub-01.txt")
    t = motion.shape[0]
    signals = np.fromfile(d / "signals.f64", "<f8").reshape(t, -1)
    derivative = np.vstack([np.full((1, 6), np.nan), np.diff(motion, axis=0)])
    derivative[0] = derivative[1]
    p24 = np.hstack([motion, derivative, motion ** 2, derivative ** 2])
    cases = {"spm_6p": str(d / "rp_sub-01.txt"), "spm_24p": p24, "afni_6p": str(d / "dfile.r01.1D")}
    for name, confounds in cases.items():
        out = signal.clean(signals, confounds=confounds, detrend=True, standardize=False,
                           standardize_confounds=True, filter=False, t_r=2.0)
        np.ascontiguousarray(out, dtype="<f8").tofile(d / f"{name}.ref.f64")


if __name__ == "__main__":
    main()
