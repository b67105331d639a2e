// test_scale.h — kTestScale, how much the fiber tests shrink their sizes under a sanitizer (ASan and
// TSan run this code 5-20x slower), so each suite stays within its time budget.
#pragma once

#include <cstddef>

namespace spindle::fiber::testing {
#if defined(SPINDLE_TSAN)
inline constexpr std::size_t kTestScale = 20;
#elif defined(SPINDLE_ASAN)
inline constexpr std::size_t kTestScale = 5;
#else
inline constexpr std::size_t kTestScale = 1;
#endif
constexpr std::size_t scaled(std::size_t n) { return n / kTestScale > 0 ? n / kTestScale : 1; }
// kMaxLiveFibers: TSan counts every fiber (one per started stack) against its 8,128-thread limit.
#if defined(SPINDLE_TSAN)
inline constexpr std::size_t kMaxLiveFibers = 4000;
#else
inline constexpr std::size_t kMaxLiveFibers = ~std::size_t{0};
#endif
constexpr std::size_t live_fibers(std::size_t n) { return scaled(n) < kMaxLiveFibers ? scaled(n) : kMaxLiveFibers; }
}  // namespace spindle::fiber::testing
