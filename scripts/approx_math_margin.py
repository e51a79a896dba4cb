#!/usr/bin/env python3
"""How much the GPU's approximate exp2 and reciprocal may move the article's loss curve.

On a GPU the narrow step computes 2^y with ex2.approx (about 2 ulp) and 1/d with
rcp.approx plus one Newton step (about 1 ulp), where the host emulation of the
same kernel uses exact float arithmetic. This replays the article's run (seed
42, lr 1, 10000 epochs, float32) with the narrow kernel's arithmetic (both
layers in base 2, one exponential for the output's sigmoid and loss, W2 applied
to the sums of dZ1), once exactly and then with every exp2 result off by up to
2 ulp, every reciprocal by up to 1 ulp and the loss's log1p by up to 3 ulp
(log_one_plus_unit's bound): at random, or all low, or all high
(a bias the hardware need not have, the worst case for drift). It prints the
largest loss difference before epoch 8000 and over the whole run, to set
against the parity test's bounds (1e-5 and 2e-3).

No GPU needed: NumPy only.  Usage: python3 scripts/approx_math_margin.py [CPU_LOSSES]
where CPU_LOSSES is `backprop train --backend cpu --loss-csv` of the article's run.
"""
import sys

import numpy as np

from numpy_reference import init_numpy, xor_data

f32 = np.float32
MINUS_LOG2E = -1.4426950408889634
MINUS_LN2 = -0.6931471805599453
ULP = 2.0 ** -23


def article_losses(error, rng, epochs=10000):
    """error: None (exact), 'random', 'low' or 'high'."""
    def off(values, ulps):
        if error is None:
            return values
        if error == 'random':
            u = rng.uniform(-1, 1, size=values.shape)
        else:
            u = np.full(values.shape, -1.0 if error == 'low' else 1.0)
        return (values.astype(np.float64) * (1 + u * ulps * ULP)).astype(f32)

    X, Y = xor_data(4)
    Y = Y[:, 0]
    W1, W2 = init_numpy(42, 2, 4, 1)  # the article's start
    W1, W2 = W1.astype(f32), W2[:, 0].astype(f32)
    b1, b2 = np.zeros(4, f32), f32(0)
    quarter = f32(0.25)
    losses = []
    for _ in range(epochs):
        # Hidden layer in base 2: a = 1 / (1 + 2^y), y = x (W1 · -log2 e) + b1 · -log2 e.
        W1b = (W1.astype(np.float64) * MINUS_LOG2E).astype(f32)
        b1b = (b1.astype(np.float64) * MINUS_LOG2E).astype(f32)
        y = (X[:, 0:1] * W1b[0] + b1b).astype(f32)
        y = (y + X[:, 1:2] * W1b[1]).astype(f32)
        a = off((f32(1) / (f32(1) + off(np.exp2(np.minimum(y, f32(126))).astype(f32), 2))).astype(f32), 1)
        # Output in base 2 too: y2 = a (W2 · -log2 e) + b2 · -log2 e, and one
        # exponential e = 2^-|y2| = e^-|z| for both σ(z) and the loss
        # softplus(z) - y z, with z = y2 · -ln 2 and log1p(e) within 3 ulp.
        W2b = (W2.astype(np.float64) * MINUS_LOG2E).astype(f32)
        b2b = f32(float(b2) * MINUS_LOG2E)
        y2 = (a @ W2b + b2b).astype(f32)
        e = off(np.exp2(-np.abs(y2)).astype(f32), 2)
        r = off((f32(1) / (f32(1) + e)).astype(f32), 1)
        p = np.where(y2 <= 0, r, (e * r).astype(f32)).astype(f32)
        z = (y2 * f32(MINUS_LN2)).astype(f32)
        loss = (np.maximum(z, f32(0)) - z * Y + off(np.log1p(e).astype(f32), 3)).astype(f32)
        # Backward, sums over the 4 samples, W2's factor on the sums of dZ1.
        dz2 = ((p - Y) * quarter).astype(f32)
        dz1_over_w2 = (dz2[:, None] * (a * (f32(1) - a)).astype(f32)).astype(f32)
        dW2 = np.sum((a * dz2[:, None]).astype(f32), axis=0, dtype=f32)
        db1 = (np.sum(dz1_over_w2, axis=0, dtype=f32) * W2).astype(f32)
        dW1 = np.stack([np.sum((X[:, i:i + 1] * dz1_over_w2).astype(f32), axis=0, dtype=f32) for i in range(2)])
        dW1 = (dW1 * W2).astype(f32)
        losses.append(float(np.sum(loss, dtype=np.float64)) * 0.25)
        W1, b1 = (W1 - dW1).astype(f32), (b1 - db1).astype(f32)
        W2, b2 = (W2 - dW2).astype(f32), f32(b2 - np.sum(dz2, dtype=f32))
    return np.array(losses)


def main():
    exact = article_losses(None, None)
    print('exact float32: loss %.4f at epoch 0, %.4f at 8000, %.4f at 9000' % (exact[0], exact[8000], exact[9000]))
    # The parity test holds the GPU to the CPU backend, whose own polynomials
    # put it apart from `exact`: given its loss file, measure against it too.
    cpu = None
    if len(sys.argv) > 1:
        cpu = np.loadtxt(sys.argv[1], delimiter=',', skiprows=1, usecols=1)
    for error, seed in [('random', 1), ('random', 2), ('random', 3), ('random', 4), ('low', 0), ('high', 0)]:
        losses = article_losses(error, np.random.default_rng(seed))
        diff = np.abs(losses - exact)
        line = '%-6s (seed %d): largest difference %.2e before epoch 8000, %.2e overall (epoch %d)' % (
            error, seed, diff[:8000].max(), diff.max(), diff.argmax())
        if cpu is not None:
            diff = np.abs(losses - cpu)
            line += '; from the CPU %.2e, %.2e' % (diff[:8000].max(), diff.max())
        print(line)


if __name__ == '__main__':
    main()
