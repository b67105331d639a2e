// json_file.h — writes a JSON document so that readers never see half of it: a temporary file in the
// same folder, flushed, then renamed over the target.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace spindle {

// write_json_atomically: throws std::runtime_error naming the path when it cannot write.
void write_json_atomically(const std::string& path, const nlohmann::json& doc);

}  // namespace spindle
