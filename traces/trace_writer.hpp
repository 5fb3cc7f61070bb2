// SPDX-License-Identifier: MIT
// What every trace writer offers, whatever the format it writes (text or binary), and the
// factory that picks one.
#pragma once

#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "traces/event.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class TraceWriter {
 public:
  virtual ~TraceWriter();
  // Names for Event::device indices. May be called again with a longer list as a reader
  // learns names (an import); an index without a name is written as "devN".
  virtual void set_devices(std::span<const std::string> devices) = 0;
  // Precondition: the event is one the readers accept (map_sg has 1..4096 segments, no zero LEN).
  virtual void write(const Event& ev) = 0;
  // Free text kept with the trace (text: "# ..." lines).
  virtual void comment(std::string_view text) = 0;
  // Writes what the format puts at its end and hands everything to the FILE, flushed. False if
  // any write so far failed (the failure sticks).
  virtual bool finish() = 0;
  // Why a write failed when it was not the output's fault (a device name or a scatterlist the
  // format cannot hold), for the message; empty otherwise (then errno says why).
  virtual std::string failure() const { return {}; }
};

struct WriterOptions {
  bool zstd = false;   // binary only: compress the body
  int zstd_level = 3;  // zstd's own default level
};

// A writer of `format` (Binary, else text) into `out`, which it does not own.
std::unique_ptr<TraceWriter> make_trace_writer(std::FILE* out, TraceFormat format, const WriterOptions& options = {});

}  // namespace dartlab::trace
