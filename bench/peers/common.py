"""Shared by the peers: the benchmark grid, XOR data, timing and a JSON
writer in Google Benchmark's layout, so that one script compares them all."""
import json
import os
import platform
import time

HIDDEN = [4, 32, 256, 1024]
BATCH_LOG2 = [2, 10, 14, 18, 20, 22, 24, 26]
BYTES_PER_SAMPLE = 12  # two float inputs and one float target


def add_grid_arguments(parser):
    """--hidden and --batch-log2 pick part of the grid (default: all of it),
    e.g. for repeated head-to-head runs of one configuration."""
    parser.add_argument("--hidden", type=int, nargs="+", default=HIDDEN)
    parser.add_argument("--batch-log2", type=int, nargs="+", default=BATCH_LOG2)


def xor_arrays(np, samples, dtype):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = np.array([[0], [1], [1], [0]], dtype=dtype)
    idx = np.arange(samples) % 4
    return X[idx], y[idx]


def wall_clock(step):
    """Seconds one step() takes on the host's clock."""
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def time_steps(step, min_seconds=0.5, max_iterations=100000, seconds_of=wall_clock):
    """Runs step() once to warm up, then until min_seconds of wall time have
    passed; returns the mean of seconds_of(step), the time one step takes
    (by default the wall clock; a GPU peer passes CUDA-event timing), and the
    number of steps timed."""
    seconds_of(step)
    iterations, measured = 0, 0.0
    wall_start = time.perf_counter()
    while time.perf_counter() - wall_start < min_seconds and iterations < max_iterations:
        measured += seconds_of(step)
        iterations += 1
    return measured / iterations, iterations


def entry(name, seconds, iterations, batch):
    return {
        "name": name,
        "run_type": "iteration",
        "iterations": iterations,
        "real_time": seconds * 1e6,
        "time_unit": "us",
        "samples_per_second": batch / seconds,
        "bytes_per_second": batch * BYTES_PER_SAMPLE / seconds,
    }


# What an error's text says when a configuration did not fit in memory.
MEMORY_WORDS = ("out of memory", "can't allocate memory")


def mentions_memory(text):
    text = text.lower()
    return any(word in text for word in MEMORY_WORDS)


def reason_line(error):
    """The line of an error worth a row's message: the first that mentions
    memory, else the first. torch.compile wraps a failed compilation's error
    under a first line that only names its backend ("backend='inductor'
    raised:"), which says nothing of why."""
    lines = str(error).splitlines() or [type(error).__name__]
    return next((line for line in lines if mentions_memory(line)), lines[0])


def skipped(name, why):
    return {"name": name, "run_type": "iteration", "error_occurred": True, "error_message": "skipped: " + why}


def failed(name, why):
    """A row that broke for a reason other than size; the peer then exits 1."""
    return {"name": name, "run_type": "iteration", "error_occurred": True, "error_message": "FAILED: " + why}


def write(path, benchmarks, library):
    context = {"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "host_name": platform.node(),
               "num_cpus": os.cpu_count(), "library": library}
    # Through a new file and a rename, so that a run killed while writing
    # leaves the last complete file.
    with open(path + ".partial", "w") as f:
        json.dump({"context": context, "benchmarks": benchmarks}, f, indent=1)
    os.replace(path + ".partial", path)
