// Data sets: the XOR table and CSV files, with errors that name file and line.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "backprop/dataset.hpp"
#include "backprop/error.hpp"
#include "csv_text.hpp"
#include "host_memory.hpp"

namespace backprop {

Dataset Dataset::xor_points(std::size_t samples) {
  if (samples == 0) throw Error(ErrorKind::usage, "the XOR data set needs at least 1 sample");
  if (samples > std::vector<float>().max_size() / 2) {
    throw Error(ErrorKind::usage, "an XOR data set of " + std::to_string(samples) + " samples cannot be held");
  }
  require_host_memory(12.0 * static_cast<double>(samples), "an XOR data set of " + std::to_string(samples) + " samples");
  static constexpr float kX[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  static constexpr float kY[4] = {0, 1, 1, 0};
  Dataset d;
  d.inputs = 2;
  d.outputs = 1;
  d.features.resize(samples * 2);
  d.targets.resize(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    d.features[2 * i] = kX[i % 4][0];
    d.features[2 * i + 1] = kX[i % 4][1];
    d.targets[i] = kY[i % 4];
  }
  return d;
}

namespace {

// Parses a data file's text: a header line, optional, then one sample a line.
class CsvReader {
 public:
  CsvReader(std::string path, std::size_t targets, bool keep_f64)
      : path_(std::move(path)), targets_(targets), keep_f64_(keep_f64) {}

  Dataset parse(std::string_view text) const {
    Dataset d;
    std::size_t columns = 0;  // fixed by the first non-blank line
    csv::for_each_line(text, [&](std::size_t line_number, std::string_view line) {
      const auto cells = csv::split_cells(line);
      const bool first = columns == 0;
      if (first) {
        columns = cells.size();
        if (columns < targets_ + 1) {
          fail(line_number, "found " + count_of(columns, "column") + "; need at least one feature column and " +
                                count_of(targets_, "target column"));
        }
        // Every line a row of `columns` floats: refused now if that would not fit.
        const std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
        const double bytes_per_value = keep_f64_ ? sizeof(float) + sizeof(double) : sizeof(float);
        require_host_memory(static_cast<double>(lines) * static_cast<double>(columns) * bytes_per_value,
                            "the data set in " + path_ + " (" + std::to_string(columns) + " columns, up to " +
                                std::to_string(lines) + " rows)");
        if (is_header(cells)) return;
      }
      if (cells.size() != columns) {
        fail(line_number, "expected " + std::to_string(columns) + " columns (" + count_of(columns - targets_, "feature") +
                              " and " + count_of(targets_, "target") + "), found " + std::to_string(cells.size()));
      }
      for (std::size_t c = 0; c < columns; ++c) {
        const double value = cell_value(cells[c], line_number, c + 1);
        if (c + targets_ < columns) {
          d.features.push_back(static_cast<float>(value));
          if (keep_f64_) d.features_f64.push_back(value);
        } else {
          if (!(value >= 0.0 && value <= 1.0)) {
            fail(line_number, "target " + csv::quote(cells[c]) + " is outside [0, 1]");
          }
          d.targets.push_back(static_cast<float>(value));
          if (keep_f64_) d.targets_f64.push_back(value);
        }
      }
    });
    if (d.targets.empty()) throw Error(ErrorKind::data, path_ + ": no data rows");
    d.inputs = columns - targets_;
    d.outputs = targets_;
    return d;
  }

 private:
  [[noreturn]] void fail(std::size_t line, const std::string& message) const { csv::fail_at(path_, line, message); }

  static bool is_header(const std::vector<std::string_view>& cells) {
    double ignored;
    for (const auto cell : cells) {
      if (csv::parse_number(cell, ignored)) return false;
    }
    return true;
  }

  // The cell's number, which float32 must hold too.
  double cell_value(std::string_view cell, std::size_t line, std::size_t column) const {
    const std::string where = "column " + std::to_string(column) + ": ";
    if (cell.empty()) fail(line, where + "empty cell");
    double value;
    if (!csv::parse_number(cell, value)) {
      fail(line, where + csv::quote(cell) + " is not a number");
    }
    if (std::isnan(value)) fail(line, where + csv::quote(cell) + " is NaN");
    if (!std::isfinite(value) || std::fabs(value) > std::numeric_limits<float>::max()) {
      fail(line, where + csv::quote(cell) + " is infinite or too large for float32");
    }
    return value;
  }

  static std::string count_of(std::size_t n, const std::string& noun) {
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
  }

  std::string path_;
  std::size_t targets_;
  bool keep_f64_;
};

}  // namespace

Dataset Dataset::from_csv(const std::string& path, std::size_t targets, bool keep_f64) {
  if (targets == 0) throw Error(ErrorKind::usage, "a data set needs at least 1 target column");
  const std::string text = csv::read_text_file(path, "data file");
  return CsvReader(path, targets, keep_f64).parse(text);
}

void validate(const Dataset& d) {
  if (d.inputs == 0 || d.outputs == 0) {
    throw Error(ErrorKind::usage, "data set has " + std::to_string(d.inputs) + " inputs and " +
                std::to_string(d.outputs) + " outputs; both must be at least 1");
  }
  if (d.features.empty()) throw Error(ErrorKind::usage, "data set has no samples");
  if (d.features.size() % d.inputs != 0 || d.targets.size() != d.samples() * d.outputs) {
    throw Error(ErrorKind::usage, "data set arrays disagree: " + std::to_string(d.features.size()) +
                " feature values and " + std::to_string(d.targets.size()) +
                " targets for " + std::to_string(d.inputs) + " inputs and " +
                std::to_string(d.outputs) + " outputs per sample");
  }
  for (std::size_t i = 0; i < d.features.size(); ++i) {
    if (!std::isfinite(d.features[i])) {
      throw Error(ErrorKind::data, "feature " + std::to_string(i % d.inputs) + " of sample " +
                  std::to_string(i / d.inputs) + " is not finite");
    }
  }
  if (d.has_f64() || !d.targets_f64.empty()) {
    if (d.features_f64.size() != d.features.size() || d.targets_f64.size() != d.targets.size()) {
      throw Error(ErrorKind::usage, "data set's double arrays disagree with its float ones: " +
                                        std::to_string(d.features_f64.size()) + " and " +
                                        std::to_string(d.targets_f64.size()) + " values for " +
                                        std::to_string(d.features.size()) + " and " + std::to_string(d.targets.size()));
    }
    for (std::size_t i = 0; i < d.features_f64.size(); ++i) {
      if (!std::isfinite(d.features_f64[i])) {
        throw Error(ErrorKind::data, "feature " + std::to_string(i % d.inputs) + " of sample " +
                                         std::to_string(i / d.inputs) + " is not finite (double)");
      }
    }
    for (std::size_t i = 0; i < d.targets_f64.size(); ++i) {
      if (!(d.targets_f64[i] >= 0.0 && d.targets_f64[i] <= 1.0)) {
        throw Error(ErrorKind::data, "target " + std::to_string(i % d.outputs) + " of sample " +
                                         std::to_string(i / d.outputs) + " is outside [0, 1] (double)");
      }
    }
  }
  for (std::size_t i = 0; i < d.targets.size(); ++i) {
    if (!(d.targets[i] >= 0.0f && d.targets[i] <= 1.0f)) {
      throw Error(ErrorKind::data, "target " + std::to_string(i % d.outputs) + " of sample " +
                  std::to_string(i / d.outputs) + " is outside [0, 1]");
    }
  }
}

}  // namespace backprop
