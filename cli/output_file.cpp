#include "output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <streambuf>

#include "backprop/error.hpp"

namespace backprop::cli {
namespace {

// The temporaries not yet committed, where a signal handler can reach them:
// fixed slots of fixed size, since a handler may not allocate or lock.
constexpr int kSlots = 16;
constexpr std::size_t kPathBytes = 4096;
struct PendingSlot {
  std::atomic<bool> used{false};
  char path[kPathBytes];
};
PendingSlot pending[kSlots];

int claim_slot(const std::string& path) {
  if (path.size() >= kPathBytes) return -1;
  for (int i = 0; i < kSlots; ++i) {
    if (pending[i].used.load()) continue;
    std::memcpy(pending[i].path, path.c_str(), path.size() + 1);
    pending[i].used.store(true);
    return i;
  }
  return -1;  // more outputs than slots: that one is only removed by its destructor
}

void release_slot(int slot) {
  if (slot >= 0) pending[slot].used.store(false);
}

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Writes to a file descriptor through a buffer, keeping the first error.
class FileBuffer : public std::streambuf {
 public:
  explicit FileBuffer(int fd) : fd_(fd) { setp(buffer_, buffer_ + sizeof buffer_); }

  int error() const { return error_; }

  // Writes out what is buffered; false (and error() set) on failure.
  bool drain() {
    const char* data = pbase();
    std::size_t left = static_cast<std::size_t>(pptr() - pbase());
    while (left > 0 && error_ == 0) {
      const ssize_t wrote = ::write(fd_, data, left);
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote < 0) {
        error_ = errno;
        break;
      }
      data += wrote;
      left -= static_cast<std::size_t>(wrote);
    }
    setp(buffer_, buffer_ + sizeof buffer_);
    return error_ == 0;
  }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  int fd_;
  int error_ = 0;
  char buffer_[1 << 16];
};

// The mode a new file gets: 0666 less the process's umask.
mode_t new_file_mode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace

struct OutputFile::State {
  std::string target;     // the file the rename replaces: the path, its links followed
  std::string temporary;  // empty when writing straight to a device
  int fd = -1;
  int slot = -1;
  FileBuffer buffer;
  std::ostream stream;

  State(std::string file, std::string temp, int descriptor)
      : target(std::move(file)),
        temporary(std::move(temp)),
        fd(descriptor),
        slot(temporary.empty() ? -1 : claim_slot(temporary)),
        buffer(descriptor),
        stream(&buffer) {}
  ~State() {
    if (fd >= 0) ::close(fd);
    if (!temporary.empty()) ::unlink(temporary.c_str());
    release_slot(slot);
  }
};

OutputFile::OutputFile(std::string path, std::string what) : path_(std::move(path)), what_(std::move(what)) {
  auto fail = [&](const std::string& reason) {
    throw Error(ErrorKind::io, "cannot write " + what_ + " '" + path_ + "': " + reason);
  };
  struct stat info {};
  std::string target = path_;
  if (::stat(path_.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) fail("it is a directory");
    if (!S_ISREG(info.st_mode)) {
      // A device or FIFO (/dev/stdout, /dev/null) is written as it is: it
      // has no old contents to keep, and renaming over it would replace it.
      const int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) fail(std::strerror(errno));
      state_ = std::make_unique<State>(path_, std::string(), fd);
      return;
    }
    // Through a symbolic link to the file it names, which stays a link.
    if (char* resolved = ::realpath(path_.c_str(), nullptr)) {
      target = resolved;
      std::free(resolved);
    }
  }
  std::string temporary = folder_of(target) + "/." + name_of(target) + ".tmp.XXXXXX";
  const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) fail("cannot create a file in its folder '" + folder_of(target) + "': " + std::strerror(errno));
  state_ = std::make_unique<State>(std::move(target), std::move(temporary), fd);
}

OutputFile::OutputFile(OutputFile&&) noexcept = default;
OutputFile& OutputFile::operator=(OutputFile&&) noexcept = default;
OutputFile::~OutputFile() = default;

std::ostream& OutputFile::stream() { return state_->stream; }

void OutputFile::commit() {
  State& s = *state_;
  auto fail = [&](const char* step, int error) {
    throw Error(ErrorKind::io, "writing " + what_ + " '" + path_ + "' failed (" + step + "): " + std::strerror(error));
  };
  if (!s.buffer.drain()) fail("write", s.buffer.error());
  if (s.temporary.empty()) {  // a device: written in place
    const int fd = s.fd;
    s.fd = -1;
    if (::close(fd) != 0) fail("close", errno);
    state_.reset();
    return;
  }
  // The target's own mode if it exists, as if it had been written in place.
  struct stat target {};
  const mode_t mode = ::stat(s.target.c_str(), &target) == 0 ? (target.st_mode & 07777) : new_file_mode();
  if (::fchmod(s.fd, mode) != 0) fail("chmod", errno);
  if (::fsync(s.fd) != 0) fail("fsync", errno);
  const int fd = s.fd;
  s.fd = -1;
  if (::close(fd) != 0) fail("close", errno);
  if (::rename(s.temporary.c_str(), s.target.c_str()) != 0) fail("rename", errno);
  s.temporary.clear();  // nothing left to remove
  // The rename lasts through a power loss once the folder is synced too.
  const int folder = ::open(folder_of(s.target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder >= 0) {
    ::fsync(folder);
    ::close(folder);
  }
  state_.reset();
}

void remove_uncommitted_outputs() noexcept {
  for (PendingSlot& slot : pending) {
    if (slot.used.load()) ::unlink(slot.path);
  }
}

}  // namespace backprop::cli
