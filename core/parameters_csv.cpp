// Parameters as CSV, one value a line: "W1,<row>,<column>,<value>". The long
// form names every value, so a file can be read in any order and checked
// value by value: a malformed or repeated one is named with its line, a
// missing one by its place. A checkpoint adds the optimizer's state in the
// same form: "step" and "epoch" (row 0, column 0) and the state arrays as
// torch.optim names them, each shaped like the parameters
// ("exp_avg.W1,<row>,<column>,<value>").
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
// The state arrays: entry array 4 + 4 s + part is part `part` of state s.
constexpr std::array<std::string_view, 4> kStateNames = {"momentum_buffer", "square_avg", "exp_avg", "exp_avg_sq"};
constexpr int kFirstState = 4;
constexpr int kStep = kFirstState + 16, kEpoch = kStep + 1, kShuffleSeed = kStep + 2;
// A count read as a double stays exact up to 2^53.
constexpr double kMaxCount = 9007199254740992.0;

// The state arrays `kind` keeps, as indices into kStateNames.
std::vector<int> state_arrays_of(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::momentum: return {0};
    case OptimizerKind::rmsprop: return {1};
    case OptimizerKind::adam:
    case OptimizerKind::adamw: return {2, 3};
    default: return {};
  }
}

int part_of(int array) { return array < kFirstState ? array : (array - kFirstState) % 4; }

// A width fits an int (validate(Shape)), so an index is below the largest.
constexpr std::size_t kMaxIndex = std::numeric_limits<int>::max() - 1;

// Each array's rows and columns: W1 (inputs, hidden), b1 (1, hidden),
// W2 (hidden, outputs), b2 (1, outputs).
std::size_t rows(int array, const Shape& s) {
  const int part = part_of(array);
  return array >= kStep ? 1 : part == kW1 ? s.inputs : part == kW2 ? s.hidden : 1;
}
std::size_t columns(int array, const Shape& s) {
  const int part = part_of(array);
  return array >= kStep ? 1 : part == kW1 || part == kB1 ? s.hidden : s.outputs;
}

struct Entry {
  int array;
  std::size_t row, column;
  double value;
  std::size_t line;
};

class ParametersReader {
 public:
  explicit ParametersReader(std::string path) : path_(std::move(path)) {}

  Parameters parse(std::string_view text, OptimizerState* state) {
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
    for (const Entry& e : entries_) {
      if (e.array < kFirstState) (*arrays[e.array])[e.row * columns(e.array, shape) + e.column] = e.value;
    }
    const OptimizerState s = state_of_entries(shape);
    if (state != nullptr) *state = s;
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
    Entry e{array_named(cells[0], line), index(cells[1], "row", line), index(cells[2], "column", line), 0.0, line};
    const int part = part_of(e.array);
    if ((e.array >= kStep || part == kB1 || part == kB2) && e.row != 0) {
      fail(line, std::string(cells[0]) + " has one row, row 0, not row " + std::to_string(e.row));
    }
    if (e.array >= kStep && e.column != 0) {
      fail(line, std::string(cells[0]) + " has one column, column 0, not column " + std::to_string(e.column));
    }
    if (!csv::parse_number(cells[3], e.value)) fail(line, "value " + quoted(cells[3]) + " is not a number");
    if (!std::isfinite(e.value)) fail(line, "value " + quoted(cells[3]) + " is not finite");
    // An epoch count past train()'s most epochs would have a restored
    // session draw that many batch orders again.
    const double most = e.array == kShuffleSeed ? 4294967295.0 : e.array == kEpoch ? 1e8 : kMaxCount;
    if (e.array >= kStep && (e.value < 0 || e.value > most || e.value != std::floor(e.value))) {
      fail(line, std::string(cells[0]) + " " + quoted(cells[3]) + " is not a whole number from 0 to " +
                     (e.array == kShuffleSeed ? "2^32 - 1" : e.array == kEpoch ? "10^8" : "2^53"));
    }
    return e;
  }

  // "W1" .. "b2", "step", "epoch", or "<state>.<part>" ("exp_avg.W1").
  int array_named(std::string_view name, std::size_t line) const {
    const auto parameter = std::find(kNames.begin(), kNames.end(), name);
    if (parameter != kNames.end()) return static_cast<int>(parameter - kNames.begin());
    if (name == "step") return kStep;
    if (name == "epoch") return kEpoch;
    if (name == "shuffle_seed") return kShuffleSeed;
    const std::size_t dot = name.find('.');
    if (dot != std::string_view::npos) {
      const auto s = std::find(kStateNames.begin(), kStateNames.end(), name.substr(0, dot));
      const auto part = std::find(kNames.begin(), kNames.end(), name.substr(dot + 1));
      if (s != kStateNames.end() && part != kNames.end()) {
        return kFirstState + 4 * static_cast<int>(s - kStateNames.begin()) + static_cast<int>(part - kNames.begin());
      }
    }
    fail(line, quoted(name) +
                   " is not a parameter (W1, b1, W2, b2) or a checkpoint's state (step, epoch, shuffle_seed, or momentum_buffer, "
                   "square_avg, exp_avg or exp_avg_sq, then '.' and a parameter)");
  }

