"""One benchmark run of scikit-learn's IsolationForest (called by `npm run bench`).

Reads the standardized data the Node side wrote (raw little-endian float64 rows
and int8 labels), fits IsolationForest(n_estimators=100, contamination=0.05,
n_jobs=-1), scores every row with score_samples, and prints one JSON line.
Fit time includes what scikit-learn's fit does: scoring the training set for
the offset.
"""
import argparse
import json
import pickle
import resource
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import precision_score, recall_score, roc_auc_score


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--x", required=True)
    p.add_argument("--y", required=True)
    p.add_argument("--cols", type=int, required=True)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    X = np.fromfile(a.x, dtype="<f8").reshape(-1, a.cols)
    y = np.fromfile(a.y, dtype="i1")
    model = IsolationForest(n_estimators=100, contamination=0.05, n_jobs=-1, random_state=a.seed)
    t0 = time.perf_counter()
    model.fit(X)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = model.score_samples(X)
    score_s = time.perf_counter() - t0
    pred = np.where(scores - model.offset_ < 0, -1, 1)
    out = {
        "fitSeconds": fit_s,
        "scoreSeconds": score_s,
        # ru_maxrss is in KiB on Linux
        "peakMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rocAuc": float(roc_auc_score(y == -1, -scores)),
        "precision": float(precision_score(y, pred, pos_label=-1, zero_division=0)),
        "recall": float(recall_score(y, pred, pos_label=-1, zero_division=0)),
        "nFlagged": int((pred == -1).sum()),
        "modelBytes": len(pickle.dumps(model)),
        "modelFormat": "pickle",
        "version": "scikit-learn " + sklearn.__version__,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
