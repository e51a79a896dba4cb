# Copies a .cu file to a C++ file the host compiler accepts: each kernel
# launch `name<<<grid, block, shared, stream>>>(args);` becomes
#   ::cuda_on_host::launch(grid, block, shared, stream,
#       [=, launch_args = std::make_tuple(args)] { std::apply(<call name>, launch_args); });
# where name may carry template arguments (`kernel<T, 2, 4>`). The arguments
# are evaluated at the launch, as CUDA evaluates them, not when the emulation
# runs the kernel (later, for a launch recorded into a graph).
# Every launch must be rewritten, or the build fails.
#   cmake -DIN=file.cu -DOUT=file.cpp -P rewrite_launches.cmake
file(READ "${IN}" text)
string(REGEX MATCHALL "<<<" launches "${text}")
list(LENGTH launches launch_count)
string(REGEX REPLACE "([A-Za-z_][A-Za-z_0-9]*(<[^<>;]*>)?)<<<([^>]*)>>>\\(([^;]*)\\);"
  "::cuda_on_host::launch(\\3, [=, launch_args = std::make_tuple(\\4)] { std::apply([&](const auto&... a) { \\1(a...); }, launch_args); });"
  text "${text}")
string(REGEX MATCHALL "::cuda_on_host::launch\\(" rewritten "${text}")
list(LENGTH rewritten rewritten_count)
if(NOT launch_count EQUAL rewritten_count)
  message(FATAL_ERROR "${IN}: ${launch_count} kernel launches, ${rewritten_count} rewritten")
endif()
file(WRITE "${OUT}" "// Generated from ${IN} by rewrite_launches.cmake; edit that file.\n#line 1 \"${IN}\"\n${text}")
