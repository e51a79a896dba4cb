// device_math_values on the GPU (device_math_on_gpu.cu).
#pragma once

#include <vector>

#include "device_math_values.hpp"

namespace backprop::testing {

// kDeviceMathValues values per input, input after input.
std::vector<float> device_math_on_gpu(const std::vector<float>& inputs);

}  // namespace backprop::testing
