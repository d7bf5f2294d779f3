"""Reference ROI follow-up statistics for pipe's PairedTTest, CorrelationTest and ROCAnalysis.

Usage: stats_roi.py DIR. Reads pre.f64, post.f64, clinical.f64 and labels.f64 (1 positive,
0 negative) and writes out.f64 = [ttest_rel t, p, pearsonr r, p, spearmanr rho, p,
roc_auc_score, DeLong SE]. The DeLong SE uses the midrank algorithm of Sun & Xu (2014), not
pipe's pairwise kernel.
"""
import sys
import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

d = sys.argv[1]
r = lambda name: np.fromfile(f"{d}/{name}.f64", "<f8")
pre, post, clinical, labels = r("pre"), r("post"), r("clinical"), r("labels").astype(bool)
change = post - pre
t = stats.ttest_rel(post, pre)
pr = stats.pearsonr(change, clinical)
sr = stats.spearmanr(change, clinical)
auc = roc_auc_score(labels, pre)

def midrank(x):
    return stats.rankdata(x, method="average")

pos, neg = pre[labels], pre[~labels]
m, n = len(pos), len(neg)
tz = midrank(np.concatenate([pos, neg]))
tx, ty = midrank(pos), midrank(neg)
v01 = (tz[:m] - tx) / n          # per positive: fraction of negatives below
v10 = 1.0 - (tz[m:] - ty) / m    # per negative: fraction of positives above
se = np.sqrt(np.var(v01, ddof=1) / m + np.var(v10, ddof=1) / n)
np.array([t.statistic, t.pvalue, pr.statistic, pr.pvalue, sr.statistic, sr.pvalue, auc, se], "<f8").tofile(f"{d}/out.f64")
