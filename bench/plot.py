#!/usr/bin/env python3
"""PNG charts from the benchmark JSON: samples/s against batch size
(log-log), one line per backend and peer, one chart per hidden width; GPU
charts get the memory-bandwidth roofline (12 bytes per sample): the read
bandwidth measured in the same run (Roofline/cuda/read) when there is one,
else --bandwidth. With
--loss-csv, also the loss curve of a `backprop train --loss-csv` run.

usage: plot.py OUTDIR FILE.json [...] [--loss-csv FILE] [--bandwidth GB/s]
"""
import argparse
import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from compare import BYTES_PER_SAMPLE, load  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--loss-csv")
    parser.add_argument("--bandwidth", type=float, default=3000.0,
                        help="GPU memory bandwidth in GB/s for the roofline when the run did not measure it"
                             " (H100 SXM: ~3000 measured)")
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    rates, _, measured, _ = load(args.files)
    if measured:
        bandwidth, source = measured / 1e9, "measured read"
    else:
        bandwidth, source = args.bandwidth, "assumed"
    for hidden in sorted({h for h, _ in rates}):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        backends = sorted({b for (h, _), row in rates.items() if h == hidden for b in row})
        for b in backends:
            points = sorted((batch, row[b]) for (h, batch), row in rates.items() if h == hidden and b in row)
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=b)
        if any("cuda" in b for b in backends):
            roof = bandwidth * 1e9 / BYTES_PER_SAMPLE
            ax.axhline(roof, color="gray", linestyle="--", label="roofline, %s %.0f GB/s" % (source, bandwidth))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch (samples)")
        ax.set_ylabel("samples / s, one training step")
        ax.set_title("hidden %d" % hidden)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(args.outdir, "scaling-h%d.png" % hidden), dpi=110)
        plt.close(fig)
    if args.loss_csv:
        with open(args.loss_csv) as f:
            rows = list(csv.DictReader(f))
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot([int(r["epoch"]) for r in rows], [float(r["loss"]) for r in rows])
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("BCE loss")
        ax.set_title("XOR, the article's run: the saddle plateau, then the escape")
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(args.outdir, "loss-article.png"), dpi=110)
        plt.close(fig)


if __name__ == "__main__":
    main()
