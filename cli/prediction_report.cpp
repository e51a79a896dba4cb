#include "prediction_report.hpp"

#include <cstdio>

#include "run_setup.hpp"

namespace backprop::cli {
namespace {

constexpr std::size_t kTableRows = 8;     // larger data sets get an accuracy line instead
constexpr std::size_t kTableValues = 16;  // a wider row shows its first values and its width

// "0 1" for {0, 1}: values as %g, space-separated; a row of more than
// kTableValues ends "... (784 values)" so that the table stays a table.
template <class V>
std::string joined(const V* values, std::size_t count) {
  std::string text;
  char cell[48];
  const std::size_t shown = count > kTableValues ? kTableValues - 1 : count;
  for (std::size_t i = 0; i < shown; ++i) {
    std::snprintf(cell, sizeof cell, "%s%g", i ? " " : "", static_cast<double>(values[i]));
    text += cell;
  }
  if (shown < count) {
    std::snprintf(cell, sizeof cell, " ... (%zu values)", count);
    text += cell;
  }
  return text;
}

}  // namespace

void print_predictions(const Dataset& data, const std::vector<double>& probabilities) {
  const std::size_t n = data.samples();
  const std::size_t outs = data.outputs;
  std::vector<int> predicted(probabilities.size());
  for (std::size_t k = 0; k < predicted.size(); ++k) predicted[k] = probabilities[k] > 0.5 ? 1 : 0;

  if (n <= kTableRows) {
    std::printf("Input | Target | Predicted\n");
    for (std::size_t s = 0; s < n; ++s) {
      std::printf("  [%s]  |   %s    |    %s\n", joined(&data.features[s * data.inputs], data.inputs).c_str(),
                  joined(&data.targets[s * outs], outs).c_str(), joined(&predicted[s * outs], outs).c_str());
    }
    return;
  }
  std::size_t correct = 0;
  for (std::size_t k = 0; k < n * outs; ++k) correct += predicted[k] == (data.targets[k] > 0.5f ? 1 : 0);
  std::printf("Accuracy: %.2f%% (%zu of %zu predictions match the target at threshold 0.5)\n",
              100.0 * static_cast<double>(correct) / static_cast<double>(n * outs), correct, n * outs);
}

void write_predictions(const std::string& path, const Dataset& data, const std::vector<double>& probabilities) {
  if (path.empty()) return;
  OutputFile file(path, "predictions file");
  const std::size_t outs = data.outputs;
  // One output: "target,probability", the article's; K outputs: the K
  // targets, then the K probabilities.
  if (outs == 1) {
    file.stream() << "target,probability\n";
  } else {
    for (std::size_t o = 0; o < outs; ++o) file.stream() << (o ? "," : "") << "target" << o;
    for (std::size_t o = 0; o < outs; ++o) file.stream() << ",probability" << o;
    file.stream() << '\n';
  }
  char cell[40];
  for (std::size_t s = 0; s < data.samples(); ++s) {
    for (std::size_t o = 0; o < outs; ++o) {
      std::snprintf(cell, sizeof cell, "%s%.9g", o ? "," : "", static_cast<double>(data.targets[s * outs + o]));
      file.stream() << cell;
    }
    for (std::size_t o = 0; o < outs; ++o) {
      std::snprintf(cell, sizeof cell, ",%.17g", probabilities[s * outs + o]);
      file.stream() << cell;
    }
    file.stream() << '\n';
  }
  file.commit();
}

}  // namespace backprop::cli
