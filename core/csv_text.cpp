#include "csv_text.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace backprop::csv {

namespace {

// Error at the first byte a text CSV cannot hold.
void reject_binary(const std::string& path, std::string_view text) {
  std::size_t line = 1;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      ++line;
    } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      fail_at(path, line, std::string("binary data (byte ") + hex + "): not a text CSV file");
    }
  }
}

}  // namespace

std::string read_text_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error("cannot read " + what + " '" + path + "': it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + what + " '" + path + "': " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error("cannot read " + what + " '" + path + "'");
  std::string text = buffer.str();
  if (text.empty()) throw Error(path + ": the file is empty");
  reject_binary(path, text);
  return text;
}

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

namespace {

// Whether a well-formed decimal number that a double cannot hold is too
// large for it (or, if not, too small). The place of its first significant
// digit plus its written exponent says which, without the locale that
// strtod would read the decimal point with.
bool beyond_the_largest_double(std::string_view number) {
  if (number.front() == '-') number.remove_prefix(1);
  const auto e = number.find_first_of("eE");
  long long exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view digits = number.substr(e + 1);
    const bool negative = digits.front() == '-';
    if (negative || digits.front() == '+') digits.remove_prefix(1);
    const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
    if (parsed.ec == std::errc::result_out_of_range) return !negative;  // past 10^18 the exponent alone decides
    if (negative) exponent = -exponent;
  }
  const std::string_view mantissa = number.substr(0, e);
  const auto point = mantissa.find('.');
  const std::string_view whole = mantissa.substr(0, point);
  const std::string_view fraction = point == std::string_view::npos ? std::string_view{} : mantissa.substr(point + 1);
  long long place = 0;  // of the first significant digit: 0 for 1.5, -3 for 0.0015
  if (const auto first = whole.find_first_not_of('0'); first != std::string_view::npos) {
    place = static_cast<long long>(whole.size() - first) - 1;
  } else {
    place = -static_cast<long long>(fraction.find_first_not_of('0')) - 1;
  }
  return place + exponent > 0;
}

}  // namespace

bool parse_number(std::string_view cell, double& value) {
  if (cell.empty()) return false;
  if (cell.front() == '+') cell.remove_prefix(1);  // from_chars rejects a leading '+'
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (end != cell.data() + cell.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves the value alone: overflow becomes infinity, for the
    // caller to refuse; underflow rounds to zero, as strtod rounds it.
    const double magnitude = beyond_the_largest_double(cell) ? std::numeric_limits<double>::infinity() : 0.0;
    value = cell.front() == '-' ? -magnitude : magnitude;
    return true;
  }
  return ec == std::errc();
}

}  // namespace backprop::csv
