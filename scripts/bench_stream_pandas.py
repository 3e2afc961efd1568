"""The Python user's loop on raw NSL-KDD lines (called by `npm run bench:stream`).

What a pandas + scikit-learn user writes to score a file of raw NSL-KDD lines
in chunks, timed the same way as the stream command: read 50,000-line chunks
with pandas, one-hot encode protocol_type / service / flag with the training
categories, log1p the numeric columns, StandardScaler, IsolationForest
score_samples, and write every alert (score below the forest's offset) as one
JSON line holding the record and its score. The model (100 trees x 256 rows,
contamination 0.05, random_state 0) is fitted on the normal records of the
training file before the clock starts. Prints one JSON object:
{"records", "alerts", "seconds", "records_per_second", "versions"}.
"""
import argparse
import json
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler


def columns_of(schema):
    """The features, every column of a line, and the categorical features, from the Node side's NSL_KDD_SCHEMA (--schema)."""
    features = [f["name"] for f in schema["features"]]
    categorical = [f["name"] for f in schema["features"] if f["kind"] == "categorical"]
    return features, features + [schema["label"]] + schema["trailing"], categorical


def encode(frame, categories, numeric_columns, categorical):
    numeric = np.log1p(frame[numeric_columns].to_numpy(dtype=np.float64))
    # a category unseen in training becomes NaN first: no column is set for it (what pandas will require)
    dummies = [pd.get_dummies(pd.Categorical(frame[c].where(frame[c].isin(categories[c])), categories=categories[c]), dtype=np.float64).to_numpy() for c in categorical]
    return np.hstack([numeric] + dummies)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True, help="KDDTrain+_20Percent.txt[.gz]")
    p.add_argument("--input", required=True, help="raw NSL-KDD lines to score")
    p.add_argument("--alerts", required=True, help="NDJSON file the alerts are written to")
    p.add_argument("--schema", required=True, help="the file layout as JSON: features [{name, kind}], label, normalLabel, trailing")
    p.add_argument("--chunk", type=int, default=50_000)
    a = p.parse_args()
    schema = json.loads(a.schema)
    features, names, categorical = columns_of(schema)
    numeric_columns = [c for c in features if c not in categorical]

    train = pd.read_csv(a.train, header=None, names=names)
    train = train[train[schema["label"]] == schema["normalLabel"]]
    categories = {c: sorted(train[c].unique()) for c in categorical}
    enc = lambda frame: encode(frame, categories, numeric_columns, categorical)
    encoded = enc(train)
    scaler = StandardScaler().fit(encoded)
    forest = IsolationForest(n_estimators=100, max_samples=256, contamination=0.05, random_state=0)
    forest.fit(scaler.transform(encoded))

    started = time.perf_counter()
    records = 0
    alerts = 0
    with open(a.alerts, "w") as out:
        for chunk in pd.read_csv(a.input, header=None, names=names, chunksize=a.chunk):
            scores = forest.score_samples(scaler.transform(enc(chunk)))
            flagged = scores < forest.offset_
            rows = chunk.loc[flagged, features].assign(score=scores[flagged])
            if len(rows) > 0:
                out.write(rows.to_json(orient="records", lines=True))
                out.write("\n")
            records += len(chunk)
            alerts += int(flagged.sum())
    seconds = time.perf_counter() - started
    json.dump({"records": records, "alerts": alerts, "seconds": seconds, "records_per_second": records / seconds,
               "versions": f"pandas {pd.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}"}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
