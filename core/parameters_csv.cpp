// Parameters as CSV, one value a line: "W1,<row>,<column>,<value>". The long
// form names every value, so a file can be read in any order and checked
// value by value: a malformed or repeated one is named with its line, a
// missing one by its place.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/network.hpp"
#include "csv_text.hpp"

namespace backprop {
namespace {

constexpr std::string_view kHeader = "parameter,row,column,value";
constexpr std::array<std::string_view, 4> kNames = {"W1", "b1", "W2", "b2"};
enum Array { kW1, kB1, kW2, kB2 };

// A width fits an int (validate(Shape)), so an index is below the largest.
constexpr std::size_t kMaxIndex = std::numeric_limits<int>::max() - 1;

// Each array's rows and columns: W1 (inputs, hidden), b1 (1, hidden),
// W2 (hidden, outputs), b2 (1, outputs).
std::size_t rows(int array, const Shape& s) { return array == kW1 ? s.inputs : array == kW2 ? s.hidden : 1; }
std::size_t columns(int array, const Shape& s) { return array == kW1 || array == kB1 ? s.hidden : s.outputs; }

struct Entry {
  int array;
  std::size_t row, column;
  double value;
  std::size_t line;
};

class ParametersReader {
 public:
  explicit ParametersReader(std::string path) : path_(std::move(path)) {}

  Parameters parse(std::string_view text) {
    bool header_seen = false;
    csv::for_each_line(text, [&](std::size_t line, std::string_view content) {
      if (!header_seen) {
        if (csv::trim(content) != kHeader) {
          fail(line, "expected the header '" + std::string(kHeader) + "' of a parameter file");
        }
        header_seen = true;
        return;
      }
      entries_.push_back(entry(line, content));
    });
    if (entries_.empty()) throw Error(ErrorKind::data, path_ + ": no parameter values");
    check_no_value_twice();
    const Shape shape = shape_of_entries();
    if (shape.inputs == 0) throw Error(ErrorKind::data, path_ + ": no W1 values");
    if (shape.outputs == 0) throw Error(ErrorKind::data, path_ + ": no W2 or b2 values");
    check_no_value_missing(shape);

    Parameters p = Parameters::zeros(shape);
    std::array<std::vector<double>*, 4> arrays = {&p.W1, &p.b1, &p.W2, &p.b2};
    for (const Entry& e : entries_) (*arrays[e.array])[e.row * columns(e.array, shape) + e.column] = e.value;
    return p;
  }

 private:
  [[noreturn]] void fail(std::size_t line, const std::string& message) const { csv::fail_at(path_, line, message); }

  static std::string quoted(std::string_view cell) { return csv::quote(cell); }

  Entry entry(std::size_t line, std::string_view content) const {
    const auto cells = csv::split_cells(content);
    if (cells.size() != 4) {
      fail(line, "expected 4 columns (parameter, row, column, value), found " + std::to_string(cells.size()));
    }
    const auto name = std::find(kNames.begin(), kNames.end(), cells[0]);
    if (name == kNames.end()) fail(line, quoted(cells[0]) + " is not a parameter: W1, b1, W2 or b2");
    Entry e{static_cast<int>(name - kNames.begin()), index(cells[1], "row", line), index(cells[2], "column", line),
            0.0, line};
    if ((e.array == kB1 || e.array == kB2) && e.row != 0) {
      fail(line, std::string(cells[0]) + " has one row, row 0, not row " + std::to_string(e.row));
    }
    if (!csv::parse_number(cells[3], e.value)) fail(line, "value " + quoted(cells[3]) + " is not a number");
    if (!std::isfinite(e.value)) fail(line, "value " + quoted(cells[3]) + " is not finite");
    return e;
  }

  std::size_t index(std::string_view cell, const char* what, std::size_t line) const {
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
    if (cell.empty() || ec == std::errc::invalid_argument || end != cell.data() + cell.size()) {
      fail(line, std::string(what) + " " + quoted(cell) + " is not a non-negative whole number");
    }
    if (ec == std::errc::result_out_of_range || value > kMaxIndex) {
      fail(line, std::string(what) + " " + quoted(cell) + " is past the largest width, 2^31 - 1");
    }
    return value;
  }

  // The widths the indices reach, by the layout rows() and columns() give.
  Shape shape_of_entries() const {
    Shape s{0, 0, 0};
    for (const Entry& e : entries_) {
      if (e.array == kW1) s.inputs = std::max(s.inputs, e.row + 1);
      if (e.array == kW1 || e.array == kB1) s.hidden = std::max(s.hidden, e.column + 1);
      if (e.array == kW2) s.hidden = std::max(s.hidden, e.row + 1);
      if (e.array == kW2 || e.array == kB2) s.outputs = std::max(s.outputs, e.column + 1);
    }
    return s;
  }

  // Sorts the values by parameter, row and column, and fails at the second
  // line that gives one value, naming the first.
  void check_no_value_twice() {
    std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.array, a.row, a.column) < std::tie(b.array, b.row, b.column);
    });
    for (std::size_t k = 1; k < entries_.size(); ++k) {
      const Entry &a = entries_[k - 1], &b = entries_[k];
      if (a.array == b.array && a.row == b.row && a.column == b.column) {
        fail(b.line, where(b.array, b.row, b.column) + " is given twice, first on line " + std::to_string(a.line));
      }
    }
  }

  // The sorted values, each once, against every value of the shape: the
  // first gap is named. Checked before the parameters are allocated, and
  // stopping at the first gap, so a huge width that one stray index claims
  // costs nothing.
  void check_no_value_missing(const Shape& shape) const {
    std::size_t k = 0;
    for (int array = kW1; array <= kB2; ++array) {
      for (std::size_t r = 0; r < rows(array, shape); ++r) {
        for (std::size_t c = 0; c < columns(array, shape); ++c, ++k) {
          const bool present = k < entries_.size() && entries_[k].array == array && entries_[k].row == r &&
                               entries_[k].column == c;
          if (!present) {
            throw Error(ErrorKind::data, path_ + ": " + where(array, r, c) + " is missing (the values give a " + to_string(shape) +
                        " network)");
          }
        }
      }
    }
  }

  static std::string where(int array, std::size_t row, std::size_t column) {
    return std::string(kNames[array]) + " row " + std::to_string(row) + " column " + std::to_string(column);
  }

  std::string path_;
  std::vector<Entry> entries_;
};

}  // namespace

void Parameters::write_csv(std::ostream& out) const {
  out << kHeader << '\n';
  const std::array<const std::vector<double>*, 4> arrays = {&W1, &b1, &W2, &b2};
  char line[96];
  for (int a = kW1; a <= kB2; ++a) {
    const std::vector<double>& values = *arrays[a];
    const std::size_t width = columns(a, shape);
    for (std::size_t k = 0; k < values.size(); ++k) {
      // 17 significant digits: enough for every double to read back as itself.
      std::snprintf(line, sizeof line, "%s,%zu,%zu,%.17g\n", kNames[a].data(), k / width, k % width, values[k]);
      out << line;
    }
  }
}

Parameters Parameters::from_csv(const std::string& path) {
  const std::string text = csv::read_text_file(path, "parameter file");
  return ParametersReader(path).parse(text);
}

}  // namespace backprop
