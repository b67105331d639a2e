// machine.h — the identity of the machine a result was measured on: its name (the host name) and a
// hardware fingerprint, so that results from different hardware are kept apart (by `spindle merge`, the
// results database and the reports) and never pooled into one median.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace spindle {

// fingerprint_text: the canonical text the fingerprint hashes, one `key=value` line each for cpu_model,
// cores, caches (`L<level> <type> <size>/<num_sharing>` joined by ','), memory_gib (memory_bytes rounded
// to GiB), kernel and virtualization, read from a results `context` (its `caches` and `env`).
// scripts/spindle_db/machine.py computes the same text for results files written before it existed.
std::string fingerprint_text(const nlohmann::json& context);

// machine_identity: {"name": host name, "fingerprint": first 16 hex digits of SHA-256(fingerprint_text),
// "hardware": the facts hashed} for a results `context`.
nlohmann::json machine_identity(const nlohmann::json& context);

}  // namespace spindle
