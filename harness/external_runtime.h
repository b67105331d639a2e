// external_runtime.h — runtimes that are separate programs (go, java-vthreads, tokio, ...), all driven by
// one adapter. Each is described by a manifest, runtimes/<folder>/runtime.json, compiled into the harness
// (harness/CMakeLists.txt embeds them); the protocol the programs speak is docs/external-runtimes.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/registry.h"

namespace spindle {

// ExternalManifest: one runtime.json, parsed. Field meanings: docs/external-runtimes.md.
struct ExternalManifest {
  std::string name;                          // the runtime's name in the CLI and the records
  std::string summary;                       // one line for `spindle list`
  std::string program;                       // file name of the program, next to the spindle executable
  std::string program_env;                   // environment variable that overrides the program's path
  std::vector<std::string> version_args;     // arguments that make the program print its version line
  std::vector<std::string> list_args;        // arguments that make the program print its workload list
  std::string version_field;                 // the version's key in each record and in the environment
  std::vector<std::string> record_labels;    // string fields copied from each record (or the context)
  std::vector<std::string> record_counters;  // numeric fields copied from each record as counters
  std::string missing;                       // why the runtime is unavailable when the program is missing
  std::vector<std::string> process_per_repetition;  // workloads whose every repetition gets a fresh process
  // fatal_line_prefixes: how the program's runtime announces its own death on stderr (Go: "fatal error: ",
  // "panic: "); when the program fails, the first such line is the reason rather than the stderr's tail.
  std::vector<std::string> fatal_line_prefixes;
  Capabilities caps;
};

// parse_external_manifest: one runtime.json; throws (nlohmann::json's exceptions or std::runtime_error)
// on a missing field, an unknown capability or a program name with a '/'.
ExternalManifest parse_external_manifest(std::string_view text);

// external_manifests: every embedded manifest, in folder order; throws std::runtime_error on a malformed one.
const std::vector<ExternalManifest>& external_manifests();
const ExternalManifest* find_external_manifest(const std::string& runtime);

// external_runtime_infos: the registry entries of every external runtime.
std::vector<RuntimeInfo> external_runtime_infos();
// make_external_executor: the executor for a case whose runtime is external; nullptr for any other runtime.
std::unique_ptr<CaseExecutor> make_external_executor(const CaseSpec& spec);

// external_program: the program's path ($<program_env>, else next to this executable); empty if missing.
std::string external_program(const ExternalManifest& m);
// external_version: the program's version line, or empty when it is unavailable (asked once per process).
std::string external_version(const ExternalManifest& m);
// external_workloads: the workload names the program lists (asked once per process); empty when it cannot.
const std::vector<std::string>& external_workloads(const ExternalManifest& m);

}  // namespace spindle
