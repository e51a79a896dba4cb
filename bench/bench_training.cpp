// Scaling benchmark: one iteration is one full training step (forward,
// backward, SGD update) over the whole batch, for every usable backend x
// hidden width x batch size, plus the article's whole run (10000 epochs on
// 4 samples). Times are the backends' own (TrainingSession::last_run_seconds:
// the wall clock on the CPU, CUDA events on the GPU), reported as manual time.
//
// Counters: samples_per_second, and bytes_per_second of data-set traffic
// ((inputs + outputs) floats per sample: 12 bytes for XOR), the roofline's
// unit for a step that streams the data set once. Memory: dataset_MiB,
// rss_MiB (the process's resident host memory) and session_MiB (what the
// session allocated where it trains: device memory for cuda).
// Threads/... runs the CPU backend at 1, 2, 4 ... threads. Where cuda is
// usable, cuda-gemm rows run every width (the fused narrow step takes all
// of them) and the article on the cuBLAS path instead,
// Article/cuda-graphs replays the article's epochs as graphs instead of
// running them in one launch, for comparison, and Roofline/cuda/read
// measures the GPU's memory read bandwidth, the ceiling of a step that
// streams the data set (read_bandwidth.cu). Adam/... rows time one epoch of
// Adam in mini-batches (kAdamBatches) on a data set as wide as scikit-learn's
// breast cancer (30 features, 2^16 random samples), the PyTorch peer's Adam
// rows beside them. A configuration that does not fit in memory is
// skipped with its reason; any other error fails the run (exit status 1).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <new>
#include <random>
#include <string>
#include <thread>

#include "backprop/backprop.hpp"
#if BACKPROP_BENCH_HAVE_CUDA
#include "read_bandwidth.hpp"
#endif

namespace {

using namespace backprop;

constexpr std::size_t kHiddenWidths[] = {4, 32, 256, 1024};
constexpr int kBatchLog2[] = {2, 10, 14, 18, 20, 22, 24, 26};
// A CPU step costs about N x hidden x 20 flops; past 2^31 of N x hidden one
// step takes over ~10 s on a 2-core machine. BACKPROP_BENCH_CPU_LIMIT overrides.
constexpr double kDefaultCpuWorkLimit = 2147483648.0;

// The Adam rows: one epoch of 2^16 samples of 30 features, hidden 32 and 256,
// in batches of 256 and 4096, shuffled.
constexpr std::size_t kAdamSamples = std::size_t{1} << 16;
constexpr std::size_t kAdamInputs = 30;
constexpr std::size_t kAdamHidden[] = {32, 256};
constexpr std::size_t kAdamBatches[] = {256, 4096};

double resident_mib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      status >> kib;
      return kib / 1024.0;
    }
  }
  return 0;
}

// A configuration that does not fit in host or device memory is skipped
// with the reason; any other exception is a failure, reported in its row
// as FAILED and counted, so that the program exits 1 instead of 0.
int failures = 0;

void skip_or_fail(benchmark::State& state, const std::exception& e) {
  const std::string what = e.what();
  const auto* error = dynamic_cast<const backprop::Error*>(&e);
  const bool out_of_memory = dynamic_cast<const std::bad_alloc*>(&e) != nullptr ||
                             (error != nullptr && error->kind() == backprop::ErrorKind::out_of_memory);
  if (out_of_memory) {
    state.SkipWithError(("skipped: does not fit in memory: " + what).c_str());
  } else {
    ++failures;
    state.SkipWithError(("FAILED: " + what).c_str());
  }
}

double cpu_work_limit() {
  const char* text = std::getenv("BACKPROP_BENCH_CPU_LIMIT");
  return text ? std::atof(text) : kDefaultCpuWorkLimit;
}

void training_step(benchmark::State& state, const std::string& backend_name, const BackendConfig& config,
                   std::size_t hidden, std::size_t batch) {
  if (backend_name == "cpu" && static_cast<double>(batch) * hidden > cpu_work_limit()) {
    state.SkipWithError(("skipped: N x hidden = " + std::to_string(batch * hidden) +
                         " is over the CPU limit (BACKPROP_BENCH_CPU_LIMIT), over ~10 s a step")
                            .c_str());
    return;
  }
  try {
    const auto backend = make_backend(backend_name, config);
    const Dataset data = Dataset::xor_points(batch);
    const auto session = backend->start(data, init_xavier({2, hidden, 1}, 1), Precision::f32);
    session->run_epochs(1, 0.1);  // warm-up: caches, thread start-up, graph capture
    double seconds = 0;
    for (auto _ : state) {
      session->run_epochs(1, 0.1);
      state.SetIterationTime(session->last_run_seconds());
      seconds += session->last_run_seconds();
    }
    const double samples = static_cast<double>(batch) * static_cast<double>(state.iterations());
    const double bytes_per_sample = static_cast<double>((data.inputs + data.outputs) * sizeof(float));
    state.counters["samples_per_second"] = samples / seconds;
    state.counters["bytes_per_second"] = samples * bytes_per_sample / seconds;
    state.counters["dataset_MiB"] = static_cast<double>(batch) * bytes_per_sample / (1 << 20);
    state.counters["rss_MiB"] = resident_mib();
    state.counters["session_MiB"] = static_cast<double>(session->memory_bytes()) / (1 << 20);
  } catch (const std::exception& e) {
    skip_or_fail(state, e);
  }
}

