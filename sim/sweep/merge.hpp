// SPDX-License-Identifier: MIT
// Joins the JSON documents of a sweep's shards into the document of the whole sweep, after
// checking they belong together: one sweep (same hash), every point exactly once, the same
// trace contents seen by every shard.
#pragma once

#include <span>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

namespace dartlab::sim {

struct SweepShardFile {
  std::string file;  // for messages
  nlohmann::ordered_json document;
};

// The merged document (as sweep_document of shard 1/1 writes it: equal, before "timing", to the
// unsharded run's), or an error naming the files and points at fault. timing.runs lists every
// input's runs, in shard order.
std::variant<nlohmann::ordered_json, std::string> merge_sweep_shards(std::span<const SweepShardFile> shards);

}  // namespace dartlab::sim
