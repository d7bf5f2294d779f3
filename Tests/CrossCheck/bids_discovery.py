"""Which fMRIPrep files pybids finds, for FMRIPrepDiscoveryTests.

Usage: bids_discovery.py QUERIES.json. The file holds {"root": <derivatives folder>, "queries":
[{"subject", "session" (null: none), "run" (null: no run entity; "*": any), "entities": {entity
key: value}, "mask": bool}]}. Prints one JSON object per query, in order, as a list:
{"bold": [names], "runs": [labels or null], "sidecar": [...], "confounds": [...], "brain_mask": [...]}
with file names (not paths). Companion files are queried with the single BOLD file's entities,
as pybids users do (layout.get(**bold.get_entities()) with desc/suffix/extension replaced), the
confounds file without space and res.
"""
import json
import sys

from bids import BIDSLayout
from bids.layout import Query

# pipe's entity keys -> pybids entity names.
NAMES = {"task": "task", "acq": "acquisition", "ce": "ceagent", "rec": "reconstruction", "dir": "direction",
         "echo": "echo", "space": "space", "res": "res", "run": "run", "sub": "subject", "ses": "session"}


def names(files):
    return sorted(f.filename for f in files)


def main():
    spec = json.load(open(sys.argv[1]))
    layout = BIDSLayout(spec["root"], validate=False, config=["bids", "derivatives"])
    out = []
    for q in spec["queries"]:
        filters = {NAMES[k]: v for k, v in q["entities"].items()}
        filters["subject"] = q["subject"]
        filters["session"] = q["session"] if q["session"] is not None else Query.NONE
        any_run = q["run"] == "*"
        if not any_run:
            filters["run"] = int(q["run"]) if q["run"] is not None else Query.NONE
        bolds = layout.get(desc="preproc", suffix="bold", extension=[".nii.gz", ".nii"], **filters)
        result = {"bold": names(bolds)}
        if any_run:
            runs = sorted({b.entities.get("run") for b in bolds}, key=lambda r: (r is not None, r or 0))
            result["runs"] = [None if r is None else str(r) for r in runs]
        if len(bolds) == 1 and not any_run:
            ents = {k: v for k, v in bolds[0].get_entities().items()
                    if k not in ("desc", "suffix", "extension", "datatype")}
            result["sidecar"] = names(layout.get(desc="preproc", suffix="bold", extension=".json", **ents))
            no_space = {k: v for k, v in ents.items() if k not in ("space", "res")}
            result["confounds"] = names(layout.get(desc="confounds", suffix=["timeseries", "regressors"], extension=".tsv", **no_space))
            if q.get("mask"):
                result["brain_mask"] = names(layout.get(desc="brain", suffix="mask", extension=[".nii.gz", ".nii"], **ents))
        out.append(result)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
