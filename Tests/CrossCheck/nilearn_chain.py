#!/usr/bin/env python3
"""nilearn reference for pipe's subject-level chain (clean + seeds + connectivity).

Usage: nilearn_chain.py CONFIG.json

CONFIG keys:
  bold, mask (paths); confounds (TSV path or null); confound_columns (list);
  dummy_scans (int); t_r (float); smoothing_fwhm (float or 0); detrend (bool);
  low_pass, high_pass (Hz or null); standardize (false | "zscore_sample");
  scrub_keep (list of kept volume indices after dummy scans, or null);
  seeds: list of {"name", "sphere": [x,y,z], "radius"} or {"name", "atlas", "label"};
  out_dir.

For each seed writes OUT/<name>_r.nii.gz, OUT/<name>_z.nii.gz (float64 maps on the data grid)
and OUT/<name>_seed.f64 (the seed series, little-endian float64). The seed series comes from
nilearn's NiftiSpheresMasker / NiftiLabelsMasker with the same cleaning as the brain NiftiMasker
(so it is clean(mean(raw)), as nilearn users compute it); r is the exact Pearson correlation and
z = arctanh(r) with |r| clamped at 1 - 1e-7, pipe's documented convention.
"""
import json
import os
import sys

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn.image import index_img
from nilearn.maskers import NiftiLabelsMasker, NiftiMasker, NiftiSpheresMasker


def main():
    cfg = json.load(open(sys.argv[1]))
    out = cfg["out_dir"]
    os.makedirs(out, exist_ok=True)
    bold = nib.load(cfg["bold"])
    n = bold.shape[3]
    d = int(cfg.get("dummy_scans", 0))
    if d:
        bold = index_img(bold, slice(d, n))
    confounds = None
    if cfg.get("confounds") and cfg.get("confound_columns"):
        table = pd.read_csv(cfg["confounds"], sep="\t", na_values=["n/a"])[cfg["confound_columns"]]
        table = table.bfill()  # fMRIPrep's leading n/a take the first finite value
        confounds = table.to_numpy(dtype=np.float64)[d:]
    common = dict(
        mask_img=cfg["mask"],
        smoothing_fwhm=cfg.get("smoothing_fwhm") or None,
        detrend=bool(cfg.get("detrend", True)),
        standardize=cfg.get("standardize", False) or False,
        low_pass=cfg.get("low_pass"),
        high_pass=cfg.get("high_pass"),
        t_r=cfg["t_r"],
    )
    keep = cfg.get("scrub_keep")
    kwargs = {"confounds": confounds}
    if keep is not None:
        kwargs["sample_mask"] = np.asarray(keep, dtype=int)
    brain_masker = NiftiMasker(**common)
    brain = brain_masker.fit_transform(bold, **kwargs)
    for seed in cfg["seeds"]:
        if "sphere" in seed:
            masker = NiftiSpheresMasker([tuple(seed["sphere"])], radius=seed["radius"], **common)
            series = masker.fit_transform(bold, **kwargs)[:, 0]
        else:
            labels = nib.load(seed["atlas"])
            only = nib.Nifti1Image((np.asarray(labels.dataobj) == seed["label"]).astype(np.int16), labels.affine)
            masker = NiftiLabelsMasker(only, **common)
            series = masker.fit_transform(bold, **kwargs)[:, 0]
        s = series - series.mean()
        b = brain - brain.mean(axis=0)
        denom = np.sqrt((s * s).sum() * (b * b).sum(axis=0))
        r = np.where(denom > 0, (s @ b) / np.where(denom > 0, denom, 1), 0.0)
        z = np.arctanh(np.clip(r, -(1 - 1e-7), 1 - 1e-7))
        brain_masker.inverse_transform(r).to_filename(os.path.join(out, f"{seed['name']}_r.nii.gz"))
        brain_masker.inverse_transform(z).to_filename(os.path.join(out, f"{seed['name']}_z.nii.gz"))
        series.astype("<f8").tofile(os.path.join(out, f"{seed['name']}_seed.f64"))
    print("ok", len(cfg["seeds"]), "seeds", brain.shape)


if __name__ == "__main__":
    main()
