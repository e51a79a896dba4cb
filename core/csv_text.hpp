// What the two CSV readers share (data sets in dataset.cpp, parameters in
// parameters_csv.cpp): reading a file whole, refusing what is not a text
// file, walking its lines, and splitting, parsing and quoting cells. Every
// error names the file and, past opening it, the line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "backprop/error.hpp"

namespace backprop::csv {

// The file's text, without a leading UTF-8 byte order mark; "-" reads the
// standard input. `what` names the file in errors ("data file"):
//   io    "cannot open <what> '<path>': <the system's reason>", and the same
//         with "cannot read" for a failed read anywhere in the file;
//   io    "<what> '<path>' is not a regular file (it is a FIFO)": devices,
//         FIFOs and sockets are refused before anything is read;
//   out_of_memory  a file larger than the memory this machine has free;
//   data  "<path>: the file is empty", or, at the first byte a text CSV
//         cannot hold (printable characters, tabs and line ends only),
//         "<path>:<line>: binary data ...".
std::string read_text_file(const std::string& path, const std::string& what);

[[noreturn]] inline void fail_at(const std::string& path, std::size_t line, const std::string& message) {
  throw Error(ErrorKind::data, path + ":" + std::to_string(line) + ": " + message);
}

std::string_view trim(std::string_view s);  // spaces and tabs off both ends

// The cells of one line, trimmed: "a, b" gives {"a", "b"}.
std::vector<std::string_view> split_cells(std::string_view line);

// Parses the whole cell as a number; false when it is not one. The grammar,
// the same for every number the library and the command line read:
//   [+-]? ( digits [. digits?] | . digits ) ( [eE] [+-]? digits )?
// in decimal, or [+-]? inf, infinity or nan in any case (which the readers
// then refuse by name). No hexadecimal, no spaces inside, nothing after.
// A number too large for a double comes back as infinity, one too small as
// zero.
bool parse_number(std::string_view cell, double& value);

// The cell as a message quotes it: in single quotes, cut to its first 40
// characters ("'aaaa...' (1000000 bytes)"), with control characters
// and a byte order mark written as escapes (\r, \t, \x01, \uFEFF), so that
// no part of the file can hide in or garble a message.
std::string quote(std::string_view cell);

// Calls on_line(number, line) for each line that is not blank, numbered from
// 1 and without its line end ("\n" or "\r\n").
template <class OnLine>
void for_each_line(std::string_view text, OnLine&& on_line) {
  std::size_t number = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!trim(line).empty()) on_line(number, line);
  }
}

}  // namespace backprop::csv
