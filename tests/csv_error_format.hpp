// What a CSV reading error must look like: the file's path first, then
// either ":LINE: what went wrong" or one of the two whole-file problems.
// Shared by the damaged-file test and the CSV fuzzer.
#pragma once

#include <cctype>
#include <string>

namespace backprop::testing {

inline bool names_file_and_line(const std::string& message, const std::string& path) {
  if (message.rfind(path, 0) != 0) return false;
  const std::string rest = message.substr(path.size());
  if (rest == ": no data rows" || rest == ": the file is empty") return true;
  std::size_t digits = 1;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  return rest.size() > 2 && rest[0] == ':' && digits > 1 && rest.compare(digits, 2, ": ") == 0;
}

}  // namespace backprop::testing
