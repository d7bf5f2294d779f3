"""Reference for ButterworthFilter: scipy.signal.butter(..., output="sos") + sosfiltfilt (odd padding,
default padlen), with nilearn's cut-off clamping (nilearn.signal.butterworth).

Usage: signal_butterworth.py DIR. DIR/cases.json: list of {name, x (input file), n, tr, low_pass,
high_pass, order}. Writes DIR/<name>.ref.f64 (the filtered series) and DIR/<name>.padlen.f64.
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import signal as sp_signal

import nilearn.signal as nsig

warnings.simplefilter("ignore")
root = Path(sys.argv[1])
for case in json.loads((root / "cases.json").read_text()):
    x = np.fromfile(root / case["x"], "<f8")[: case["n"]]
    fs = 1.0 / case["tr"]
    y = nsig.butterworth(x.copy(), sampling_rate=fs, low_pass=case["low_pass"], high_pass=case["high_pass"],
                         order=case["order"], copy=True)
    np.asarray(y, dtype="<f8").tofile(root / f"{case['name']}.ref.f64")
    nyq = fs / 2
    wn = [nsig._check_wn("high", case["high_pass"], nyq)] if case["high_pass"] is not None else []
    if case["low_pass"] is not None:
        wn.append(nsig._check_wn("low", case["low_pass"], nyq))
    btype = "band" if len(wn) == 2 else ("high" if case["high_pass"] is not None else "low")
    sos = sp_signal.butter(case["order"], wn if len(wn) == 2 else wn[0], btype=btype, output="sos", fs=fs)
    ntaps = 2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum())
    np.asarray([3 * ntaps], dtype="<f8").tofile(root / f"{case['name']}.padlen.f64")
print("ok")
