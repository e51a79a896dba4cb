// Compiled once per CPU instruction-set build, with that build's flags
// (tests/CMakeLists.txt): vector_math.hpp's functions on Packs of the
// build's widest vectors, as the narrow kernel calls them. Their clamps,
// powers of two and fused multiply-adds take different instructions on
// each build; test_cpu_kernels.cpp checks that the bits do not differ from
// the scalar forms'.
#include "vector_math_on_isa.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace backprop::cpu::BACKPROP_CPU_ISA {
namespace {
#include "vector_math.hpp"
#include "vector_pack.hpp"
}  // namespace

// z and y hold a whole number of Packs (2 * kWidth floats).
testing::VectorMathLanes vector_math_on_lanes(const std::vector<float>& z, const std::vector<float>& y) {
  using Two = Pack<Floats, 2>;
  testing::VectorMathLanes out;
  for (auto* lanes : {&out.exp, &out.exp2, &out.sigmoid, &out.sigmoid_of_base2, &out.probability, &out.loss}) {
    lanes->resize(z.size());
  }
  for (std::size_t at = 0; at + sizeof(Two) / sizeof(float) <= z.size(); at += sizeof(Two) / sizeof(float)) {
    Two zs, ys, p;
    std::memcpy(&zs, z.data() + at, sizeof zs);
    std::memcpy(&ys, y.data() + at, sizeof ys);
    const Two e = exp_polynomial(zs), e2 = exp2_polynomial(zs), s = sigmoid(zs), s2 = sigmoid_of_base2(zs);
    const Two loss = sigmoid_and_bce(zs, ys, p);
    std::memcpy(out.exp.data() + at, &e, sizeof e);
    std::memcpy(out.exp2.data() + at, &e2, sizeof e2);
    std::memcpy(out.sigmoid.data() + at, &s, sizeof s);
    std::memcpy(out.sigmoid_of_base2.data() + at, &s2, sizeof s2);
    std::memcpy(out.probability.data() + at, &p, sizeof p);
    std::memcpy(out.loss.data() + at, &loss, sizeof loss);
  }
  return out;
}

}  // namespace backprop::cpu::BACKPROP_CPU_ISA
