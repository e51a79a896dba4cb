// Running the `backprop` command line from a test, as a user would: its
// exit status, standard output and standard error.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "temp_file.hpp"

namespace backprop::testing {

struct Outcome {
  int status = -1;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `environment` is prefixed to the command: "NAME=value ...".
inline Outcome run_cli(const std::string& args, const std::string& environment = "") {
  TempFile out("", ".out"), err("", ".err");
  const std::string command = environment + " " + std::string(BACKPROP_CLI_COMMAND) + " " + args + " >" +
                              out.path() + " 2>" + err.path() + " </dev/null";
  const int raw = std::system(command.c_str());
  Outcome o;
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  o.out = slurp(out.path());
  o.err = slurp(err.path());
  return o;
}

// The loss cells of a --loss-csv file from epoch `first` on, as written.
inline std::vector<std::string> loss_cells(const std::string& path, std::size_t first = 0) {
  std::istringstream lines(slurp(path));
  std::string line;
  std::vector<std::string> cells;
  std::getline(lines, line);  // header
  for (std::size_t e = 0; std::getline(lines, line); ++e) {
    if (e >= first) cells.push_back(line.substr(line.find(',') + 1));
  }
  return cells;
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace backprop::testing
