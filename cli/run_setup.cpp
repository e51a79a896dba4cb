#include "run_setup.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

#include "host_memory.hpp"

namespace backprop::cli {

Dataset load_data(const CommonArgs& args, bool keep_f64) {
  if (!args.data_csv.empty()) {
    return Dataset::from_csv(args.data_csv, static_cast<std::size_t>(args.targets), keep_f64);
  }
  if (args.targets != 1) throw Error(ErrorKind::usage, "--targets needs --data: the XOR points have one target");
  // Per sample: 12 bytes of data, 8 + 4 for the predictions printed at the
  // end; refused now rather than killed by the kernel part-way.
  require_host_memory(24.0 * static_cast<double>(args.samples), "--samples " + std::to_string(args.samples));
  return Dataset::xor_points(static_cast<std::size_t>(args.samples));
}

Parameters load_network(const std::string& path, const Dataset& data, OptimizerState* state) {
  Parameters saved = Parameters::from_csv(path, state);
  if (saved.shape.inputs != data.inputs || saved.shape.outputs != data.outputs) {
    throw Error(ErrorKind::data, path + " holds a " + to_string(saved.shape) + " network; the data set has " +
                                     count_of(data.inputs, "input") + " and " + count_of(data.outputs, "output"));
  }
  return saved;
}

Optimizer chosen_optimizer(const RunArgs& args) {
  const OptimizerKind kind = parse_optimizer(args.optimizer);
  Optimizer o = Optimizer::of(kind);
  const std::string name(to_string(kind));
  // Each setting given is taken, if the kind reads it.
  auto take = [&](const std::optional<double>& given, double& setting, const char* flag,
                  std::initializer_list<OptimizerKind> readers, const char* whose) {
    if (!given) return;
    if (std::find(readers.begin(), readers.end(), kind) == readers.end()) {
      throw Error(ErrorKind::usage, std::string(flag) + " is a setting of " + whose + ", not of " + name);
    }
    setting = *given;
  };
  using K = OptimizerKind;
  take(args.momentum, o.momentum, "--momentum", {K::momentum}, "momentum");
  take(args.alpha, o.alpha, "--alpha", {K::rmsprop}, "rmsprop");
  take(args.beta1, o.beta1, "--beta1", {K::adam, K::adamw}, "adam and adamw");
  take(args.beta2, o.beta2, "--beta2", {K::adam, K::adamw}, "adam and adamw");
  take(args.eps, o.eps, "--eps", {K::rmsprop, K::adam, K::adamw}, "rmsprop, adam and adamw");
  take(args.weight_decay, o.weight_decay, "--weight-decay", {K::sgd, K::momentum, K::rmsprop, K::adam, K::adamw},
       "every optimizer");
  if (args.nesterov) {
    if (kind != K::momentum) throw Error(ErrorKind::usage, "--nesterov is a setting of momentum, not of " + name);
    o.nesterov = true;
  }
  validate(o);
  return o;
}

double chosen_learning_rate(const RunArgs& args) {
  return args.lr ? *args.lr : default_learning_rate(parse_optimizer(args.optimizer));
}

Batches chosen_batches(const RunArgs& args) {
  Batches b;
  b.size = static_cast<std::size_t>(args.batch_size);
  b.shuffle = !args.no_shuffle;
  b.seed = static_cast<std::uint32_t>(args.shuffle_seed ? *args.shuffle_seed : args.seed);
  return b;
}

Dataset split_off_validation(Dataset& data, double share) {
  const std::size_t n = data.samples();
  const auto keep = static_cast<std::size_t>(std::floor(static_cast<double>(n) * (1.0 - share)));
  if (keep == 0 || keep >= n) {
    throw Error(ErrorKind::usage, "--validation-split " + std::to_string(share) + " of " + count_of(n, "sample") +
                                      " leaves " + count_of(keep, "sample") + " to train and " +
                                      count_of(n - keep, "sample") + " to validate; each needs one at least");
  }
  Dataset validation;
  validation.inputs = data.inputs;
  validation.outputs = data.outputs;
  validation.features.assign(data.features.begin() + keep * data.inputs, data.features.end());
  validation.targets.assign(data.targets.begin() + keep * data.outputs, data.targets.end());
  data.features.resize(keep * data.inputs);
  data.targets.resize(keep * data.outputs);
  if (data.has_f64()) {
    validation.features_f64.assign(data.features_f64.begin() + keep * data.inputs, data.features_f64.end());
    validation.targets_f64.assign(data.targets_f64.begin() + keep * data.outputs, data.targets_f64.end());
    data.features_f64.resize(keep * data.inputs);
    data.targets_f64.resize(keep * data.outputs);
  }
  return validation;
}

Parameters initial_parameters(const RunArgs& args, const Dataset& data, OptimizerState* state) {
  if (!args.init_csv.empty()) return load_network(args.init_csv, data, state);
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
  const unsigned hardware = std::thread::hardware_concurrency();
  if (hardware != 0 && config.threads > hardware) {
    std::fprintf(stderr, "backprop: note: --threads %u is more than this machine's %u hardware threads; using %u\n",
                 config.threads, hardware, hardware);
    config.threads = hardware;
  }
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

namespace {

// What makes two paths one file: the device and inode of the file, or of
// its folder and its name where the file does not exist yet.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  std::string name;  // empty for an existing file
  bool known = false;

  friend bool operator==(const FileIdentity& a, const FileIdentity& b) {
    return a.known && b.known && a.device == b.device && a.inode == b.inode && a.name == b.name;
  }
};

FileIdentity identity_of(const std::string& path) {
  struct stat info {};
  // A device (/dev/null, /dev/stdout) may take several outputs: it keeps nothing to destroy.
  if (::stat(path.c_str(), &info) == 0) return {info.st_dev, info.st_ino, {}, S_ISREG(info.st_mode)};
  const auto slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::stat(folder.c_str(), &info) != 0) return {};  // opening it will say why
  return {info.st_dev, info.st_ino, slash == std::string::npos ? path : path.substr(slash + 1), true};
}

}  // namespace

