#!/usr/bin/env python3
"""Prints a table of samples/s for every configuration in the given Google
Benchmark-style JSON files (ours and the peers'), with each row's ratio to a
reference column measured in the same run.

usage: compare.py [--reference NAME] FILE.json [FILE.json ...]
"""
import argparse
import json
import re

NAME = re.compile(r"^Step/([^/]+)/h(\d+)/(\d+)")


def load(paths):
    rates = {}  # (hidden, batch) -> {backend: samples/s}
    articles = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("error_occurred") or b.get("run_type") == "aggregate":
                continue
            m = NAME.match(b["name"])
            if m:
                rates.setdefault((int(m.group(2)), int(m.group(3))), {})[m.group(1)] = b["samples_per_second"]
            elif b["name"].startswith("Article/"):
                unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
                articles[b["name"].split("/")[1]] = b["real_time"] * unit
    return rates, articles


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", default="numpy-f32", help="the column the ratios divide by")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    rates, articles = load(args.files)
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


if __name__ == "__main__":
    main()
