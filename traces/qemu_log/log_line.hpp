// One line of a QEMU log holding trace events of the `log` backend, and the apple-dma-pci
// device's events in it: the line's shape ("[PID@SEC.USEC:]NAME ARGS") and the arguments of
// apple_dma_map, apple_dma_unmap and apple_dma_reset. Formats and sources: traces/qemu_log/IMPORT.md.
#pragma once

#include <cstdint>
#include <string_view>

#include "traces/event.hpp"
#include "traces/ftrace/payload_fields.hpp"

namespace dartlab::trace::qemu_log {

using ftrace::PayloadError;

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

enum class EventType : std::uint8_t { Map, Unmap, Reset, Other };
EventType find_event(std::string_view name);

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

// Parses the arguments of a Map, Unmap or Reset event. Fields may come in any order and unknown
// fields are skipped (a device that prints one more must not break the import); a field its
// format prints must be there. On failure `error` says what and where (a pointer into `args`,
// or args' end for a missing field).
bool parse_apple_dma(EventType type, std::string_view args, AppleDmaRecord& r, PayloadError& error);

}  // namespace dartlab::trace::qemu_log
