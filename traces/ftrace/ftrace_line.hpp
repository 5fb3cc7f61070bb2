// SPDX-License-Identifier: MIT
// Splits one line of Linux ftrace text output, as /sys/kernel/tracing/trace, trace_pipe and
// `trace-cmd report` print it, into its context (comm, pid, cpu, flags, time) and its event.
#pragma once

#include <cstdint>
#include <string_view>

namespace dartlab::trace::ftrace {

enum class LineKind : std::uint8_t {
  Event,        // "comm-pid [cpu] flags time: name: payload" (flags and "(tgid)" optional)
  Header,       // blank, "# ...", "cpus=N", "CPU N is empty", "version = N", "CPU:N [...]"
  LostEvents,   // "CPU:N [LOST M EVENTS]" (kernel) or "CPU:N [M EVENTS DROPPED]" (trace-cmd)
  LineTooBig,   // "[LINE TOO BIG]": an event the kernel could not print in its trace_seq
  NoEventName,  // an ftrace context with no "name:" after the time (function tracer output)
  Garbage,      // anything else
};

struct FtraceLine {
  std::string_view comm;  // as printed without its padding; may hold spaces and dashes
  std::uint32_t pid = 0;
  std::uint32_t tgid = 0;  // 0: not printed, or printed as "(-------)"
  std::uint32_t cpu = 0;
  std::string_view flags;  // latency flags such as "d..1." or "...1"; empty without the column
  std::uint64_t time_ns = 0;
  // Printed without a '.': a raw count of a clock that is not in nanoseconds (trace_clock
  // "counter", "x86-tsc"), kept in time_ns as it is.
  bool time_is_count = false;
  std::string_view system;   // "dma" when printed as "dma:dma_map_page:"; usually empty
  std::string_view event;    // "dma_map_page", "map"
  std::string_view payload;  // the text after "name:", without its leading blanks
};

// `line` is one line without its '\n' (and without the '\r' of a CRLF line end). On Event, fills
// `out`; on NoEventName, fills all but event and payload.
LineKind split_line(std::string_view line, FtraceLine& out);

}  // namespace dartlab::trace::ftrace
