"""Which aCompCor columns nilearn's load_confounds selects, for ACompCorTests.

Usage: compcor_select.py CASES.json. The file lists {"bold": <..._desc-preproc_bold.nii.gz path>,
"compcor": "anat_combined" | "anat_separated", "n_compcor": int | "all" | fraction}. For each
case this prints the selected comp_cor column names, in order (one JSON list per case, as a list):
- n_compcor an int or "all": nilearn.interfaces.fmriprep.load_confounds(bold, strategy=
  ["high_pass", "compcor"], compcor=..., n_compcor=...) (high_pass is required with compcor),
  its comp_cor columns;
- n_compcor a fraction (nilearn has no such option): from the confounds JSON sidecar, for each
  mask (combined; or WM and CSF), the fewest leading retained aCompCor components whose
  CumulativeVarianceExplained reaches the fraction, in the file's column order.
A case nilearn refuses prints {"error": message}.
"""
import json
import sys
import warnings
from pathlib import Path

from nilearn.interfaces.fmriprep import load_confounds

warnings.simplefilter("ignore")


def by_fraction(bold, compcor, fraction):
    stem = Path(bold).name.split("_space-")[0]
    folder = Path(bold).parent
    tsv = next(p for p in sorted(folder.glob(stem + "_desc-confounds_*.tsv")))
    meta = json.load(open(str(tsv)[:-4] + ".json"))
    columns = open(tsv).readline().rstrip("\n").split("\t")
    masks = ["combined"] if compcor == "anat_combined" else ["WM", "CSF"]
    out = []
    for mask in masks:
        components = [c for c in columns if meta.get(c, {}).get("Method") == "aCompCor"
                      and meta[c].get("Mask") == mask and meta[c].get("Retained", True)]
        for c in components:
            out.append(c)
            if meta[c]["CumulativeVarianceExplained"] >= fraction:
                break
    return sorted(out, key=columns.index)  # the file's column order, as load_confounds returns


def main():
    results = []
    for case in json.load(open(sys.argv[1])):
        n = case["n_compcor"]
        if isinstance(n, float) and 0 < n < 1:
            results.append(by_fraction(case["bold"], case["compcor"], n))
            continue
        try:
            confounds, _ = load_confounds(case["bold"], strategy=["high_pass", "compcor"], compcor=case["compcor"],
                                          n_compcor=n, demean=False)
            results.append([c for c in confounds.columns if "comp_cor" in c])
        except Exception as e:  # noqa: BLE001
            results.append({"error": str(e)})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
