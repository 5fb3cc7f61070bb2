// SPDX-License-Identifier: MIT
#include "sim/sweep/merge.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "sim/sweep/config.hpp"
#include "sim/sweep/output.hpp"

namespace dartlab::sim {

namespace {

using Json = nlohmann::ordered_json;

// Travels inside this file only; merge_sweep_shards returns its message.
struct MergeError {
  std::string message;
};

[[noreturn]] void fail(std::string message) { throw MergeError{std::move(message)}; }

const Json& member(const Json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) fail(fmt::format("{}: {} is missing", where, key));
  return *it;
}

std::uint64_t whole_number(const Json& object, const char* key, const std::string& where) {
  const Json& v = member(object, key, where);
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<std::int64_t>() < 0))
    fail(fmt::format("{}: {} is not a whole number >= 0", where, key));
  return v.get<std::uint64_t>();
}

std::string text(const Json& object, const char* key, const std::string& where) {
  const Json& v = member(object, key, where);
  if (!v.is_string()) fail(fmt::format("{}: {} is not a string", where, key));
  return v.get<std::string>();
}

struct ShardHeader {
  SweepIdentity identity;
  std::string hash_text;
};

ShardHeader read_header(const SweepShardFile& f) {
  if (!f.document.is_object() || !f.document.contains("sweep") || !f.document["sweep"].is_object())
    fail(fmt::format("{}: not a dartlab sweep result (no \"sweep\" object)", f.file));
  const Json& s = f.document["sweep"];
  const std::string where = f.file + ": sweep";
  ShardHeader h;
  h.identity.name = text(s, "name", where);
  h.hash_text = text(s, "hash", where);
  h.identity.points = whole_number(s, "points", where);
  const Json& shard = member(s, "shard", where);
  if (!shard.is_object()) fail(where + ": shard is not an object {index, count}");
  const std::uint64_t index = whole_number(shard, "index", where + ".shard");
  const std::uint64_t count = whole_number(shard, "count", where + ".shard");
  if (count < 1 || count > 1000000 || index < 1 || index > count)
    fail(fmt::format("{}: shard {}/{} is not a shard", where, index, count));
  h.identity.shard = {static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(count)};
  const Json& lenient = member(s, "lenient", where);
  if (!lenient.is_boolean()) fail(where + ": lenient is not true or false");
  h.identity.lenient = lenient.get<bool>();
  h.identity.device = text(s, "device", where);
  if (h.identity.points > kMaxSweepPoints)
    fail(fmt::format("{}: {} points, more than a sweep can have ({})", where, h.identity.points, kMaxSweepPoints));
  if (!f.document.contains("results") || !f.document["results"].is_array())
    fail(f.file + ": results is missing or not a list");
  if (!f.document.contains("inputs") || !f.document["inputs"].is_array())
    fail(f.file + ": inputs is missing or not a list");
  return h;
}

std::string list_points(const std::vector<std::size_t>& points) {
  std::string out;
  for (std::size_t i = 0; i < points.size() && i < 10; ++i) out += (i == 0 ? "" : ", ") + std::to_string(points[i]);
  if (points.size() > 10) out += fmt::format(", ... ({} in all)", points.size());
  return out;
}

