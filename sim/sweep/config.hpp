// SPDX-License-Identifier: MIT
// A sweep: traces x policy templates x DART templates, expanded over named parameters into a
// numbered list of points, each one (trace, policy, DART) replay. Read from TOML or JSON.
//
// Expansion order (documented in `dartlab sweep --help`): for each trace in the order listed,
// for each policy template in order, for each combination of the parameters it names, for each
// DART template in order, for each combination of the parameters it names that the policy did
// not. A combination varies the parameters in name order, the last name fastest, and each
// parameter's values in the order listed (a range: from its start). Points are numbered from 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/replay/replay.hpp"

namespace dartlab::sim {

struct SweepPoint {
  std::size_t index = 0;
  std::size_t trace = 0;  // into SweepConfig::traces
  std::string policy;     // canonical specs, as results name them
  std::string dart;
  std::map<std::string, std::string> params;  // the values that made this point, by name
  RunConfig config;
};

struct SweepTrace {
  std::string name;  // as the config writes it: results carry this, so shards on machines
                     // that keep the files elsewhere still agree
  std::string path;  // where to open it: relative names are relative to the config file
  std::uint64_t file_bytes = 0;  // filled by check_sweep_traces; the cost estimate of a pass
};

struct SweepConfig {
  std::string source;  // the config file, for messages
  std::string name;    // the config's name = "...", else the file's stem
  bool lenient = false;
  std::string device;  // keep one device's events, as replay --device
  std::vector<SweepTrace> traces;
  std::vector<SweepPoint> points;
  std::uint64_t hash = 0;  // sweep_hash() of the above: shards of one sweep share it
};

enum class SweepFormat { Toml, Json };

// At most this many points: a guard against a range or a product that explodes.
inline constexpr std::size_t kMaxSweepPoints = 100000;
// At most this many values in one range, and items in any list of the config (traces, policies,
// a parameter's values): checked before anything is expanded (a guess, far past any real sweep).
inline constexpr std::size_t kMaxRangeValues = 4096;
inline constexpr std::size_t kMaxListItems = kMaxRangeValues;
// Tables and lists nest at most this deep below the top (params.NAME.from needs 3): deeper
// input is refused while it is read, before it costs memory or time.
inline constexpr std::size_t kMaxConfigDepth = 4;

// Parses and expands a config. `source` names it in messages; relative trace names are joined
// to base_dir. Touches no file. Errors read "SOURCE[:LINE]: KEY: what is wrong".
std::variant<SweepConfig, std::string> parse_sweep_config(std::string_view text, SweepFormat format,
                                                          const std::string& source,
                                                          const std::filesystem::path& base_dir);

// Reads the file (format by extension: .toml or .json), parses it, and checks every trace.
std::variant<SweepConfig, std::string> load_sweep_config(const std::string& path);

// Every trace must be a readable regular file (not stdin: shards read it again); records sizes.
// Returns an error naming the config, the key and the file, or empty.
std::string check_sweep_traces(SweepConfig& config);

// The identity of a sweep: a 64-bit FNV-1a hash of its name, options and every point's trace
// name, canonical specs and parameters, in order. The same on every machine.
struct SweepIdentityPoint {
  std::string_view trace;
  std::string_view policy;
  std::string_view dart;
  const std::map<std::string, std::string>* params;
};
std::uint64_t sweep_hash(std::string_view name, bool lenient, std::string_view device,
                         std::span<const SweepIdentityPoint> points);
std::string hash_hex(std::uint64_t hash);  // 16 lowercase hex digits

// A slice of the points: shard I of N (1-based) holds the points p with p % N == I - 1.
// Round-robin rather than blocks: neighbouring points share a trace and a policy family, so
// every shard gets its share of each trace and of the expensive policies.
struct Shard {
  std::uint32_t index = 1;
  std::uint32_t count = 1;
  bool holds(std::size_t point) const { return point % count == index - 1; }
};

// "I/N" with 1 <= I <= N <= 1000000.
std::variant<Shard, std::string> parse_shard(std::string_view text);

}  // namespace dartlab::sim
