// Roofline/cuda/read: the GPU's memory-read bandwidth, measured in the same
// run as the training steps (read_bandwidth.cu). Built only with CUDA.
#pragma once

#include <benchmark/benchmark.h>

#include <exception>

// Registers the row; `on_error` turns an exception into a skipped or failed
// row, as the training rows do.
void register_read_bandwidth(void (*on_error)(benchmark::State&, const std::exception&));
