"""Export a fitted scikit-learn IsolationForest as JSON for `IsolationForest.fromSklearn`.

A team that trains in Python can then score and explain in Node without
loading a pickle there. The JSON holds, per tree, scikit-learn's `tree_` arrays
(children_left, children_right, feature, threshold, n_node_samples) and the
tree's column subset (estimators_features_), plus max_samples_, offset_,
n_features_in_ and the constructor parameters. Floats are written with
Python's shortest round-trip repr, so every float64 threshold survives exactly.

Command line:

    python scripts/export_sklearn_forest.py MODEL.joblib OUT.json   # OUT.json may be '-' (stdout)

In-process:

    from export_sklearn_forest import export_forest, write_forest
    write_forest(model, "forest.json")          # or: data = export_forest(model)

Exit codes: 0 written; 1 the model file cannot be read or is not a supported
fitted IsolationForest; 2 wrong arguments. Errors are one line on stderr.
"""
import json
import sys

FORMAT = "sklearn-isolation-forest"


class ExportError(Exception):
    """A model that cannot be exported, with a one-line reason."""


def export_forest(model):
    """Return the JSON-ready dict for a fitted sklearn.ensemble.IsolationForest.

    Raises ExportError for anything else, an unfitted model, or bootstrap=True
    (its trees count distinct rows, so leaf sizes do not add up to max_samples_
    and our forest format, which needs them to, cannot hold it).
    """
    from sklearn.ensemble import IsolationForest

    if not isinstance(model, IsolationForest):
        raise ExportError(f"expected a fitted sklearn.ensemble.IsolationForest, got {type(model).__name__}")
    if not hasattr(model, "estimators_"):
        raise ExportError("the IsolationForest is not fitted (call fit first)")
    if model.bootstrap:
        raise ExportError("bootstrap=True forests are not supported (leaf sizes would not add up to max_samples_)")
    trees = []
    for est, features in zip(model.estimators_, model.estimators_features_):
        t = est.tree_
        trees.append(
            {
                "children_left": t.children_left.tolist(),
                "children_right": t.children_right.tolist(),
                "feature": t.feature.tolist(),
                "threshold": t.threshold.tolist(),
                "n_node_samples": t.n_node_samples.tolist(),
                "features": [int(f) for f in features],
            }
        )
    rs = model.random_state
    out = {
        "format": FORMAT,
        "params": {
            "n_estimators": model.n_estimators,
            "max_samples": model.max_samples,
            "contamination": model.contamination,
            "max_features": model.max_features,
            # a RandomState instance is not JSON: only an int seed is kept
            "random_state": int(rs) if isinstance(rs, int) else None,
        },
        "max_samples_": int(model.max_samples_),
        "offset_": float(model.offset_),
        "n_features_in_": int(model.n_features_in_),
        "trees": trees,
    }
    if hasattr(model, "feature_names_in_"):
        out["feature_names_in_"] = [str(n) for n in model.feature_names_in_]
    return out


def write_forest(model, path):
    """Write export_forest(model) as JSON to path ('-' for stdout)."""
    text = json.dumps(export_forest(model), separators=(",", ":"), allow_nan=False)
    if path == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def main(argv):
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: export_sklearn_forest.py MODEL.joblib OUT.json  (OUT.json may be '-')\n")
        return 2
    source, target = argv
    try:
        import joblib
    except ImportError as e:
        sys.stderr.write(f"export_sklearn_forest: cannot import joblib ({e}); install scikit-learn\n")
        return 1
    try:
        model = joblib.load(source)
    except Exception as e:  # any unreadable file: one line, no traceback
        sys.stderr.write(f"export_sklearn_forest: cannot load {source}: {type(e).__name__}: {e}\n")
        return 1
    try:
        write_forest(model, target)
    except ExportError as e:
        sys.stderr.write(f"export_sklearn_forest: {source}: {e}\n")
        return 1
    except OSError as e:
        sys.stderr.write(f"export_sklearn_forest: cannot write {target}: {e.strerror}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
