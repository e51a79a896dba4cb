// An output file that is written whole or not at all.
//
// It is written to a temporary file in the target's folder, created when
// the OutputFile is (so a folder that cannot take the file fails before any
// work), and commit() flushes it to the disk and renames it over the
// target. Until then the target is untouched: a failure, an exception or a
// signal leaves the old file as it was, and the temporary is removed (by
// the destructor, or, after a fatal signal, by remove_uncommitted_outputs).
#pragma once

#include <memory>
#include <ostream>
#include <string>

namespace backprop::cli {

class OutputFile {
 public:
  OutputFile() = default;  // none: is_open() is false
  // `what` names the file in errors: "cannot write loss file 'out.csv': ...".
  // Throws Error(io) when the temporary cannot be created.
  OutputFile(std::string path, std::string what);
  OutputFile(OutputFile&&) noexcept;
  OutputFile& operator=(OutputFile&&) noexcept;
  ~OutputFile();

  bool is_open() const { return state_ != nullptr; }
  const std::string& path() const { return path_; }
  const std::string& what() const { return what_; }

  // Where to write; requires is_open().
  std::ostream& stream();

  // Flushes and syncs the temporary, renames it over the target and syncs
  // the folder: afterwards the target holds what was written, whole, also
  // after a power loss. Throws Error(io) with the system's reason (a full
  // disk: "No space left on device"), the target left as it was. The file
  // is then closed; open another OutputFile to write a new version.
  void commit();

 private:
  struct State;
  std::string path_, what_;
  std::unique_ptr<State> state_;
};

// Removes every temporary not yet committed; async-signal-safe, for a
// signal handler that is about to end the process.
void remove_uncommitted_outputs() noexcept;

}  // namespace backprop::cli
