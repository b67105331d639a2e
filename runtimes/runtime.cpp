// runtime.cpp — the definitions behind runtime.h that every adapter shares.
#include "runtimes/runtime.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

namespace spindle {

int default_workers() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

namespace {
std::atomic<AbandonHandler> g_abandon_handler{nullptr};
std::atomic<std::uint64_t> g_spawns{0};

std::uint64_t fail_spawn_at_from_env() {
  const char* v = std::getenv("SPINDLE_FAIL_SPAWN_AT");
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  return end != nullptr && *end == '\0' ? n : 0;
}
}  // namespace

namespace detail {
std::atomic<std::uint64_t> fail_spawn_at{fail_spawn_at_from_env()};

void count_spawn_for_fault() {
  const std::uint64_t at = fail_spawn_at.load(std::memory_order_relaxed);
  if (at != 0 && g_spawns.fetch_add(1, std::memory_order_relaxed) + 1 == at)
    throw std::system_error(EAGAIN, std::generic_category(),
                            "spawn (injected by SPINDLE_FAIL_SPAWN_AT=" + std::to_string(at) + ")");
}
}  // namespace detail

void set_spawn_fault_at(std::uint64_t n) {
  g_spawns.store(0, std::memory_order_relaxed);
  detail::fail_spawn_at.store(n, std::memory_order_relaxed);
}

std::string exception_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

void set_abandon_handler(AbandonHandler handler) { g_abandon_handler.store(handler); }

bool abandon_handler_installed() noexcept { return g_abandon_handler.load(std::memory_order_relaxed) != nullptr; }

void abandon_run(std::exception_ptr error) {
  if (AbandonHandler handler = g_abandon_handler.load()) handler(error);  // the harness's: does not return
  std::fprintf(stderr, "spindle: a task threw, the run is abandoned: %s\n", exception_text(error).c_str());
  std::fflush(nullptr);
  std::_Exit(1);
}

}  // namespace spindle
