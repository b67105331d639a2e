// usage_error.h — bad input from the user: a message naming the bad value and the valid choices.
// main() prints it on one line and exits with code 2.
#pragma once

#include <stdexcept>

namespace spindle {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace spindle
