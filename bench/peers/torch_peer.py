#!/usr/bin/env python3
"""PyTorch peer: nn.Linear + Sigmoid, BCEWithLogitsLoss, SGD, one full
training step per iteration over the same grid as backprop_bench, on the CPU
and, where a GPU exists, CUDA in eager mode and with torch.compile; and, in
eager mode, backprop_bench's Adam rows (an epoch of Adam in mini-batches).
Writes Google Benchmark-style JSON. torch-cpu-compile (torch.compile on the CPU)
runs only when named in --variants: it compiles for seconds a configuration
and serves to check the compiled rows on a machine without a GPU.

usage: torch_peer.py OUT.json [--max-work N] [--min-seconds S] [--budget-seconds S]
                     [--variants ...] [--hidden H ...] [--batch-log2 B ...]
"""
import argparse
import sys
import time

import torch
import torch._dynamo

from common import (add_grid_arguments, entry, failed, mentions_memory, reason_line, skipped, time_steps,
                    wall_clock, write)


def make_model(hidden, device):
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.Sigmoid(), torch.nn.Linear(hidden, 1))
    return model.to(device)


def xor_tensors(batch, device):
    X = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)
    y = torch.tensor([[0], [1], [1], [0]], dtype=torch.float32)
    idx = torch.arange(batch) % 4
    return X[idx].to(device), y[idx].to(device)


def make_step(model, X, y, compiled):
    loss_fn = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        return loss

    if not compiled:
        return step
    # Dynamo keeps one cache per function, and every configuration's step is
    # the same function over other tensors. Past its recompile limit (8) it
    # runs the function eagerly with only a warning, and later rows would
    # time eager code under the compiled name. Each configuration starts
    # from an empty cache instead, as a program training one network would.
    torch._dynamo.reset()
    return torch.compile(step)


def compiled_graphs():
    """Graphs Dynamo has compiled in this process so far."""
    return torch._dynamo.utils.counters["stats"]["unique_graphs"]


# The Adam rows, as backprop_bench's: one epoch of 2^16 samples of 30
# features, hidden 32 and 256, batches of 256 and 4096, shuffled each epoch.
ADAM_SAMPLES = 1 << 16
ADAM_INPUTS = 30
ADAM_HIDDEN = (32, 256)
ADAM_BATCHES = (256, 4096)


def make_adam_epoch(hidden, batch, device):
    """One epoch of torch.optim.Adam (lr 1e-3) in shuffled batches, as a
    training loop over tensors on the device writes it."""
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(ADAM_INPUTS, hidden), torch.nn.Sigmoid(),
                                torch.nn.Linear(hidden, 1)).to(device)
    X = (torch.rand(ADAM_SAMPLES, ADAM_INPUTS) * 2 - 1).to(device)
    y = torch.randint(0, 2, (ADAM_SAMPLES, 1)).float().to(device)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        order = torch.randperm(ADAM_SAMPLES, device=device)
        for first in range(0, ADAM_SAMPLES, batch):
            rows = order[first:first + batch]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(X[rows]), y[rows]).backward()
            optimizer.step()

    return epoch


def measure_adam_row(name, device, hidden, batch, min_seconds):
    return timed_row(name, device, lambda: make_adam_epoch(hidden, batch, device), ADAM_SAMPLES, min_seconds)


def cuda_event_time(step):
    """Seconds between CUDA events recorded on the current stream before and
    after one step: how backprop_bench times the cuda backend's steps, so
    that both sides count the GPU's time from the step's first launch to its
    last kernel's end, gaps included, and neither the final synchronisation."""
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    start.record()
    step()
    stop.record()
    stop.synchronize()
    return start.elapsed_time(stop) / 1e3


def out_of_memory(error):
    """A configuration too large for the device or host: skipped, not failed."""
    return isinstance(error, torch.cuda.OutOfMemoryError) or mentions_memory(str(error))


