// machine.cpp — the hardware fingerprint of a results context (see machine.h).
#include "harness/machine.h"

#include <cmath>

#include "harness/sweep_file.h"

namespace spindle {
namespace {

std::string text_of(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

const nlohmann::json& field(const nlohmann::json& object, const char* key) {
  static const nlohmann::json null;
  return object.is_object() && object.contains(key) ? object[key] : null;
}

}  // namespace

std::string fingerprint_text(const nlohmann::json& context) {
  const nlohmann::json& env = field(context, "env");
  std::string caches;
  const nlohmann::json& list = field(context, "caches");
  if (list.is_array())
    for (const auto& c : list)
      caches += (caches.empty() ? "L" : ",L") + text_of(field(c, "level")) + " " + text_of(field(c, "type")) + " " +
                text_of(field(c, "size")) + "/" + text_of(field(c, "num_sharing"));
  const nlohmann::json& memory = field(env, "memory_bytes");
  const std::string memory_gib =
      memory.is_number() ? std::to_string(std::llround(memory.get<double>() / double(1ull << 30))) : "";
  return "cpu_model=" + text_of(field(env, "cpu_model")) + "\ncores=" + text_of(field(env, "cores")) +
         "\ncaches=" + caches + "\nmemory_gib=" + memory_gib + "\nkernel=" + text_of(field(env, "kernel")) +
         "\nvirtualization=" + text_of(field(env, "virtualization")) + "\n";
}

nlohmann::json machine_identity(const nlohmann::json& context) {
  const nlohmann::json& env = field(context, "env");
  return {{"name", text_of(field(context, "host_name"))},
          {"fingerprint", sha256_hex(fingerprint_text(context)).substr(0, 16)},
          {"hardware",
           {{"cpu_model", field(env, "cpu_model")},
            {"cores", field(env, "cores")},
            {"caches", field(context, "caches")},
            {"memory_bytes", field(env, "memory_bytes")},
            {"kernel", field(env, "kernel")},
            {"virtualization", field(env, "virtualization")}}}};
}

}  // namespace spindle
