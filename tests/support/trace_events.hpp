// SPDX-License-Identifier: MIT
// Trace events and run configurations built by hand, for the replay's and stats' tests.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>

#include "sim/replay/replay.hpp"
#include "traces/event.hpp"

namespace dartlab::test {

// A policy over a DART, both from their specs (which must parse).
inline sim::RunConfig config(std::string_view policy, std::string_view dart_spec = "") {
  return {std::get<mapper::Policy>(mapper::parse_policy(policy)),
          std::get<dart::DartConfig>(dart::parse_dart_spec(dart_spec))};
}

// A map of [gpa, gpa + len) to the device (or an alloc, ...: any kind with one range).
inline trace::Event map(std::uint64_t id, std::uint64_t gpa, std::uint64_t len,
                        trace::EventKind kind = trace::EventKind::Map) {
  trace::Event ev;
  ev.kind = kind;
  ev.id = id;
  ev.gpa = gpa;
  ev.len_bytes = len;
  ev.dir = trace::Direction::ToDevice;
  return ev;
}

inline trace::Event release(std::uint64_t id, trace::EventKind kind = trace::EventKind::Unmap) {
  trace::Event ev;
  ev.kind = kind;
  ev.id = id;
  return ev;
}

inline trace::Event access(std::uint64_t id, std::uint64_t gpa, std::uint64_t len, trace::Direction dir) {
  trace::Event ev = map(id, gpa, len, trace::EventKind::Access);
  ev.dir = dir;
  return ev;
}

}  // namespace dartlab::test
