// An LD_PRELOAD library for the tests: read() of the file named by
// BACKPROP_TEST_EIO_PATH fails with EIO once BACKPROP_TEST_EIO_AFTER bytes
// of it have been read, as a disk with a bad sector would. Every other
// read goes to the C library's.
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" ssize_t read(int fd, void* buffer, size_t count) {
  using Read = ssize_t (*)(int, void*, size_t);
  static const Read real_read = reinterpret_cast<Read>(dlsym(RTLD_NEXT, "read"));
  const char* target = std::getenv("BACKPROP_TEST_EIO_PATH");
  if (target != nullptr) {
    char link[64], path[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t length = readlink(link, path, sizeof path - 1);
    if (length > 0) {
      path[length] = '\0';
      if (std::strcmp(path, target) == 0) {
        const off_t at = lseek(fd, 0, SEEK_CUR);
        const char* after_text = std::getenv("BACKPROP_TEST_EIO_AFTER");
        const off_t after = after_text != nullptr ? std::atol(after_text) : 0;
        if (at >= after) {
          errno = EIO;
          return -1;
        }
        if (at + static_cast<off_t>(count) > after) count = static_cast<size_t>(after - at);
      }
    }
  }
  return real_read(fd, buffer, count);
}
