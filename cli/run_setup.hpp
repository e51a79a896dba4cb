// What a training run of the command line is made of, the same for train and
// compare: the data set, the starting parameters, the backend's settings,
// the output files, and the counts in the line each prints on stderr.
#pragma once

#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

#include "backprop/backprop.hpp"
#include "commands.hpp"

namespace backprop::cli {

// The CSV file of --data, or --samples XOR points (refused up front when
// they would not fit in this machine's memory).
Dataset load_data(const RunArgs& args);

// --init drawn with --seed for the data's widths and --hidden units, or the
// network in the --init-csv file (refused unless its widths fit the data).
Parameters initial_parameters(const RunArgs& args, const Dataset& data);

// --threads and --tf32.
BackendConfig backend_config(const RunArgs& args);

// "1 sample", "4 samples": a count and its noun, for the lines on stderr.
std::string count_of(std::size_t n, const std::string& noun);

// A file a flag asks for (--loss-csv, --params-csv), opened before training
// so that an unwritable path fails at once rather than after a long run;
// closed (no file) when the path is empty. `what` names it in errors:
// "cannot write loss file 'out.csv': No such file or directory".
std::ofstream open_output_file(const std::string& path, const std::string& what);

// "epoch,<name>,..." then one line per epoch, every loss with full
// precision. Does nothing when the file is not open.
void write_losses(std::ofstream& file, const std::string& path, const std::vector<std::string>& names,
                  const std::vector<const std::vector<double>*>& losses);

// The parameters as Parameters::write_csv writes them, which --init-csv
// reads back. Does nothing when the file is not open.
void write_parameters(std::ofstream& file, const std::string& path, const Parameters& params);

}  // namespace backprop::cli
