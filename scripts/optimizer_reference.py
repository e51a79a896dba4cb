#!/usr/bin/env python3
"""Writes the optimizers' golden data: torch.optim in float64.

Each case trains the article's network (sigmoid hidden layer, sigmoid
output, binary cross-entropy) with one of PyTorch's optimizers. The
gradient is the article's, dZ2 = A2 - y and so on, computed in float64
with torch and handed to the optimizer as .grad: so the loss and gradient
are those of scripts/numpy_reference.py, which the article defines (its
loss clips A2 to [1e-9, 1 - 1e-9], a clip its gradient ignores, where
autograd would zero the gradient of a saturated sample), and the update
is torch.optim's own. The initial weights are the article's draw
(np.random.seed(s); randn * 0.1, W1 then W2), biases 0.

Data: the article's XOR table, and scikit-learn's breast cancer data set
(569 samples, 30 features), z-scored with its own mean and standard
deviation and rounded to float32, written to tests/data/breast_cancer.csv
as a user would give it to `backprop train --data`. The torch runs read
the files back in float64, as NumPy's loadtxt does: backprop's f64 trains
on those values, its f32 on them rounded to float32.

Mini-batch cases step once per batch of batch_size samples (the last
smaller); shuffled ones visit the samples in the order of the e-th
np.random.RandomState(shuffle_seed).permutation(N) at epoch e, and log an
epoch's loss as the batch losses weighted by batch size. permutations.txt
holds such draws for the C++ generator's test.

Each case file holds the settings, the loss of every epoch and the final
parameters, with 17 significant digits. A case must be well conditioned:
the script reruns it with one initial weight moved by 1e-15 and refuses a
case whose losses move by more than 1e-11 (near the saddle of XOR, RMSprop
at a small rate divides rounding noise by its own size, and any two
correct implementations part there), so a gap of 1e-9 to backprop is
backprop's.

Usage: python3 scripts/optimizer_reference.py tests/data
(needs numpy, torch and scikit-learn)
"""
import os
import sys

import numpy as np
import torch

from numpy_reference import fmt, init_numpy, xor_data


def breast_cancer_csv(path, dtype=np.float32):
    """z-scored; float32 values written with %.9g, or float64 with %.17g
    (both read back to the same number)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = data.data.astype(np.float64)
    X = ((X - X.mean(axis=0)) / X.std(axis=0)).astype(dtype)
    y = data.target.astype(np.float32).reshape(-1, 1)
    digits = "%.9g" if dtype == np.float32 else "%.17g"
    with open(path, "w") as f:
        f.write(",".join(["f%d" % i for i in range(X.shape[1])] + ["malignant0_benign1"]) + "\n")
        for row, target in zip(X, y):
            f.write(",".join(digits % v for v in row) + ",%d\n" % int(target[0]))
    return read_back(path, 1)


def read_back(path, targets):
    """The file as a NumPy user reads it, in float64: its own decimal values
    (for %.9g, not quite the float32 values they came from), which is what
    backprop's f64 trains on and, rounded to float32, its f32."""
    values = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return values[:, :-targets], values[:, -targets:]


def iris_csv(path):
    """Iris (150 samples, 4 features), z-scored, its three classes one-hot:
    three sigmoid outputs, read with --targets 3."""
    from sklearn.datasets import load_iris

    data = load_iris()
    X = data.data.astype(np.float64)
    X = ((X - X.mean(axis=0)) / X.std(axis=0)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[data.target]
    with open(path, "w") as f:
        f.write("sepal_length,sepal_width,petal_length,petal_width,setosa,versicolor,virginica\n")
        for row, target in zip(X, y):
            f.write(",".join("%.9g" % v for v in row) + "," + ",".join("%d" % t for t in target) + "\n")
    return read_back(path, 3)


def make_optimizer(kind, params, lr, settings):
    wd = settings.get("weight_decay", 0.0)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if kind == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=settings["momentum"], nesterov=settings["nesterov"],
                               weight_decay=wd)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=settings["alpha"], eps=settings["eps"], weight_decay=wd)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(settings["beta1"], settings["beta2"]), eps=settings["eps"],
                                weight_decay=wd)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(settings["beta1"], settings["beta2"]), eps=settings["eps"],
                                 weight_decay=wd)
    raise ValueError(kind)