// Features uniform in [-1, 1) and targets 0 or 1, as the peer draws them
// (the values do not change the work).
Dataset wide_random_data(std::size_t samples, std::size_t inputs) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> feature(-1.0f, 1.0f);
  Dataset d;
  d.inputs = inputs;
  d.outputs = 1;
  d.features.resize(samples * inputs);
  d.targets.resize(samples);
  for (float& x : d.features) x = feature(rng);
  for (float& y : d.targets) y = static_cast<float>(rng() & 1);
  return d;
}

// One epoch of Adam (lr 1e-3) in shuffled batches: samples_per_second counts
// the epoch's samples. The cuda backend trains whole-data-set batches only,
// so far: its rows are skipped, saying so.
void adam_epoch(benchmark::State& state, const std::string& backend_name, std::size_t hidden, std::size_t batch) {
  if (backend_name == "cuda") {
    state.SkipWithError("skipped: the cuda backend trains on the whole data set per step, so far");
    return;
  }
  try {
    const auto backend = make_backend(backend_name);
    const Dataset data = wide_random_data(kAdamSamples, kAdamInputs);
    Batches batches;
    batches.size = batch;
    const auto session = backend->start(data, init_xavier({kAdamInputs, hidden, 1}, 1), Precision::f32,
                                        Optimizer::of(OptimizerKind::adam), batches);
    session->run_epochs(1, 1e-3);  // warm-up
    double seconds = 0;
    for (auto _ : state) {
      session->run_epochs(1, 1e-3);
      state.SetIterationTime(session->last_run_seconds());
      seconds += session->last_run_seconds();
    }
    state.counters["samples_per_second"] = static_cast<double>(kAdamSamples * state.iterations()) / seconds;
    state.counters["session_MiB"] = static_cast<double>(session->memory_bytes()) / (1 << 20);
  } catch (const std::exception& e) {
    skip_or_fail(state, e);
  }
}

// The article: 10000 epochs on the 4 XOR points, hidden 4, lr 1.
void article_run(benchmark::State& state, const std::string& backend_name, const BackendConfig& config) {
  try {
    const auto backend = make_backend(backend_name, config);
    const Dataset data = Dataset::xor_points(4);
    const Parameters initial = init_numpy({2, 4, 1}, 42);
    for (auto _ : state) {
      const auto session = backend->start(data, initial, Precision::f32);
      session->run_epochs(10000, 1.0);
      state.SetIterationTime(session->last_run_seconds());
    }
  } catch (const std::exception& e) {
    skip_or_fail(state, e);
  }
}

void register_article(const std::string& label, const std::string& backend, const BackendConfig& config) {
  benchmark::RegisterBenchmark(("Article/" + label).c_str(), article_run, backend, config)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

void register_step(const std::string& label, const std::string& backend, const BackendConfig& config,
                   std::size_t hidden, std::size_t batch) {
  const std::string name = "Step/" + label + "/h" + std::to_string(hidden) + "/" + std::to_string(batch);
  benchmark::RegisterBenchmark(name.c_str(), training_step, backend, config, hidden, batch)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  const BackendConfig defaults;
  for (const auto& info : backprop::list_backends()) {
    if (!info.usable) {
      std::fprintf(stderr, "backprop_bench: %s not benchmarked: %s\n", info.name.c_str(), info.reason.c_str());
      continue;
    }
    register_article(info.name, info.name, defaults);
    for (const std::size_t hidden : kAdamHidden) {
      for (const std::size_t batch : kAdamBatches) {
        const std::string name = "Adam/" + info.name + "/h" + std::to_string(hidden) + "/b" + std::to_string(batch) +
                                 "/" + std::to_string(kAdamSamples);
        benchmark::RegisterBenchmark(name.c_str(), adam_epoch, info.name, hidden, batch)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
    for (const std::size_t hidden : kHiddenWidths) {
      for (const int log2 : kBatchLog2) register_step(info.name, info.name, defaults, hidden, std::size_t{1} << log2);
    }
    if (info.name == "cuda") {
      BackendConfig gemms;
      gemms.fuse_narrow = false;
      register_article("cuda-gemm", "cuda", gemms);
      BackendConfig graphs;  // the article's epochs as graph replays, not one launch
      graphs.epochs_in_one_launch = false;
      register_article("cuda-graphs", "cuda", graphs);
      for (const std::size_t hidden : kHiddenWidths) {
        for (const int log2 : kBatchLog2) register_step("cuda-gemm", "cuda", gemms, hidden, std::size_t{1} << log2);
      }
#if BACKPROP_BENCH_HAVE_CUDA
      register_read_bandwidth(skip_or_fail);
#endif
    }
  }
  // Thread scaling of the CPU backend: hidden 4, batch 2^20, 1 thread up to all.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned threads = 1; threads <= cores; threads *= 2) {
    BackendConfig config;
    config.threads = threads;
    benchmark::RegisterBenchmark(("Threads/cpu/h4/1048576/t" + std::to_string(threads)).c_str(), training_step,
                                 std::string("cpu"), config, std::size_t{4}, std::size_t{1} << 20)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (failures != 0) {
    std::fprintf(stderr, "backprop_bench: %d benchmark(s) FAILED (see their rows)\n", failures);
    return 1;
  }
  return 0;
}
