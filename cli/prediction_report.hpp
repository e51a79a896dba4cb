// What train and evaluate show of a network's predictions: a table of
// inputs, targets and predicted classes for a few samples, or an accuracy
// line for more; and, for evaluate, every probability in a CSV file.
#pragma once

#include <string>
#include <vector>

#include "backprop/backprop.hpp"
#include "output_file.hpp"

namespace backprop::cli {

// `probabilities` as Backend::predict returns them, (samples, outputs).
// Up to 8 samples: the article's table, predictions at threshold 0.5; more:
// one line with the share of predictions that match their target.
void print_predictions(const Dataset& data, const std::vector<double>& probabilities);

// "target,probability", then a line per sample in the data set's order,
// each probability printed so that it reads back to the same double; for
// K outputs, "target0,...,targetK-1,probability0,...". Written whole
// (output_file.hpp); nothing when path is empty.
void write_predictions(const std::string& path, const Dataset& data, const std::vector<double>& probabilities);

}  // namespace backprop::cli