def article_loss_and_gradients(X, y, W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    A1 = torch.sigmoid(Z1)
    A2 = torch.sigmoid(A1 @ W2 + b2)
    clipped = A2.clamp(1e-9, 1 - 1e-9)
    # Summed over the outputs, averaged over the samples: the gradient below
    # (dZ2 / m) is this loss's, for any number of outputs.
    loss = -(y * torch.log(clipped) + (1 - y) * torch.log(1 - clipped)).sum(dim=1).mean()
    m = X.shape[0]
    dZ2 = A2 - y
    dW2 = A1.T @ dZ2 / m
    db2 = dZ2.sum(dim=0) / m
    dZ1 = (dZ2 @ W2.T) * A1 * (1 - A1)
    dW1 = X.T @ dZ1 / m
    db1 = dZ1.sum(dim=0) / m
    return loss.item(), (dW1, db1, dW2, db2)


DEFAULTS = {"momentum": 0.9, "nesterov": False, "alpha": 0.99, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
            "weight_decay": 0.0}


# Rounding noise's effect on a run: a case whose losses move more than this
# when one weight moves by 1e-15 is refused.
MOST_SENSITIVITY = 1e-11


def train(kind, lr, epochs, seed, hidden, X, y, settings, batch_size, shuffle_seed, nudge=0.0):
    W1_0, W2_0 = init_numpy(seed, X.shape[1], hidden, y.shape[1])
    W1_0[0, 0] += nudge
    W1 = torch.tensor(W1_0, dtype=torch.float64)
    b1 = torch.zeros(hidden, dtype=torch.float64)
    W2 = torch.tensor(W2_0, dtype=torch.float64)
    b2 = torch.zeros(y.shape[1], dtype=torch.float64)
    params = [W1, b1, W2, b2]
    optimizer = make_optimizer(kind, params, lr, settings)
    losses = []
    n = X.shape[0]
    batch = n if batch_size in (0, None) or batch_size >= n else batch_size
    order_rng = np.random.RandomState(shuffle_seed) if shuffle_seed is not None and batch < n else None
    for _ in range(epochs):
        order = order_rng.permutation(n) if order_rng is not None else np.arange(n)
        total = 0.0
        for first in range(0, n, batch):
            rows = torch.from_numpy(order[first:first + batch])
            loss, grads = article_loss_and_gradients(X[rows], y[rows], *params)
            total += loss * len(rows)
            for p, g in zip(params, grads):
                p.grad = g.clone()
            optimizer.step()
        losses.append(total / n)
    return losses, params


def run_case(out_dir, name, kind, lr, epochs, seed, hidden, data, X32, y32, batch_size=0, shuffle_seed=None,
             **overrides):
    settings = dict(DEFAULTS)
    if kind == "adamw":
        settings["weight_decay"] = 0.01
    settings.update(overrides)
    X = torch.from_numpy(X32.astype(np.float64))
    y = torch.from_numpy(y32.astype(np.float64))
    losses, params = train(kind, lr, epochs, seed, hidden, X, y, settings, batch_size, shuffle_seed)
    nudged, _ = train(kind, lr, epochs, seed, hidden, X, y, settings, batch_size, shuffle_seed, nudge=1e-15)
    sensitivity = float(np.max(np.abs(np.array(losses) - np.array(nudged))))
    if sensitivity > MOST_SENSITIVITY:
        raise SystemExit("%s: a nudge of 1e-15 moves the losses by %.1e: ill-conditioned" % (name, sensitivity))
    lines = [
        "# torch.optim in float64 on the article's gradient; written by scripts/optimizer_reference.py",
        "name %s" % name,
        "optimizer %s" % kind,
        "lr %r" % lr,
        "epochs %d" % epochs,
        "seed %d" % seed,
        "hidden %d" % hidden,
        "data %s" % data,
        "targets %d" % y.shape[1],
        "batch_size %d" % batch_size,
        "shuffle %d" % int(shuffle_seed is not None),
        "shuffle_seed %d" % (shuffle_seed or 0),
    ]
    lines += ["%s %r" % (key, float(value)) for key, value in settings.items() if key != "nesterov"]
    lines.append("nesterov %d" % int(settings["nesterov"]))
    lines.append("sensitivity %.3g" % sensitivity)
    lines.append("losses " + fmt(losses))
    for key, p in zip(["final_W1", "final_b1", "final_W2", "final_b2"], params):
        lines.append(key + " " + fmt(p.detach().numpy()))
    with open(os.path.join(out_dir, "golden", "optimizer_" + name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%-22s losses[0]=%.4f  final=%.6f  sensitivity %.1e" % (name, losses[0], losses[-1], sensitivity))


def write_permutations(out_dir):
    lines = ["# seed n | np.random.RandomState(seed).permutation(n), drawn in sequence per seed"]
    for seed, sizes in [(42, [10, 10, 10]), (7, [1000]), (3, [569, 569]), (0, [1, 2, 3]), (2**32 - 1, [70000])]:
        rs = np.random.RandomState(seed)
        for n in sizes:
            lines.append("%d %d | %s" % (seed, n, " ".join(str(i) for i in rs.permutation(n))))
    with open(os.path.join(out_dir, "golden", "permutations.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    os.makedirs(os.path.join(out_dir, "golden"), exist_ok=True)
    write_permutations(out_dir)
    Xx, yx = xor_data(4)
    xor = dict(seed=42, hidden=4, data="xor", X32=Xx, y32=yx)
    run_case(out_dir, "xor_sgd_l2", "sgd", 2.0, 3000, weight_decay=1e-4, **dict(xor, seed=7, hidden=8))
    run_case(out_dir, "xor_momentum", "momentum", 1.0, 1000, **xor)
    run_case(out_dir, "xor_nesterov", "momentum", 1.0, 1000, nesterov=True, **xor)
    run_case(out_dir, "xor_rmsprop", "rmsprop", 0.05, 400, **xor)
    run_case(out_dir, "xor_rmsprop_l2", "rmsprop", 0.02, 400, weight_decay=1e-4, **xor)
    run_case(out_dir, "xor_adam", "adam", 0.02, 400, **xor)
    run_case(out_dir, "xor_adam_l2", "adam", 0.02, 400, weight_decay=1e-5, **xor)
    run_case(out_dir, "xor_adamw", "adamw", 0.02, 400, **xor)
    Xb, yb = breast_cancer_csv(os.path.join(out_dir, "breast_cancer.csv"))
    cancer = dict(seed=1, hidden=16, data="breast_cancer.csv", X32=Xb, y32=yb)
    run_case(out_dir, "cancer_sgd", "sgd", 0.5, 200, **cancer)
    run_case(out_dir, "cancer_nesterov_l2", "momentum", 0.1, 200, nesterov=True, weight_decay=1e-3, **cancer)
    run_case(out_dir, "cancer_rmsprop", "rmsprop", 0.001, 200, **cancer)
    run_case(out_dir, "cancer_adam", "adam", 0.001, 200, **cancer)
    run_case(out_dir, "cancer_adam_l2", "adam", 0.001, 200, weight_decay=1e-3, **cancer)
    run_case(out_dir, "cancer_adamw", "adamw", 0.001, 200, weight_decay=0.05, **cancer)
    # Mini-batches: a last batch smaller than the others, shuffled and in order.
    run_case(out_dir, "mb_xor_adam", "adam", 0.05, 300, batch_size=3, shuffle_seed=5, **xor)
    run_case(out_dir, "mb_cancer_sgd_l2", "sgd", 0.1, 30, batch_size=32, shuffle_seed=3, weight_decay=1e-3, **cancer)
    run_case(out_dir, "mb_cancer_nesterov_in_order", "momentum", 0.05, 30, batch_size=100, nesterov=True, **cancer)
    run_case(out_dir, "mb_cancer_rmsprop", "rmsprop", 0.001, 30, batch_size=50, shuffle_seed=11, **cancer)
    run_case(out_dir, "mb_cancer_adam", "adam", 0.001, 40, batch_size=64, shuffle_seed=3, **cancer)
    run_case(out_dir, "mb_cancer_adamw", "adamw", 0.002, 30, batch_size=128, shuffle_seed=42, **cancer)
    # float64 end to end: the same data at full double precision, which
    # --precision f64 trains on as written.
    Xd, yd = breast_cancer_csv(os.path.join(out_dir, "breast_cancer_f64.csv"), np.float64)
    run_case(out_dir, "cancer_f64_adam", "adam", 0.001, 100, seed=1, hidden=16, data="breast_cancer_f64.csv", X32=Xd,
             y32=yd)
    # Three sigmoid outputs (--targets 3).
    Xi, yi = iris_csv(os.path.join(out_dir, "iris_onehot.csv"))
    iris = dict(seed=3, hidden=8, data="iris_onehot.csv", X32=Xi, y32=yi)
    run_case(out_dir, "iris_adam", "adam", 0.01, 200, **iris)
    run_case(out_dir, "mb_iris_rmsprop", "rmsprop", 0.003, 40, batch_size=16, shuffle_seed=8, **iris)


if __name__ == "__main__":
    main()