void check_distinct_files(const std::vector<FlagPath>& inputs, const std::vector<FlagPath>& outputs,
                          const std::pair<std::string, std::string>& allowed) {
  auto same = [](const FlagPath& a, const FlagPath& b) { return identity_of(a.path) == identity_of(b.path); };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].path.empty()) continue;
    for (std::size_t j = i + 1; j < outputs.size(); ++j) {
      if (!outputs[j].path.empty() && same(outputs[i], outputs[j])) {
        throw Error(ErrorKind::usage, outputs[i].flag + " and " + outputs[j].flag + " name the same file ('" +
                                          outputs[i].path + "', '" + outputs[j].path + "')");
      }
    }
    for (const FlagPath& input : inputs) {
      if (input.path.empty() || input.path == "-" || !same(input, outputs[i])) continue;
      if (input.flag == allowed.first && outputs[i].flag == allowed.second) continue;
      throw Error(ErrorKind::usage, outputs[i].flag + " '" + outputs[i].path + "' is the file that " + input.flag +
                                        " reads ('" + input.path + "'): writing it would destroy the input");
    }
  }
}

void check_writable(const std::string& path, const std::string& what) {
  if (!path.empty()) OutputFile(path, what);  // made, and removed again uncommitted
}

void write_losses(const std::string& path, const std::vector<std::string>& names,
                  const std::vector<const std::vector<double>*>& losses,
                  const std::vector<ValidationPoint>* validation) {
  if (path.empty()) return;
  OutputFile file(path, "loss file");
  std::ostream& out = file.stream();
  out << "epoch";
  for (const auto& name : names) out << ',' << name;
  if (validation != nullptr) out << ",validation_loss,validation_accuracy";
  out << '\n';
  char cell[64];
  const std::size_t epochs = losses.front()->size();
  auto next_point = validation != nullptr ? validation->begin() : std::vector<ValidationPoint>::const_iterator{};
  for (std::size_t e = 0; e < epochs || (validation != nullptr && next_point != validation->end()); ++e) {
    out << e;
    for (const auto* run : losses) {
      if (e < epochs) {
        std::snprintf(cell, sizeof cell, ",%.17g", (*run)[e]);
        out << cell;
      } else {
        out << ',';
      }
    }
    if (validation != nullptr) {
      if (next_point != validation->end() && next_point->epoch == e) {
        std::snprintf(cell, sizeof cell, ",%.17g,%.17g", next_point->loss, next_point->accuracy);
        out << cell;
        ++next_point;
      } else {
        out << ",,";
      }
    }
    out << '\n';
  }
  file.commit();
}

void write_parameters(const std::string& path, const Parameters& params, const OptimizerState* state) {
  if (path.empty()) return;
  OutputFile file(path, "parameter file");
  params.write_csv(file.stream(), state);
  file.commit();
}

std::string format_loss(double loss) {
  char text[32];
  const double magnitude = std::fabs(loss);
  const bool fixed = loss == 0 || (magnitude >= 1e-4 && magnitude < 1e6);
  std::snprintf(text, sizeof text, fixed ? "%.4f" : "%.4e", loss);
  return text;
}

}  // namespace backprop::cli
