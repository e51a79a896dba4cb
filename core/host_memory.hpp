// How much host memory a run may still take, for the checks that refuse a
// run up front rather than let the kernel kill it part-way.
#pragma once

#include <cstddef>
#include <string>

namespace backprop {

// The memory the system says it can give without swapping (MemAvailable in
// /proc/meminfo; the free physical pages where that cannot be read).
std::size_t available_host_memory();

// "1.5 GiB", "12.0 MiB": a byte count for messages.
std::string format_bytes(double bytes);

// Throws Error(out_of_memory) "<what> needs about N GiB; this machine has
// M GiB available" when `bytes` would take more than 90% of what is
// available.
void require_host_memory(double bytes, const std::string& what);

}  // namespace backprop
