#!/usr/bin/env python3
"""Prints a table of samples/s for every configuration in the given Google
Benchmark-style JSON files (ours and the peers'), with each row's ratio to a
reference column measured in the same run.

Where the run measured the GPU's read bandwidth (Roofline/cuda/read), it
also prints each GPU step at hidden 4 as a fraction of that ceiling.

usage: compare.py [--reference NAME] FILE.json [FILE.json ...]
"""
import argparse
import collections
import json
import re

NAME = re.compile(r"^Step/([^/]+)/h(\d+)/(\d+)")
ADAM = re.compile(r"^Adam/([^/]+)/h(\d+)/b(\d+)/(\d+)")
BYTES_PER_SAMPLE = 12  # XOR: two float inputs and one float target

# rates: (hidden, batch) -> {backend: samples/s}; articles: backend -> seconds;
# read_bandwidth: the GPU's measured bytes/s, or None; adam: (hidden, batch,
# samples) -> {backend: samples/s}.
Results = collections.namedtuple("Results", "rates articles read_bandwidth adam")


def load(paths):
    rates = {}
    articles = {}
    adam = {}
    read_bandwidth = None
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("error_occurred") or b.get("run_type") == "aggregate":
                continue
            m = NAME.match(b["name"])
            a = ADAM.match(b["name"])
            if a:
                key = (int(a.group(2)), int(a.group(3)), int(a.group(4)))
                adam.setdefault(key, {})[a.group(1)] = b["samples_per_second"]
            elif m:
                rates.setdefault((int(m.group(2)), int(m.group(3))), {})[m.group(1)] = b["samples_per_second"]
            elif b["name"].startswith("Article/"):
                unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
                articles[b["name"].split("/")[1]] = b["real_time"] * unit
            elif b["name"].startswith("Roofline/cuda/read/"):
                read_bandwidth = b["bytes_per_second"]
    return Results(rates, articles, read_bandwidth, adam)


def print_roofline(rates, read_bandwidth):
    ceiling = read_bandwidth / BYTES_PER_SAMPLE
    print("\nGPU memory read bandwidth measured in this run: %.0f GB/s, a ceiling of %.3g samples/s"
          " at %d bytes a sample (hidden 4):" % (read_bandwidth / 1e9, ceiling, BYTES_PER_SAMPLE))
    for (hidden, batch) in sorted(rates):
        if hidden != 4:
            continue
        row = rates[(hidden, batch)]
        cells = ["%s %.3g (%.0f%%)" % (b, row[b], 100 * row[b] / ceiling) for b in sorted(row) if "cuda" in b]
        if cells:
            print("  batch %-9d %s" % (batch, ", ".join(cells)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", default="numpy-f32", help="the column the ratios divide by")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    rates, articles, read_bandwidth, adam = load(args.files)
    backends = sorted({k for row in rates.values() for k in row})
    print("samples/s per training step; (xN) = ratio to %s in the same run" % args.reference)
    print("%-7s %-9s" % ("hidden", "batch") + "".join("%22s" % b for b in backends))
    for (hidden, batch) in sorted(rates):
        row = rates[(hidden, batch)]
        ref = row.get(args.reference)
        cells = []
        for b in backends:
            if b not in row:
                cells.append("%22s" % "-")
            elif ref:
                cells.append("%22s" % ("%.3g (x%.1f)" % (row[b], row[b] / ref)))
            else:
                cells.append("%22s" % ("%.3g" % row[b]))
        print("%-7d %-9d" % (hidden, batch) + "".join(cells))
    if articles:
        print("\nwhole article run (10000 epochs, 4 samples), training time:")
        for name, seconds in sorted(articles.items()):
            print("  %-12s %10.2f ms" % (name, seconds * 1e3))
    if read_bandwidth:
        print_roofline(rates, read_bandwidth)
    if adam:
        print_adam(adam)


def print_adam(adam):
    """Each Adam row's samples/s, and backprop's ratio to PyTorch on the same
    device (cpu to torch-cpu, cuda to torch-cuda) in the same run."""
    print("\nAdam, one epoch in shuffled mini-batches, 30 features: samples/s (xN = ratio to PyTorch, same device)")
    for (hidden, batch, samples) in sorted(adam):
        row = adam[(hidden, batch, samples)]
        cells = []
        for backend in ("cpu", "cuda"):
            peer = "torch-" + backend
            if backend in row:
                ratio = " (x%.2f)" % (row[backend] / row[peer]) if peer in row else ""
                cells.append("%s %.3g%s" % (backend, row[backend], ratio))
            if peer in row:
                cells.append("%s %.3g" % (peer, row[peer]))
        print("  hidden %-4d batch %-5d N %-7d %s" % (hidden, batch, samples, ", ".join(cells)))


if __name__ == "__main__":
    main()
