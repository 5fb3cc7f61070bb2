// SPDX-License-Identifier: MIT
// One line of a QEMU log holding trace events of the `log` backend, and the apple-dma-pci
// device's events in it: the line's shape ("[PID@SEC.USEC:]NAME ARGS"), the arguments of
// dartlab's device's apple_dma_map, apple_dma_unmap and apple_dma_reset, and those of the real
// device's apple_dma_* and apple_dext_* events. Formats and sources: traces/qemu_log/IMPORT.md.
#pragma once

#include <cstdint>
#include <string_view>

#include "traces/event.hpp"
#include "traces/line_import/fields.hpp"

namespace dartlab::trace::qemu_log {

using line_import::PayloadError;

enum class LineKind : std::uint8_t {
  Event,  // a trace event line: NAME, maybe behind a PID@SEC.USEC: stamp
  Blank,  // empty or only blanks
  Other,  // anything else QEMU (or the guest's console, or a shell) wrote into the log
};

struct LogLine {
  bool has_time = false;
  std::uint64_t time_ns = 0;        // SEC.USEC of the stamp, in nanoseconds
  const char* bad_time = nullptr;   // a stamp of the right shape whose time does not fit; else null
  std::string_view name;            // the event's name
  std::string_view args;            // what follows the name and its space
};

// Splits `line` (without its '\n'). A trace event's name is a C identifier with at least one '_'
// followed by a space or the end of the line: what tracetool accepts, and what free text rarely is.
LineKind split_line(std::string_view line, LogLine& out);

enum class EventType : std::uint8_t {
  Map, Unmap, Reset,  // dartlab's apple-dma-pci (passthrough/qemu)
  // The real device's (REAL-SYSTEM facts in traces/qemu_log/IMPORT.md): its doorbell, each map
  // and unmap entry, a failed backend map, and the host service's register / unregister calls.
  Doorbell, MapEntry, UnmapEntry, BackendMapFail, RegisterDma, UnregisterDma,
  Other,
};
EventType find_event(std::string_view name);
// True for the real device's events (Doorbell .. UnregisterDma).
constexpr bool is_real_device_event(EventType t) { return t >= EventType::Doorbell && t < EventType::Other; }

// The arguments of one apple_dma_* event; fields its format does not print stay 0.
struct AppleDmaRecord {
  std::string_view bdf;
  std::uint64_t gpa = 0;
  std::uint64_t len_bytes = 0;
  Direction dir = Direction::Bidirectional;
  std::uint64_t dma_addr = 0;
  std::uint64_t handle = 0;
  std::int32_t status = 0;
  std::uint64_t live = 0;  // reset: the device's live mappings, as it counts them
};

// The arguments of one event of the real device (and of the host service it calls); fields its
// format does not print stay 0.
struct RealDeviceRecord {
  std::uint64_t gpa = 0;        // map entry, backend failure
  std::uint64_t len_bytes = 0;  // map entry: req_len; backend failure, register: size
  std::uint64_t bus_len_bytes = 0;  // map entry, register: len (what the host gave)
  bool ok = false;              // map entry
  std::uint64_t id = 0;         // unmap entry
  std::uint64_t status = 0;     // unmap entry
  std::uint64_t iova = 0;       // register, unregister
  std::uint64_t kr = 0;         // register, unregister: the kern_return_t
  std::string_view reason;      // backend failure: the rest of the line
};

// Parses the arguments of one of the real device's events (is_real_device_event), as
// parse_apple_dma does ours: any order, unknown fields skipped, the "->" between a call's
// arguments and its results skipped, every field of the format required.
bool parse_real_device(EventType type, std::string_view args, RealDeviceRecord& r, PayloadError& error);

// The event's name as the log prints it.
std::string_view event_name(EventType type);

// Parses the arguments of a Map, Unmap or Reset event. Fields may come in any order and unknown
// fields are skipped (a device that prints one more must not break the import); a field its
// format prints must be there. On failure `error` says what and where (a pointer into `args`,
// or args' end for a missing field).
bool parse_apple_dma(EventType type, std::string_view args, AppleDmaRecord& r, PayloadError& error);

}  // namespace dartlab::trace::qemu_log
