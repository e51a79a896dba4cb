#include "csv_text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>

#include "host_memory.hpp"

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

const char* file_type(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

// Closes the descriptor however the read ends.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd > 2) ::close(fd);
  }
};

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

std::string read_text_file(const std::string& path, const std::string& what) {
  const bool standard_input = path == "-";
  const std::string named = what + " '" + (standard_input ? std::string("standard input") : path) + "'";
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer, forever.
  const FileDescriptor file{standard_input ? 0 : ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (file.fd < 0) throw Error(ErrorKind::io, "cannot open " + named + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) throw Error(ErrorKind::io, "cannot read " + named + ": " + std::strerror(errno));
  std::size_t expected = 0;
  if (!standard_input) {
    if (S_ISDIR(info.st_mode)) throw Error(ErrorKind::io, "cannot read " + named + ": it is a directory");
    if (!S_ISREG(info.st_mode)) {
      throw Error(ErrorKind::io, named + " is not a regular file (it is " + file_type(info.st_mode) + ")");
    }
    ::fcntl(file.fd, F_SETFL, ::fcntl(file.fd, F_GETFL) & ~O_NONBLOCK);
    expected = static_cast<std::size_t>(info.st_size);
    // The text, and the values parsed from it, which take at most as many
    // bytes again as a float a value of two characters ("1,") does.
    require_host_memory(3.0 * static_cast<double>(expected), "reading " + named);
  }
  // A standard input, or a file that grows while it is read, is read to its
  // end, checked against the memory left at every doubling.
  std::string text(expected + 1, '\0');
  std::size_t size = 0;
  for (;;) {
    if (size == text.size()) {
      require_host_memory(6.0 * static_cast<double>(text.size()), "reading " + named);
      text.resize(2 * text.size());
    }
    const ssize_t got = ::read(file.fd, text.data() + size, text.size() - size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(ErrorKind::io, "cannot read " + named + ": " + std::strerror(errno));
    if (got == 0) break;
    size += static_cast<std::size_t>(got);
  }
  text.resize(size);
  if (text.compare(0, kByteOrderMark.size(), kByteOrderMark) == 0) text.erase(0, kByteOrderMark.size());
  const std::string& shown = standard_input ? std::string("standard input") : path;
  if (text.empty()) throw Error(ErrorKind::data, shown + ": the file is empty");
  reject_binary(shown, text);
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

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Whether `s` (its sign already taken off) is a decimal number of the
// grammar in csv_text.hpp.
bool is_decimal(std::string_view s) {
  std::size_t i = 0, whole = 0, fraction = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++whole;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++fraction;
  }
  if (whole + fraction == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exponent = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == s.size();
}

bool is_word(std::string_view s, std::string_view word) {
  if (s.size() != word.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((s[i] | 0x20) != word[i]) return false;  // ASCII letters in any case
  }
  return true;
}

}  // namespace

bool parse_number(std::string_view cell, double& value) {
  std::string_view unsigned_part = cell;
  const bool negative = !cell.empty() && cell.front() == '-';
  if (!cell.empty() && (cell.front() == '+' || cell.front() == '-')) unsigned_part.remove_prefix(1);
  if (is_word(unsigned_part, "inf") || is_word(unsigned_part, "infinity")) {
    value = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (is_word(unsigned_part, "nan")) {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!is_decimal(unsigned_part)) return false;
  // from_chars takes a leading '-' but not '+'.
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (end != cell.data() + cell.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves the value alone: overflow becomes infinity, for the
    // caller to refuse; underflow rounds to zero, as strtod rounds it.
    const double magnitude = beyond_the_largest_double(cell) ? std::numeric_limits<double>::infinity() : 0.0;
    value = negative ? -magnitude : magnitude;
    return true;
  }
  return ec == std::errc();
}

std::string quote(std::string_view cell) {
  constexpr std::size_t kShown = 40;
  std::string text = "'";
  std::size_t i = 0;
  for (; i < cell.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(cell[i]);
    if (cell.substr(i, kByteOrderMark.size()) == kByteOrderMark) {
      text += "\\uFEFF";
      i += kByteOrderMark.size() - 1;
    } else if (c == '\r') {
      text += "\\r";
    } else if (c == '\t') {
      text += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      text += hex;
    } else {
      text += cell[i];
    }
  }
  if (i < cell.size()) {
    // Not inside a character of several bytes (UTF-8 continuation bytes are 10xxxxxx).
    while (text.size() > 1 && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
    if (text.size() > 1 && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
    text += "...' (" + std::to_string(cell.size()) + " bytes)";
  } else {
    text += "'";
  }
  return text;
}

}  // namespace backprop::csv
