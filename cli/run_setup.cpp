#include "run_setup.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <unistd.h>

namespace backprop::cli {
namespace {

// An XOR data set too large for this machine's memory would be killed by the
// kernel part-way, not refused by the allocator: say so before allocating.
// Per sample: 12 bytes of data, 8 + 4 for the predictions printed at the end.
void refuse_if_too_large(std::size_t samples) {
  const double needed = 24.0 * static_cast<double>(samples);
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (physical > 0 && needed > 0.8 * physical) {
    char message[160];
    std::snprintf(message, sizeof message, "--samples %zu needs about %.1f GiB; this machine has %.1f GiB of memory",
                  samples, needed / (1 << 30), physical / (1 << 30));
    throw Error(message);
  }
}

}  // namespace

Dataset load_data(const CommonArgs& args) {
  if (!args.data_csv.empty()) return Dataset::from_csv(args.data_csv);
  refuse_if_too_large(static_cast<std::size_t>(args.samples));
  return Dataset::xor_points(static_cast<std::size_t>(args.samples));
}

Parameters load_network(const std::string& path, const Dataset& data) {
  Parameters saved = Parameters::from_csv(path);
  if (saved.shape.inputs != data.inputs || saved.shape.outputs != data.outputs) {
    throw Error(path + " holds a " + to_string(saved.shape) + " network; the data set has " +
                count_of(data.inputs, "input") + " and " + count_of(data.outputs, "output"));
  }
  return saved;
}

Parameters initial_parameters(const RunArgs& args, const Dataset& data) {
  if (!args.init_csv.empty()) return load_network(args.init_csv, data);
  const Shape shape{data.inputs, static_cast<std::size_t>(args.hidden), data.outputs};
  const auto kind = args.init == "xavier" ? Initialisation::xavier : Initialisation::numpy;
  return initialise(kind, shape, static_cast<std::uint32_t>(args.seed));
}

std::string count_of(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

BackendConfig backend_config(const CommonArgs& args) {
  BackendConfig config;
  config.threads = static_cast<unsigned>(args.threads);
  config.allow_tf32 = args.tf32;
  return config;
}

std::unique_ptr<Backend> make_chosen_backend(const std::string& name, const CommonArgs& args) {
  if (name == "auto") {
    for (const auto& info : list_backends()) {
      if (info.usable) break;
      std::fprintf(stderr, "backprop: %s is not usable (%s); falling back\n", info.name.c_str(), info.reason.c_str());
    }
  }
  return make_backend(name, backend_config(args));
}

void close_checked(std::ofstream& file, const std::string& what, const std::string& path) {
  file.close();
  if (!file) throw Error("writing " + what + " '" + path + "' failed");
}

std::ofstream open_output_file(const std::string& path, const std::string& what) {
  std::ofstream file;
  if (path.empty()) return file;
  file.open(path, std::ios::trunc);
  if (!file) throw Error("cannot write " + what + " '" + path + "': " + std::strerror(errno));
  return file;
}

void write_losses(std::ofstream& file, const std::string& path, const std::vector<std::string>& names,
                  const std::vector<const std::vector<double>*>& losses) {
  if (!file.is_open()) return;
  file << "epoch";
  for (const auto& name : names) file << ',' << name;
  file << '\n';
  char cell[32];
  for (std::size_t e = 0; e < losses.front()->size(); ++e) {
    file << e;
    for (const auto* run : losses) {
      std::snprintf(cell, sizeof cell, ",%.17g", (*run)[e]);
      file << cell;
    }
    file << '\n';
  }
  close_checked(file, "loss file", path);
}

void write_parameters(std::ofstream& file, const std::string& path, const Parameters& params) {
  if (!file.is_open()) return;
  params.write_csv(file);
  close_checked(file, "parameter file", path);
}

}  // namespace backprop::cli