def measure_row(name, device, compiled, hidden, batch, min_seconds):
    """One configuration's row: timed, skipped for lack of memory, or failed."""
    def make():
        X, y = xor_tensors(batch, device)
        return make_step(make_model(hidden, device), X, y, compiled)

    return timed_row(name, device, make, batch, min_seconds, compiled=compiled)


def timed_row(name, device, make, samples, min_seconds, compiled=False):
    """The row of the step make() returns, each timed step `samples`
    samples: timed, skipped for lack of memory, or failed (a compiled row
    that compiled no graph fails: it would time eager code)."""
    seconds_of = cuda_event_time if device == "cuda" else wall_clock
    try:
        step = make()
        graphs = compiled_graphs()
        seconds, iterations = time_steps(step, min_seconds, seconds_of=seconds_of)
        if compiled and compiled_graphs() == graphs:
            raise RuntimeError("torch.compile compiled no graph: the row would time eager code")
    except Exception as e:  # noqa: BLE001 - every row gets its outcome, then the exit status
        reason = reason_line(e)
        step = None
        if device == "cuda":
            torch.cuda.empty_cache()
        if out_of_memory(e):
            return skipped(name, "does not fit in memory: " + reason)
        print("%-34s FAILED: %s" % (name, reason), file=sys.stderr)
        return failed(name, "%s: %s" % (type(e).__name__, reason))
    print("%-34s %12.1f us  %.3g samples/s" % (name, seconds * 1e6, samples / seconds), file=sys.stderr)
    return entry(name, seconds, iterations, samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--max-work", type=float, default=2.0 ** 28)
    parser.add_argument("--min-seconds", type=float, default=0.5)
    parser.add_argument("--budget-seconds", type=float, default=float("inf"),
                        help="once this much wall time has passed, skip the remaining rows, saying so")
    add_grid_arguments(parser)
    parser.add_argument("--variants", nargs="*",
                        help="a subset of torch-cpu, torch-cuda, torch-cuda-compile; or torch-cpu-compile")
    args = parser.parse_args()
    variants = [("torch-cpu", "cpu", False)]
    if torch.cuda.is_available():
        variants += [("torch-cuda", "cuda", False), ("torch-cuda-compile", "cuda", True)]
    if args.variants:
        variants = [v for v in variants + [("torch-cpu-compile", "cpu", True)] if v[0] in args.variants]
    started = time.perf_counter()
    results = []
    for tag, device, compiled in variants:
        limit = args.max_work if device == "cpu" else 2.0 ** 36
        for hidden in args.hidden:
            for log2 in args.batch_log2:
                batch = 1 << log2
                name = "Step/%s/h%d/%d" % (tag, hidden, batch)
                if batch * hidden > limit:
                    results.append(skipped(name, "batch x hidden over the limit %g" % limit))
                elif time.perf_counter() - started > args.budget_seconds:
                    results.append(skipped(name, "the run's --budget-seconds %g were spent" % args.budget_seconds))
                else:
                    results.append(measure_row(name, device, compiled, hidden, batch, args.min_seconds))
                # Written after every row, so a run cut short keeps the rows it finished.
                write(args.out, results, "torch " + torch.__version__)
        if compiled:
            continue
        for hidden in ADAM_HIDDEN:
            for batch in ADAM_BATCHES:
                name = "Adam/%s/h%d/b%d/%d" % (tag, hidden, batch, ADAM_SAMPLES)
                if time.perf_counter() - started > args.budget_seconds:
                    results.append(skipped(name, "the run's --budget-seconds %g were spent" % args.budget_seconds))
                else:
                    results.append(measure_adam_row(name, device, hidden, batch, args.min_seconds))
                write(args.out, results, "torch " + torch.__version__)
    failures = sum(1 for row in results if row.get("error_message", "").startswith("FAILED"))
    if failures:
        print("torch_peer: %d configuration(s) FAILED" % failures, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
