"""The peer of benchmarks/report.sh: nilearn and matplotlib drawing the brain figures of the demo's
report from its published outputs: for each voxelwise test, the thresholded z map as orthogonal
slices (plot_stat_map) and as a glass brain (plot_glass_brain); for each seed and session, the
mean Fisher z map over the runs QC kept (mean_img, then plot_stat_map). Each figure saved as PNG.
This is less than pipe's report draws (no carpet plots, FD traces, QC charts, ROC curves or page),
so the ratio is conservative. Prints the seconds after imports and the bytes written."""
import csv, glob, os, sys, tempfile, time, warnings

warnings.filterwarnings("ignore")  # nilearn warns of the empty thresholded maps; they are drawn anyway

import matplotlib
matplotlib.use("Agg")
from nilearn import image, plotting  # noqa: E402

out = sys.argv[1]
t0 = time.perf_counter()
target = tempfile.mkdtemp(prefix="nilearn-report-")
excluded = set()
with open(os.path.join(out, "qc", "exclusions.tsv")) as f:
    for row in csv.DictReader(f, delimiter="\t"):
        excluded.add(f"{row['participant_id']}_ses-{row['session']}")
figures = 0
for z in sorted(glob.glob(os.path.join(out, "*", "*_stat-z_desc-thresholded_statmap.nii.gz"))):
    stem = os.path.basename(z).replace("_stat-z_desc-thresholded_statmap.nii.gz", "")
    display = plotting.plot_stat_map(z, display_mode="ortho", threshold=1e-6, colorbar=True)
    display.savefig(os.path.join(target, stem + "_ortho.png"))
    display.close()
    display = plotting.plot_glass_brain(z, threshold=1e-6, colorbar=True, plot_abs=False)
    display.savefig(os.path.join(target, stem + "_glass.png"))
    display.close()
    figures += 2
maps = {}
for path in sorted(glob.glob(os.path.join(out, "connectivity", "*_stat-z_connectivity.nii.gz"))):
    name = os.path.basename(path)
    scan = name.split("_task-")[0]
    if scan in excluded:
        continue
    seed = name.split("_seed-")[1].split("_")[0]
    session = scan.split("_ses-")[1]
    maps.setdefault((seed, session), []).append(path)
for (seed, session), paths in sorted(maps.items()):
    mean = image.mean_img(paths, copy_header=True)
    display = plotting.plot_stat_map(mean, display_mode="ortho", threshold=0.2, colorbar=True)
    display.savefig(os.path.join(target, f"seed-{seed}_ses-{session}_mean.png"))
    display.close()
    figures += 1
seconds = time.perf_counter() - t0
size = sum(os.path.getsize(os.path.join(target, f)) for f in os.listdir(target))
print(f"nilearn {seconds:.2f} s {figures} figures {size} bytes")
