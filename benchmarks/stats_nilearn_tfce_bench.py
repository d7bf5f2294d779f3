"""nilearn calculate_tfce timing on a smooth two-sided map in the same ~229k-voxel ellipsoid
mask as stats-bench (91 x 109 x 91 grid). Usage: stats_nilearn_tfce_bench.py [repeats=3]."""
import sys, time
import numpy as np
from scipy.ndimage import generate_binary_structure, uniform_filter
from nilearn.mass_univariate._utils import calculate_tfce

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
x, y, z = np.meshgrid(np.arange(91), np.arange(109), np.arange(91), indexing="ij")
mask = ((x - 45) / 36) ** 2 + ((y - 54) / 46) ** 2 + ((z - 40) / 33) ** 2 <= 1
rng = np.random.default_rng(1)
m = uniform_filter(rng.standard_normal(mask.shape), 3)
m = m / m[mask].std() * 1.5 * mask
st = generate_binary_structure(3, 1)
t0, c0 = time.time(), time.process_time()
for _ in range(reps):
    calculate_tfce(m[..., None], st, two_sided_test=True)
print(f"nilearn calculate_tfce, {mask.sum()} voxels: {(time.time() - t0) / reps * 1000:.0f} ms wall, "
      f"{(time.process_time() - c0) / reps * 1000:.0f} ms CPU per map")
