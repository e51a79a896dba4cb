#!/usr/bin/env python3
"""The article's NumPy algorithm, vectorised over the batch, in float32 and
float64: one full training step per iteration, over the same grid as
backprop_bench. Writes Google Benchmark-style JSON.

usage: numpy_peer.py OUT.json [--max-work N] [--hidden H ...] [--batch-log2 B ...]
(skips N x hidden above max-work)
"""
import argparse
import sys

import numpy as np

from common import add_grid_arguments, entry, skipped, time_steps, write, xor_arrays


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def make_step(X, y, W1, b1, W2, b2, lr):
    m = X.shape[0]

    def step():
        nonlocal W1, b1, W2, b2
        Z1 = X @ W1 + b1
        A1 = sigmoid(Z1)
        Z2 = A1 @ W2 + b2
        A2 = sigmoid(Z2)
        p = np.clip(A2, 1e-7, 1 - 1e-7)
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        dZ2 = A2 - y
        dW2 = A1.T @ dZ2 / m
        db2 = np.sum(dZ2, axis=0, keepdims=True) / m
        dA1 = dZ2 @ W2.T
        dZ1 = dA1 * (A1 * (1 - A1))
        dW1 = X.T @ dZ1 / m
        db1 = np.sum(dZ1, axis=0, keepdims=True) / m
        W2 -= lr * dW2
        b2 -= lr * db2
        W1 -= lr * dW1
        b1 -= lr * db1
        return loss

    return step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--max-work", type=float, default=2.0 ** 28,
                        help="skip configurations with batch x hidden above this")
    parser.add_argument("--min-seconds", type=float, default=0.5)
    add_grid_arguments(parser)
    args = parser.parse_args()
    results = []
    for dtype, tag in [(np.float32, "numpy-f32"), (np.float64, "numpy-f64")]:
        rng = np.random.RandomState(1)
        for hidden in args.hidden:
            for log2 in args.batch_log2:
                batch = 1 << log2
                name = "Step/%s/h%d/%d" % (tag, hidden, batch)
                if batch * hidden > args.max_work:
                    results.append(skipped(name, "batch x hidden over --max-work %g" % args.max_work))
                    continue
                X, y = xor_arrays(np, batch, dtype)
                W1 = (rng.randn(2, hidden) * 0.5).astype(dtype)
                W2 = (rng.randn(hidden, 1) * 0.5).astype(dtype)
                b1 = np.zeros((1, hidden), dtype)
                b2 = np.zeros((1, 1), dtype)
                seconds, iterations = time_steps(make_step(X, y, W1, b1, W2, b2, dtype(0.1)), args.min_seconds)
                results.append(entry(name, seconds, iterations, batch))
                print("%-28s %12.1f us  %.3g samples/s" % (name, seconds * 1e6, batch / seconds), file=sys.stderr)
        # The article's whole run: 10000 epochs on 4 samples.
        X, y = xor_arrays(np, 4, dtype)
        np.random.seed(42)
        W1 = (np.random.randn(2, 4) * 0.1).astype(dtype)
        W2 = (np.random.randn(4, 1) * 0.1).astype(dtype)
        step = make_step(X, y, W1, np.zeros((1, 4), dtype), W2, np.zeros((1, 1), dtype), dtype(1.0))
        seconds, iterations = time_steps(lambda: [step() for _ in range(10000)], args.min_seconds, 20)
        results.append(dict(entry("Article/" + tag, seconds, iterations, 4 * 10000), time_unit="ms",
                            real_time=seconds * 1e3))
    write(args.out, results, "numpy " + np.__version__)


if __name__ == "__main__":
    main()