  // The checkpoint's state: its step and epoch, and its arrays, which must
  // be those of one optimizer, each whole for `shape`.
  OptimizerState state_of_entries(const Shape& shape) const {
    OptimizerState s;
    std::array<std::size_t, 4> values_of_state{};
    std::size_t first_line_of_state[4] = {};
    for (const Entry& e : entries_) {
      if (e.array == kStep) s.steps = static_cast<std::uint64_t>(e.value);
      if (e.array == kEpoch) s.epochs = static_cast<std::uint64_t>(e.value);
      if (e.array == kShuffleSeed) s.shuffle_seed = static_cast<std::uint32_t>(e.value);
      if (e.array < kFirstState || e.array >= kStep) continue;
      if (e.row >= rows(e.array, shape) || e.column >= columns(e.array, shape)) {
        fail(e.line, where(e.array, e.row, e.column) + " is outside the " + to_string(shape) + " network");
      }
      const int state = (e.array - kFirstState) / 4;
      if (values_of_state[state]++ == 0) first_line_of_state[state] = e.line;
    }
    std::vector<int> present;
    for (int k = 0; k < 4; ++k) {
      if (values_of_state[k] != 0) present.push_back(k);
    }
    if (present.empty()) return s;
    for (const OptimizerKind kind : {OptimizerKind::momentum, OptimizerKind::rmsprop, OptimizerKind::adam}) {
      if (state_arrays_of(kind) == present) s.kind = kind;
    }
    if (s.kind == OptimizerKind::sgd) {
      fail(first_line_of_state[present.back()],
           "the state arrays are not one optimizer's: momentum_buffer, square_avg, or exp_avg with exp_avg_sq");
    }
    const std::size_t count = Parameters::zeros(shape).W1.size() + shape.hidden + shape.hidden * shape.outputs +
                              shape.outputs;
    s.values.assign(present.size() * count, 0.0);
    for (std::size_t k = 0; k < present.size(); ++k) {
      if (values_of_state[present[k]] != count) {
        throw Error(ErrorKind::data, path_ + ": " + std::string(kStateNames[present[k]]) + " has " +
                                         std::to_string(values_of_state[present[k]]) + " values; the " +
                                         to_string(shape) + " network has " + std::to_string(count));
      }
    }
    // Flat, in the parameter layout: W1, b1, W2, b2, state after state.
    const std::size_t offsets[4] = {0, shape.inputs * shape.hidden, shape.inputs * shape.hidden + shape.hidden,
                                    shape.inputs * shape.hidden + shape.hidden + shape.hidden * shape.outputs};
    for (const Entry& e : entries_) {
      if (e.array < kFirstState || e.array >= kStep) continue;
      const int state = (e.array - kFirstState) / 4, part = part_of(e.array);
      const std::size_t k = static_cast<std::size_t>(std::find(present.begin(), present.end(), state) - present.begin());
      s.values[k * count + offsets[part] + e.row * columns(e.array, shape) + e.column] = e.value;
    }
    return s;
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
      if (e.array >= kFirstState) continue;
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

  static std::string name_of(int array) {
    if (array == kStep) return "step";
    if (array == kEpoch) return "epoch";
    if (array == kShuffleSeed) return "shuffle_seed";
    if (array < kFirstState) return std::string(kNames[array]);
    return std::string(kStateNames[(array - kFirstState) / 4]) + "." + std::string(kNames[part_of(array)]);
  }

  static std::string where(int array, std::size_t row, std::size_t column) {
    return name_of(array) + " row " + std::to_string(row) + " column " + std::to_string(column);
  }

  std::string path_;
  std::vector<Entry> entries_;
};

}  // namespace

void Parameters::write_csv(std::ostream& out, const OptimizerState* state) const {
  out << kHeader << '\n';
  const std::array<const std::vector<double>*, 4> arrays = {&W1, &b1, &W2, &b2};
  char line[128];
  // 17 significant digits: enough for every double to read back as itself.
  auto write_part = [&](const std::string& name, int part, const double* values, std::size_t count) {
    const std::size_t width = columns(part, shape);
    for (std::size_t k = 0; k < count; ++k) {
      std::snprintf(line, sizeof line, "%s,%zu,%zu,%.17g\n", name.c_str(), k / width, k % width, values[k]);
      out << line;
    }
  };
  for (int a = kW1; a <= kB2; ++a) write_part(std::string(kNames[a]), a, arrays[a]->data(), arrays[a]->size());
  if (state == nullptr) return;
  std::snprintf(line, sizeof line, "step,0,0,%llu\nepoch,0,0,%llu\nshuffle_seed,0,0,%lu\n",
                static_cast<unsigned long long>(state->steps), static_cast<unsigned long long>(state->epochs),
                static_cast<unsigned long>(state->shuffle_seed));
  out << line;
  const double* values = state->values.data();
  if (state->values.empty()) return;
  for (const int s : state_arrays_of(state->kind)) {
    for (int a = kW1; a <= kB2; ++a) {
      write_part(std::string(kStateNames[s]) + "." + std::string(kNames[a]), a, values, arrays[a]->size());
      values += arrays[a]->size();
    }
  }
}

Parameters Parameters::from_csv(const std::string& path, OptimizerState* state) {
  const std::string text = csv::read_text_file(path, "parameter file");
  return ParametersReader(path).parse(text, state);
}

}  // namespace backprop
