// Everything a user of the library needs: #include "backprop/backprop.hpp".
#pragma once

#include "backprop/backend.hpp"
#include "backprop/dataset.hpp"
#include "backprop/error.hpp"
#include "backprop/network.hpp"
#include "backprop/train.hpp"
