"""Execute notebooks in order with the tslab kernel, headless, and export HTML.

Called by `npm start` and the notebook test (src/cli/notebooks.ts); run from the
project's .venv. For every notebook it prints one JSON line on stdout:
  {"notebook", "ok", "seconds", "output", "html", "statuses": [per code cell],
   "error": {"cell", "kind", "message"} | null}
It stops after the first notebook that fails, because the later ones read what
the earlier ones write. The executed notebook (with outputs) is written even when
a cell fails, so the failure can be read in context.
"""
import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter


def execute(path, out_dir, html_dir, timeout, kernel):
    nb = nbformat.read(path, as_version=4)
    statuses = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        statuses[cell_index] = execute_reply["content"].get("status")

    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        allow_errors=False,
        record_timing=False,
        on_cell_executed=on_cell_executed,
        # the kernel's working directory is the notebook's folder, as in JupyterLab
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    error = None
    start = time.time()
    try:
        client.execute()
    except CellExecutionError as e:
        error = {"kind": "cell error", "message": str(e)[-4000:]}
    except CellTimeoutError as e:
        error = {"kind": "timeout", "message": str(e)[-4000:]}
    except DeadKernelError as e:
        error = {"kind": "kernel died", "message": str(e)[-4000:]}
    except Exception as e:  # kernel failed to start, etc.
        error = {"kind": type(e).__name__, "message": str(e)[-4000:]}
    seconds = time.time() - start
    if error is not None:
        # the first code cell without a successful reply is where it stopped
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and statuses.get(i) != "ok":
                error["cell"] = i
                break

    name = os.path.basename(path)
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, name)
    nbformat.write(nb, out)
    html = None
    if html_dir:
        os.makedirs(html_dir, exist_ok=True)
        body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
        html = os.path.join(html_dir, os.path.splitext(name)[0] + ".html")
        with open(html, "w", encoding="utf-8") as f:
            f.write(body)
    code_statuses = [
        {"cell": i, "status": statuses.get(i)} for i, c in enumerate(nb.cells) if c.cell_type == "code"
    ]
    return {
        "notebook": name,
        "ok": error is None,
        "seconds": round(seconds, 2),
        "output": out,
        "html": html,
        "statuses": code_statuses,
        "error": error,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("notebooks", nargs="+")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--html-dir")
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--kernel", default="tslab")
    args = p.parse_args()
    for path in args.notebooks:
        result = execute(path, args.out_dir, args.html_dir, args.timeout, args.kernel)
        print(json.dumps(result), flush=True)
        if not result["ok"]:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
