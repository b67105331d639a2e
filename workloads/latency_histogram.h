// latency_histogram.h — LatencyHistogram, the log-bucketed latency histogram the network workloads record
// into (the same scheme as runtimes/go/histogram.go, so figures compare like with like). Values are ns as
// uint64; relative precision 1/64 (1.6 %: 64 sub-buckets per power of two, HdrHistogram-style). Bucket of
// v: v itself for v < 128; otherwise, with msb the index of v's highest set bit (>= 7) and shift = msb - 6,
// 64*shift + (v >> shift). A bucket reports its highest equivalent value: v for v < 128, else
// (((v >> shift) + 1) << shift) - 1. Percentile p: the reported value of the first bucket whose cumulative
// count reaches ceil(per_mille/1000 * total) (exact integer arithmetic), capped at the maximum; max is exact. Recording is one relaxed atomic add, so every client
// records into one shared histogram (the merge of per-client histograms, without their memory).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>

namespace spindle {

class LatencyHistogram {
 public:
  static constexpr int kBuckets = 64 * 57 + 128;  // the bucket of 2^64-1 is 64*57 + 127

  static int bucket(std::uint64_t v) noexcept {
    if (v < 128) return static_cast<int>(v);
    const int shift = 64 - std::countl_zero(v) - 7;  // msb - 6
    return 64 * shift + static_cast<int>(v >> shift);
  }
  static std::uint64_t bucket_value(int i) noexcept {
    if (i < 128) return static_cast<std::uint64_t>(i);
    const int shift = i / 64 - 1;
    const std::uint64_t mantissa = static_cast<std::uint64_t>(i % 64 + 64);
    return ((mantissa + 1) << shift) - 1;  // wraps to 2^64-1 for the last bucket, as it should
  }

  LatencyHistogram() : counts_(new std::atomic<std::uint64_t>[kBuckets]) {
    for (int i = 0; i < kBuckets; ++i) counts_[i].store(0, std::memory_order_relaxed);
  }

  void record(std::uint64_t v) noexcept {
    counts_[bucket(v)].fetch_add(1, std::memory_order_relaxed);
    std::uint64_t m = max_.load(std::memory_order_relaxed);
    while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {}
  }
  void add_bucket(int i, std::uint64_t count) noexcept { counts_[i].fetch_add(count, std::memory_order_relaxed); }
  void add_max(std::uint64_t v) noexcept {
    std::uint64_t m = max_.load(std::memory_order_relaxed);
    while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {}
  }
  std::uint64_t count(int i) const noexcept { return counts_[i].load(std::memory_order_relaxed); }

  std::uint64_t total() const noexcept {
    std::uint64_t t = 0;
    for (int i = 0; i < kBuckets; ++i) t += count(i);
    return t;
  }
  std::uint64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }
  // percentile: `per_mille` in 1..1000 (500 = p50, 999 = p99.9); the rank is computed exactly in integers,
  // ceil(per_mille * n / 1000), as runtimes/go/histogram.go does; 0 when nothing was recorded.
  std::uint64_t percentile(std::uint64_t per_mille) const noexcept {
    const std::uint64_t n = total();
    if (n == 0) return 0;
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>((static_cast<unsigned __int128>(per_mille) * n + 999) / 1000));
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += count(i);
      if (seen >= rank) return std::min(bucket_value(i), max());  // never above the maximum
    }
    return max();
  }

 private:
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace spindle
