"""Reference outputs of nilearn.signal.clean (0.14.1) for SignalCleanCrossCheckTests.

Usage: signal_clean.py DIR. DIR/cases.json lists cases; inputs are little-endian float64 files
written by the Swift test; for each case this writes DIR/<name>.ref.f64 (row-major T' x V).

Reference per case "reference" field:
- "nilearn": nilearn.signal.clean as installed (0.14.1), bugs included;
- "nilearn_fixed_interp": nilearn.signal.clean with `_interpolate_volumes` patched to use a boolean
  mask (what nilearn intends; 0.14.1 applies `~` to an integer index array);
- "zscore_ddof0": nilearn clean with standardize=None, then (x - mean) / std(ddof=0), std < eps -> 1;
- "ideal": nilearn's _detrend, then the numpy DPABI ideal filter below on signals and confounds,
  then nilearn clean(detrend=False, filter=False) for confound scaling, QR regression, standardize.
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

import nilearn.signal as nsig

warnings.simplefilter("ignore")

ORIGINAL_INTERPOLATE = nsig._interpolate_volumes


def fixed_interpolate(volumes, sample_mask, t_r, extrapolate):
    keep = np.zeros(volumes.shape[0], dtype=bool)
    keep[sample_mask] = True
    frame_times = np.arange(volumes.shape[0]) * t_r
    spline = CubicSpline(frame_times[keep], volumes[keep, :], extrapolate=extrapolate)
    interpolated = spline(frame_times)
    volumes[~keep, :] = interpolated[~keep, :]
    return volumes


def ideal_filter(x, t_r, low_pass, high_pass):
    """DPABI y_IdealFilter: demean, zero-pad to 2^nextpow2, zero stop-band bins, crop, add mean."""
    t = x.shape[0]
    n = 1 << int(np.ceil(np.log2(t))) if t > 1 else 1
    mean = x.mean(axis=0)
    padded = np.zeros((n, x.shape[1]))
    padded[:t] = x - mean
    nyq = 0.5 / t_r
    k_low = 1
    if high_pass is not None:
        k_low = n // 2 + 1 if high_pass >= nyq else max(1, int(np.ceil(high_pass * n * t_r)))
    k_high = n // 2
    if low_pass is not None and 0 < low_pass < nyq:
        k_high = min(n // 2, int(np.fix(low_pass * n * t_r)))
    mask = np.zeros(n)
    for k in range(k_low, k_high + 1):
        mask[k] = 1
        mask[(n - k) % n] = 1
    mask[0] = 0
    spectrum = np.fft.fft(padded, axis=0) * mask[:, None]
    return np.real(np.fft.ifft(spectrum, axis=0))[:t] + mean


def main():
    root = Path(sys.argv[1])
    cases = json.loads((root / "cases.json").read_text())
    for case in cases:
        t, v = case["T"], case["V"]
        signals = np.fromfile(root / case["signals"], "<f8").reshape(t, v)
        confounds = None
        if case.get("confounds"):
            confounds = np.fromfile(root / case["confounds"], "<f8").reshape(t, case["K"])
        mask = None
        if case.get("mask") is not None:
            mask = np.asarray(case["mask"], dtype=bool)
        filt = case["filter"] if case["filter"] else False
        standardize = case["standardize"]
        ref = case["reference"]
        nsig._interpolate_volumes = fixed_interpolate if ref in ("nilearn_fixed_interp", "zscore_ddof0") and case.get("fixed", True) else ORIGINAL_INTERPOLATE
        if ref == "ideal":
            s = nsig._detrend(signals) if case["detrend"] else signals.copy()
            s = ideal_filter(s, case["t_r"], case["low_pass"], case["high_pass"])
            c = None
            if confounds is not None:
                c = nsig._detrend(confounds) if case["detrend"] else confounds.copy()
                c = ideal_filter(c, case["t_r"], case["low_pass"], case["high_pass"])
            out = nsig.clean(s, detrend=False, standardize=standardize, confounds=c,
                             standardize_confounds=case["standardize_confounds"], filter=False, t_r=case["t_r"])
        else:
            std_arg = None if ref == "zscore_ddof0" else standardize
            out = nsig.clean(signals, detrend=case["detrend"], standardize=std_arg, sample_mask=mask,
                             confounds=confounds, standardize_confounds=case["standardize_confounds"],
                             filter=filt, low_pass=case["low_pass"], high_pass=case["high_pass"],
                             t_r=case["t_r"], ensure_finite=case.get("ensure_finite", False))
            if ref == "zscore_ddof0":
                out = out - out.mean(axis=0)
                sd = out.std(axis=0, ddof=0)
                sd[sd < np.finfo(np.float64).eps] = 1.0
                out = out / sd
        np.ascontiguousarray(out, dtype="<f8").tofile(root / f"{case['name']}.ref.f64")
    print(f"ok {len(cases)} cases")


if __name__ == "__main__":
    main()
