// cpu_work.h — CPU work the compiler cannot fold away, shared by blocking-syscall and hog-latency: `n` steps of
// a 64-bit LCG (Knuth's MMIX constants), and the same LCG jumped ahead n steps in O(log n), which lets a
// workload check a spinner's final value without spinning again.
#pragma once

#include <cstdint>

namespace spindle {

inline constexpr std::uint64_t kLcgA = 6364136223846793005ULL, kLcgC = 1442695040888963407ULL;

// lcg_steps: x -> a*x + c (mod 2^64), `n` times, one step at a time (the work).
inline std::uint64_t lcg_steps(std::uint64_t x, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) x = x * kLcgA + kLcgC;
  return x;
}

// lcg_jump: the same result as lcg_steps(x, n), by composing the affine map with itself (square and multiply).
inline std::uint64_t lcg_jump(std::uint64_t x, std::uint64_t n) {
  std::uint64_t a = kLcgA, c = kLcgC, acc_a = 1, acc_c = 0;  // applied so far: x -> acc_a*x + acc_c
  while (n > 0) {
    if (n & 1) {
      acc_a *= a;
      acc_c = acc_c * a + c;
    }
    c = (a + 1) * c;  // the map squared: x -> a^2 x + (a+1) c
    a *= a;
    n >>= 1;
  }
  return acc_a * x + acc_c;
}

}  // namespace spindle
