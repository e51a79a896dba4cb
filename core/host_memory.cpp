#include "host_memory.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "backprop/error.hpp"

namespace backprop {

std::size_t available_host_memory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::size_t kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemAvailable:") return kib * 1024;
    meminfo.ignore(256, '\n');
  }
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) : 0;
}

std::string format_bytes(double bytes) {
  char text[32];
  if (bytes >= 1024.0 * 1024 * 1024) {
    std::snprintf(text, sizeof text, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  } else {
    std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1024.0 * 1024));
  }
  return text;
}

void require_host_memory(double bytes, const std::string& what) {
  const double available = static_cast<double>(available_host_memory());
  if (available > 0 && bytes > 0.9 * available) {
    throw Error(ErrorKind::out_of_memory, what + " needs about " + format_bytes(bytes) + "; this machine has " +
                                              format_bytes(available) + " available");
  }
}

}  // namespace backprop
