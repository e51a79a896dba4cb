#!/usr/bin/env python3
"""Writes the golden test data: the article's NumPy algorithm, run in float64.

The article's code as printed does not run (its backward() updates b1 and b2,
which it never receives); this is that code with the biases passed in and
returned, and nothing else changed. Each case file holds the initial weights,
the loss of every epoch and the final probabilities, with 17 significant
digits so that C++ reads back the same doubles.

Usage: python3 scripts/numpy_reference.py tests/data/golden
"""
import os
import sys

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_deriv(z):
    s = sigmoid(z)
    return s * (1 - s)


def forward(X, W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    A1 = sigmoid(Z1)
    Z2 = A1 @ W2 + b2
    A2 = sigmoid(Z2)
    return A2, (Z1, A1, Z2, A2)


def compute_loss(y_true, y_pred):
    y_pred = np.clip(y_pred, 1e-9, 1 - 1e-9)
    return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))


def backward(X, y, W1, b1, W2, b2, cache, lr):
    Z1, A1, Z2, A2 = cache
    m = X.shape[0]
    dZ2 = A2 - y
    dW2 = A1.T @ dZ2 / m
    db2 = np.sum(dZ2, axis=0, keepdims=True) / m
    dA1 = dZ2 @ W2.T
    dZ1 = dA1 * sigmoid_deriv(Z1)
    dW1 = X.T @ dZ1 / m
    db1 = np.sum(dZ1, axis=0, keepdims=True) / m
    W2 -= lr * dW2
    b2 -= lr * db2
    W1 -= lr * dW1
    b1 -= lr * db1
    return W1, b1, W2, b2


def xor_data(samples):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    idx = np.arange(samples) % 4
    return X[idx], y[idx]


def quadrant_data(samples, inputs, data_seed):
    """Gaussian features (float32) labelled 1 where x0 * x1 > 0: an XOR of signs.
    The C++ tests rebuild it from the same legacy generator."""
    rs = np.random.RandomState(data_seed)
    X = rs.randn(samples, inputs).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float32).reshape(-1, 1)
    return X, y


def fmt(values):
    return " ".join("%.17g" % v for v in np.asarray(values, dtype=np.float64).ravel())


def init_numpy(seed, inputs, hidden, outputs):
    np.random.seed(seed)
    W1 = np.random.randn(inputs, hidden) * 0.1
    W2 = np.random.randn(hidden, outputs) * 0.1
    return W1, W2


def run_case(out_dir, name, seed, hidden, lr, epochs, data):
    if data[0] == "xor":
        X32, y32 = xor_data(data[1])
    else:
        X32, y32 = quadrant_data(data[1], data[2], data[3])
    X = X32.astype(np.float64)
    y = y32.astype(np.float64)
    W1, W2 = init_numpy(seed, X.shape[1], hidden, 1)
    b1 = np.zeros((1, hidden))
    b2 = np.zeros((1, 1))
    lines = [
        "# The article's NumPy algorithm in float64; written by scripts/numpy_reference.py",
        "name %s" % name,
        "seed %d" % seed,
        "hidden %d" % hidden,
        "lr %r" % lr,
        "epochs %d" % epochs,
        "data " + " ".join(str(d) for d in data),
        "W1 " + fmt(W1),
        "W2 " + fmt(W2),
    ]
    losses = []
    for _ in range(epochs):
        A2, cache = forward(X, W1, b1, W2, b2)
        losses.append(compute_loss(y, A2))
        W1, b1, W2, b2 = backward(X, y, W1, b1, W2, b2, cache, lr)
    A2, _ = forward(X, W1, b1, W2, b2)
    lines.append("losses " + fmt(losses))
    lines.append("final_W1 " + fmt(W1))
    lines.append("final_b1 " + fmt(b1))
    lines.append("final_W2 " + fmt(W2))
    lines.append("final_b2 " + fmt(b2))
    lines.append("probabilities " + fmt(A2))
    with open(os.path.join(out_dir, name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%-10s losses[0]=%.4f  final=%.4f" % (name, losses[0], losses[-1]))


def write_init_cases(out_dir):
    lines = ["# seed inputs hidden outputs | W1 | W2 from np.random.seed; randn(...) * 0.1"]
    for seed, shape in [(42, (2, 4, 1)), (0, (2, 3, 1)), (1, (5, 7, 2)), (2**32 - 1, (1, 1, 1)),
                        (12345, (3, 33, 1)), (7, (4, 5, 3))]:
        W1, W2 = init_numpy(seed, *shape)
        lines.append("%d %d %d %d | %s | %s" % (seed, *shape, fmt(W1), fmt(W2)))
    with open(os.path.join(out_dir, "init.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/data/golden"
    os.makedirs(out_dir, exist_ok=True)
    write_init_cases(out_dir)
    run_case(out_dir, "article", seed=42, hidden=4, lr=1.0, epochs=10000, data=("xor", 4))
    run_case(out_dir, "seed7_h8", seed=7, hidden=8, lr=2.0, epochs=3000, data=("xor", 4))
    run_case(out_dir, "seed3_h1", seed=3, hidden=1, lr=2.0, epochs=2000, data=("xor", 4))
    run_case(out_dir, "xor1001_h16", seed=11, hidden=16, lr=3.0, epochs=600, data=("xor", 1001))
    # 20000 samples: 79 chunks of 256, so segments of two chunks: crosses both cuts.
    run_case(out_dir, "quadrant_h33", seed=5, hidden=33, lr=4.0, epochs=150,
             data=("quadrant", 20000, 3, 2026))


if __name__ == "__main__":
    main()