Json merge(std::span<const SweepShardFile> shards) {
  if (shards.empty()) fail("nothing to merge");
  std::vector<ShardHeader> headers;
  for (const SweepShardFile& f : shards) headers.push_back(read_header(f));
  const ShardHeader& ref = headers.front();
  const std::uint32_t count = ref.identity.shard.count;
  std::map<std::uint32_t, std::size_t> by_shard;  // shard index -> input
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const SweepIdentity& id = headers[i].identity;
    if (headers[i].hash_text != ref.hash_text || id.name != ref.identity.name)
      fail(fmt::format("{} is from another sweep: '{}' hash {}, but {} is '{}' hash {}", shards[i].file, id.name,
                       headers[i].hash_text, shards[0].file, ref.identity.name, ref.hash_text));
    if (id.points != ref.identity.points || id.lenient != ref.identity.lenient || id.device != ref.identity.device)
      fail(fmt::format("{} and {} have the same hash but different sweep settings: damaged?", shards[i].file,
                       shards[0].file));
    if (id.shard.count != count)
      fail(fmt::format("{} is shard {}/{}, but {} is shard {}/{}: merge the shards of one split", shards[i].file,
                       id.shard.index, id.shard.count, shards[0].file, ref.identity.shard.index, count));
    const auto [it, fresh] = by_shard.emplace(id.shard.index, i);
    if (!fresh)
      fail(fmt::format("shard {}/{} given twice: {} and {}", id.shard.index, count, shards[it->second].file,
                       shards[i].file));
  }

  // Every point exactly once, each from the shard that holds it.
  const std::size_t total = ref.identity.points;
  std::vector<std::optional<std::size_t>> owner(total);
  std::vector<const Json*> results(total, nullptr);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const Json& list = shards[i].document["results"];
    for (std::size_t k = 0; k < list.size(); ++k) {
      const std::string where = fmt::format("{}: results[{}]", shards[i].file, k);
      if (!list[k].is_object()) fail(where + ": not an object");
      const std::uint64_t p = whole_number(list[k], "point", where);
      if (p >= total) fail(fmt::format("{}: point {} is past the sweep's {} points", where, p, total));
      if (!headers[i].identity.shard.holds(p))
        fail(fmt::format("{}: point {} does not belong to shard {}/{}", where, p, headers[i].identity.shard.index, count));
      if (owner[p])
        fail(fmt::format("point {} appears twice: in {} and in {}", p, shards[*owner[p]].file, shards[i].file));
      owner[p] = i;
      results[p] = &list[k];
    }
  }
  std::map<std::uint32_t, std::vector<std::size_t>> missing;  // by shard
  for (std::size_t p = 0; p < total; ++p)
    if (!owner[p]) missing[static_cast<std::uint32_t>(p % count + 1)].push_back(p);
  if (!missing.empty()) {
    std::string why;
    for (const auto& [shard, points] : missing) {
      const auto given = by_shard.find(shard);
      why += fmt::format("\n  shard {}/{}: points {} ({})", shard, count, list_points(points),
                         given == by_shard.end() ? "no input is this shard"
                                                 : shards[given->second].file + " lacks them: damaged or edited?");
    }
    fail(fmt::format("the inputs do not hold every point of sweep '{}' ({} points):{}", ref.identity.name, total, why));
  }

  // The points must be the sweep's: their hash is the sweep's hash.
  std::vector<std::string> fields;  // trace, policy, dart per point, kept alive for the hash
  std::vector<std::map<std::string, std::string>> params(total);
  fields.reserve(total * 3);
  for (std::size_t p = 0; p < total; ++p) {
    const Json& r = *results[p];
    const std::string where = fmt::format("{}: point {}", shards[*owner[p]].file, p);
    for (const char* key : {"trace", "policy", "dart"}) fields.push_back(text(r, key, where));
    for (const char* key : {"peak_mappings", "peak_mapped_bytes", "failed_maps"}) whole_number(r, key, where);
    const Json& ps = member(r, "params", where);
    if (!ps.is_object()) fail(where + ": params is not an object");
    for (const auto& [k, v] : ps.items()) {
      if (!v.is_string()) fail(fmt::format("{}: params.{} is not a string", where, k));
      params[p][k] = v.get<std::string>();
    }
  }
  std::vector<SweepIdentityPoint> identity;
  for (std::size_t p = 0; p < total; ++p) identity.push_back({fields[3 * p], fields[3 * p + 1], fields[3 * p + 2], &params[p]});
  const std::uint64_t hash = sweep_hash(ref.identity.name, ref.identity.lenient, ref.identity.device, identity);
  if (hash_hex(hash) != ref.hash_text)
    fail(fmt::format("the results' points hash to {}, not to the sweep's {}: an input was edited or damaged",
                     hash_hex(hash), ref.hash_text));

  // Inputs: each trace once, seen the same by every shard that read it, in the order of points.
  std::map<std::string, std::pair<const Json*, std::size_t>> inputs;  // trace -> (input, file)
  for (std::size_t i = 0; i < shards.size(); ++i) {
    for (const Json& in : shards[i].document["inputs"]) {
      if (!in.is_object()) fail(shards[i].file + ": inputs: an entry is not an object");
      const std::string trace = text(in, "trace", shards[i].file + ": inputs");
      const auto [it, fresh] = inputs.emplace(trace, std::pair{&in, i});
      if (fresh || *it->second.first == in) continue;
      fail(fmt::format("trace {}: {} read {} events, {} read {}{}: the shards read different files", trace,
                       shards[it->second.second].file, it->second.first->value("events", Json()).dump(),
                       shards[i].file, in.value("events", Json()).dump(),
                       it->second.first->value("events", Json()) == in.value("events", Json())
                           ? " (with different warnings or notes)"
                           : ""));
    }
  }
  SweepParts parts;
  parts.identity = ref.identity;
  parts.identity.hash = hash;
  parts.identity.shard = Shard{1, 1};
  for (std::size_t p = 0; p < total; ++p) {
    const std::string trace = fields[3 * p];
    if (p == 0 || trace != fields[3 * (p - 1)]) {
      const auto it = inputs.find(trace);
      if (it == inputs.end()) fail(fmt::format("trace {} (point {}): no input describes it", trace, p));
      if (std::none_of(parts.inputs.begin(), parts.inputs.end(), [&](const Json& in) { return in["trace"] == trace; }))
        parts.inputs.push_back(*it->second.first);
    }
    parts.results.push_back(*results[p]);
  }
  Json runs = Json::array();
  for (const auto& [index, i] : by_shard) {
    const Json& doc = shards[i].document;
    if (doc.contains("timing") && doc["timing"].is_object() && doc["timing"].contains("runs") &&
        doc["timing"]["runs"].is_array())
      for (const Json& run : doc["timing"]["runs"]) runs.push_back(run);
  }
  parts.timing = {{"runs", std::move(runs)}};
  return sweep_document(std::move(parts));
}

}  // namespace

std::variant<Json, std::string> merge_sweep_shards(std::span<const SweepShardFile> shards) {
  try {
    return merge(shards);
  } catch (const MergeError& e) {
    return e.message;
  }
}

}  // namespace dartlab::sim
