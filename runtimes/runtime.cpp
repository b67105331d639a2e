// runtime.cpp — the definitions behind runtime.h that every adapter shares.
#include "runtimes/runtime.h"

#include <unistd.h>

namespace spindle {

int default_workers() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace spindle
