"""scikit-learn's IsolationForest on the encoded NSL-KDD matrices (called by `npm run bench:real`).

Reads a JSON manifest the Node side wrote: for each protocol variant the scaled,
encoded training and test rows (raw little-endian float64, row-major) and the
test labels (int8, 1 normal / -1 attack). For every seed it fits
IsolationForest(n_estimators=100, max_samples="auto", contamination=0.05,
random_state=seed) on the training rows, scores the test rows with
score_samples and records ROC-AUC and average precision of the attack class
(-score ranks most abnormal first). Prints one JSON object. Fit time includes
what scikit-learn's fit does: scoring the training rows for the offset.
"""
import argparse
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--manifest", required=True)
    a = p.parse_args()
    with open(a.manifest) as f:
        manifest = json.load(f)
    out = {"version": "scikit-learn " + sklearn.__version__, "variants": {}}
    for v in manifest["variants"]:
        cols = v["cols"]
        Xtr = np.fromfile(v["train"], dtype="<f8").reshape(-1, cols)
        Xte = np.fromfile(v["test"], dtype="<f8").reshape(-1, cols)
        y = np.fromfile(v["y"], dtype="i1")
        per_seed = []
        for seed in manifest["seeds"]:
            model = IsolationForest(n_estimators=manifest["nEstimators"], max_samples="auto", contamination=manifest["contamination"], random_state=seed)
            t0 = time.perf_counter()
            model.fit(Xtr)
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            scores = model.score_samples(Xte)
            score_s = time.perf_counter() - t0
            per_seed.append({
                "seed": seed,
                "rocAuc": float(roc_auc_score(y == -1, -scores)),
                "averagePrecision": float(average_precision_score(y == -1, -scores)),
                "fitSeconds": fit_s,
                "scoreSeconds": score_s,
            })
        out["variants"][v["name"]] = per_seed
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
