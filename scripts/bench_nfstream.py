"""nfstream's side of `npm run bench:flows`: meter one pcap file and print JSON.

    python scripts/bench_nfstream.py FILE.pcap

NFStreamer(source=FILE, statistical_analysis=True, n_dissections=0, n_meters=1): one
meter process, as our meter runs on one core (nfstream adds its reader process).
Prints {"nfstream": version, "flows": n, "seconds": s} (s: from creating the streamer
to the last flow; Python's start-up is not in it).
"""
import json
import sys
import time

import nfstream


def main(path):
    t0 = time.perf_counter()
    n = 0
    for _ in nfstream.NFStreamer(source=path, statistical_analysis=True, n_dissections=0, n_meters=1):
        n += 1
    print(json.dumps({"nfstream": nfstream.__version__, "flows": n, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main(sys.argv[1])
