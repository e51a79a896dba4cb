// What a run of the command line is made of, the same for train, compare and
// evaluate: the data set, the network, the backend, the output files, and the
// counts in the line each prints on stderr.
#pragma once

#include <cstddef>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "backprop/backprop.hpp"
#include "commands.hpp"

namespace backprop::cli {

// The CSV file of --data, or --samples XOR points (refused up front when
// they would not fit in this machine's memory).
Dataset load_data(const CommonArgs& args);

// The network saved in `path` by Parameters::write_csv, refused unless its
// widths fit the data.
Parameters load_network(const std::string& path, const Dataset& data);

// --init drawn with --seed for the data's widths and --hidden units, or the
// network in the --init-csv file.
Parameters initial_parameters(const RunArgs& args, const Dataset& data);

// --threads and --tf32.
BackendConfig backend_config(const CommonArgs& args);

// make_backend with --threads and --tf32; for "auto", says on stderr which
// backends it passed over and why.
std::unique_ptr<Backend> make_chosen_backend(const std::string& name, const CommonArgs& args);

// "1 sample", "4 samples": a count and its noun, for the lines on stderr.
std::string count_of(std::size_t n, const std::string& noun);

// A file a flag asks for (--loss-csv, --params-csv), opened before training
// so that an unwritable path fails at once rather than after a long run;
// closed (no file) when the path is empty. `what` names it in errors:
// "cannot write loss file 'out.csv': No such file or directory".
std::ofstream open_output_file(const std::string& path, const std::string& what);

// Closes a file written to, throwing if anything failed to reach it (a full
// disk shows only when the buffered lines are flushed).
void close_checked(std::ofstream& file, const std::string& what, const std::string& path);

// "epoch,<name>,..." then one line per epoch, every loss with full
// precision. Does nothing when the file is not open.
void write_losses(std::ofstream& file, const std::string& path, const std::vector<std::string>& names,
                  const std::vector<const std::vector<double>*>& losses);

// The parameters as Parameters::write_csv writes them, which --init-csv
// reads back. Does nothing when the file is not open.
void write_parameters(std::ofstream& file, const std::string& path, const Parameters& params);

}  // namespace backprop::cli
