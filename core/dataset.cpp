// Data sets: the XOR table and CSV files, with errors that name file and line.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

#include "backprop/dataset.hpp"
#include "backprop/error.hpp"

namespace backprop {

Dataset Dataset::xor_points(std::size_t samples) {
  if (samples == 0) throw Error("the XOR data set needs at least 1 sample");
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

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

// Parses the whole cell as a number; false when it is not one.
bool parse_number(std::string_view cell, double& value) {
  if (cell.empty()) return false;
  if (cell.front() == '+') cell.remove_prefix(1);  // from_chars rejects a leading '+'
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (ec == std::errc::result_out_of_range) {
    value = std::numeric_limits<double>::infinity();  // reported as too large below
    return end == cell.data() + cell.size();
  }
  return ec == std::errc() && end == cell.data() + cell.size();
}

class CsvReader {
 public:
  explicit CsvReader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(std::size_t line, const std::string& message) const {
    throw Error(path_ + ":" + std::to_string(line) + ": " + message);
  }

  std::string read_whole_file() const {
    std::error_code ec;
    if (std::filesystem::is_directory(path_, ec)) {
      throw Error("cannot read data file '" + path_ + "': it is a directory");
    }
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
      throw Error("cannot open data file '" + path_ + "': " + std::strerror(errno));
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) throw Error("cannot read data file '" + path_ + "'");
    return buffer.str();
  }

  // A text CSV holds printable characters, tabs and line ends only.
  void reject_binary(std::string_view text) const {
    std::size_t line = 1;
    for (const char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '\n') {
        ++line;
      } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", c);
        fail(line, std::string("binary data (byte ") + hex + "): not a text CSV file");
      }
    }
  }

  Dataset parse(std::string_view text) const {
    Dataset d;
    std::size_t columns = 0;  // fixed by the first non-blank line
    std::size_t line_number = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (trim(line).empty()) continue;

      const auto cells = split_cells(line);
      const bool first = columns == 0;
      if (first) {
        columns = cells.size();
        if (columns < 2) {
          fail(line_number, "found 1 column; need at least one feature column and a target column");
        }
        if (is_header(cells)) continue;
      }
      if (cells.size() != columns) {
        fail(line_number, "expected " + std::to_string(columns) + " columns (" +
                              std::to_string(columns - 1) + " features and a target), found " +
                              std::to_string(cells.size()));
      }
      for (std::size_t c = 0; c < columns; ++c) {
        const float value = cell_value(cells[c], line_number, c + 1);
        if (c + 1 < columns) {
          d.features.push_back(value);
        } else {
          if (!(value >= 0.0f && value <= 1.0f)) {
            fail(line_number, "target " + std::string(cells[c]) + " is outside [0, 1]");
          }
          d.targets.push_back(value);
        }
      }
    }
    if (d.targets.empty()) throw Error(path_ + ": no data rows");
    d.inputs = columns - 1;
    d.outputs = 1;
    return d;
  }

 private:
  static bool is_header(const std::vector<std::string_view>& cells) {
    double ignored;
    for (const auto cell : cells) {
      if (parse_number(cell, ignored)) return false;
    }
    return true;
  }

  float cell_value(std::string_view cell, std::size_t line, std::size_t column) const {
    const std::string where = "column " + std::to_string(column) + ": ";
    if (cell.empty()) fail(line, where + "empty cell");
    double value;
    if (!parse_number(cell, value)) {
      fail(line, where + "'" + std::string(cell) + "' is not a number");
    }
    if (std::isnan(value)) fail(line, where + "'" + std::string(cell) + "' is NaN");
    if (!std::isfinite(value) || std::fabs(value) > std::numeric_limits<float>::max()) {
      fail(line, where + "'" + std::string(cell) + "' is infinite or too large for float32");
    }
    return static_cast<float>(value);
  }

  std::string path_;
};

}  // namespace

Dataset Dataset::from_csv(const std::string& path) {
  CsvReader reader(path);
  const std::string text = reader.read_whole_file();
  if (text.empty()) throw Error(path + ": the file is empty");
  reader.reject_binary(text);
  return reader.parse(text);
}

void validate(const Dataset& d) {
  if (d.inputs == 0 || d.outputs == 0) {
    throw Error("data set has " + std::to_string(d.inputs) + " inputs and " +
                std::to_string(d.outputs) + " outputs; both must be at least 1");
  }
  if (d.features.empty()) throw Error("data set has no samples");
  if (d.features.size() % d.inputs != 0 || d.targets.size() != d.samples() * d.outputs) {
    throw Error("data set arrays disagree: " + std::to_string(d.features.size()) +
                " feature values and " + std::to_string(d.targets.size()) +
                " targets for " + std::to_string(d.inputs) + " inputs and " +
                std::to_string(d.outputs) + " outputs per sample");
  }
  for (std::size_t i = 0; i < d.features.size(); ++i) {
    if (!std::isfinite(d.features[i])) {
      throw Error("feature " + std::to_string(i % d.inputs) + " of sample " +
                  std::to_string(i / d.inputs) + " is not finite");
    }
  }
  for (std::size_t i = 0; i < d.targets.size(); ++i) {
    if (!(d.targets[i] >= 0.0f && d.targets[i] <= 1.0f)) {
      throw Error("target " + std::to_string(i % d.outputs) + " of sample " +
                  std::to_string(i / d.outputs) + " is outside [0, 1]");
    }
  }
}

}  // namespace backprop
