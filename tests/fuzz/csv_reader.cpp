// libFuzzer target for the CSV readers (scripts/fuzz-csv.sh builds and runs
// it): whatever the bytes, Dataset::from_csv either returns a data set that
// validate() accepts, or throws backprop::Error naming the file and line
// as the tests expect (csv_error_format.hpp); Parameters::from_csv, reading
// the same file, returns parameters that validate() accepts or throws
// backprop::Error naming the file. A crash, a sanitizer report, a hang or
// any other exception is a finding.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "backprop/dataset.hpp"
#include "backprop/error.hpp"
#include "backprop/network.hpp"
#include "csv_error_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* bytes, std::size_t size) {
  // The reader takes a path: each input goes through one file, in memory
  // where /dev/shm exists.
  static const std::string path = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                                  "/backprop-fuzz-" + std::to_string(getpid()) + ".csv";
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) __builtin_trap();
  if (size != 0 && std::fwrite(bytes, 1, size, file) != size) __builtin_trap();
  std::fclose(file);
  try {
    const backprop::Dataset data = backprop::Dataset::from_csv(path);
    backprop::validate(data);  // what it loaded must be a usable data set
  } catch (const backprop::Error& e) {
    if (!backprop::testing::names_file_and_line(e.what(), path)) __builtin_trap();
  }
  try {
    backprop::validate(backprop::Parameters::from_csv(path));
  } catch (const backprop::Error& e) {
    if (std::string(e.what()).rfind(path + ":", 0) != 0) __builtin_trap();
  }
  return 0;
}
