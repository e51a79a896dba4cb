// What a run of the command line is made of, the same for train, compare and
// evaluate: the data set, the network, the backend, the files it reads and
// writes, and the counts in the line each prints on stderr.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "backprop/backprop.hpp"
#include "commands.hpp"
#include "output_file.hpp"

namespace backprop::cli {

// The CSV file of --data ("-": the standard input), or --samples XOR points.
// keep_f64: the file's values in double too, for f64 runs.
Dataset load_data(const CommonArgs& args, bool keep_f64 = false);

// The network saved in `path` by Parameters::write_csv, refused unless its
// widths fit the data; a checkpoint's state into `state` where given.
Parameters load_network(const std::string& path, const Dataset& data, OptimizerState* state = nullptr);

// Splits `data` for --validation-split F as Keras does: the first
// floor(N (1 - F)) samples in file order train, the rest validate (before
// any shuffling). Each part must keep at least one sample.
Dataset split_off_validation(Dataset& data, double share);

// --init drawn with --seed for the data's widths and --hidden units, or the
// network in the --init-csv file.
// A checkpoint's state, for --init-csv, into `state` where given.
Parameters initial_parameters(const RunArgs& args, const Dataset& data, OptimizerState* state = nullptr);

// --threads and --tf32; a --threads count above this machine's hardware
// threads is lowered to them, with a note on stderr.
BackendConfig backend_config(const CommonArgs& args);

// make_backend with --threads and --tf32; for "auto", says on stderr which
// backends it passed over and why.
std::unique_ptr<Backend> make_chosen_backend(const std::string& name, const CommonArgs& args);

// The optimizer the flags ask for: --optimizer's kind with PyTorch's
// defaults, and each setting given. A setting the kind does not read
// (--beta1 with sgd) is a usage error, as are values out of range
// (validate(Optimizer)).
Optimizer chosen_optimizer(const RunArgs& args);

// --lr, or the chosen optimizer's default learning rate.
double chosen_learning_rate(const RunArgs& args);

// --batch-size, --shuffle-seed (by default --seed) and --no-shuffle.
Batches chosen_batches(const RunArgs& args);

// "1 sample", "4 samples": a count and its noun, for the lines on stderr.
std::string count_of(std::size_t n, const std::string& noun);

// A file a flag names: "--loss-csv" and the path.
struct FlagPath {
  std::string flag, path;
};

// Throws Error(usage) before any work when two outputs are one file, or an
// output is one of the inputs: the same file by device and inode where it
// exists, by its folder's and its own name where it does not yet. Empty
// paths are not given. `allowed`, when set, is the one input and output
// that may be the same file (train's --init-csv and --params-csv, the
// continuation: the output replaces the file only once the run is done).
void check_distinct_files(const std::vector<FlagPath>& inputs, const std::vector<FlagPath>& outputs,
                          const std::pair<std::string, std::string>& allowed = {});

// Throws Error(io) unless a file can be written at `path` (a file is made
// in its folder and removed), so that an output that cannot be written
// fails before any work, not after a long run. Nothing when path is empty.
void check_writable(const std::string& path, const std::string& what);

// "epoch,<name>,..." then one line per epoch, every loss with full
// precision, into `path` whole (output_file.hpp). Nothing when path is empty.
// With `validation`, two more columns, validation_loss and
// validation_accuracy, filled at the epochs scored (empty elsewhere), and
// a last line for a scoring after the last epoch.
void write_losses(const std::string& path, const std::vector<std::string>& names,
                  const std::vector<const std::vector<double>*>& losses,
                  const std::vector<ValidationPoint>* validation = nullptr);

// The parameters as Parameters::write_csv writes them, which --init-csv
// reads back, into `path` whole, with `state` where given (a checkpoint).
// Nothing when path is empty.
void write_parameters(const std::string& path, const Parameters& params, const OptimizerState* state = nullptr);

// A loss as the log lines print it: "0.6934", or "1.2346e+05" and
// "3.0000e-07" where four decimals would be unreadable or say nothing.
std::string format_loss(double loss);

}  // namespace backprop::cli
