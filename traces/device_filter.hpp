// SPDX-License-Identifier: MIT
// Keeps one device's events out of any reader: maps, allocs and scatter-gather maps of other
// devices are skipped, and so are the unmaps, frees and accesses that name them. The ftrace
// importer filters while it imports; open_trace wraps the other formats in this.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "traces/trace_reader.hpp"

namespace dartlab::trace {

// True for a PCI address as Linux prints it: DDDD:BB:DD.F in hex digits.
bool is_pci_bdf(std::string_view name);
// "no event of device D (the trace has: A, B, ...)", and a word when D is no PCI address.
std::string no_event_of_device(std::string_view device, std::span<const std::string> present, bool more = false);

class DeviceFilterReader final : public TraceReader {
 public:
  DeviceFilterReader(std::unique_ptr<TraceReader> inner, std::string device);

  const std::vector<std::string>& devices() const override { return inner_->devices(); }
  std::uint64_t position() const override { return inner_->position(); }
  std::string locate(std::uint64_t position) const override { return inner_->locate(position); }
  std::string_view position_unit() const override { return inner_->position_unit(); }
  std::optional<RecordedPeaks> recorded_peaks() const override { return inner_->recorded_peaks(); }
  std::uint64_t bytes_consumed() const override { return inner_->bytes_consumed(); }
  std::uint64_t file_bytes() const override { return inner_->file_bytes(); }
  std::uint64_t warnings() const override { return inner_->warnings(); }
  const std::vector<std::string>& warning_samples() const override { return inner_->warning_samples(); }
  // The inner reader's notes, then events of other devices skipped, then whether the device was
  // never seen (said at the end of the input).
  std::span<const ReaderNote> notes() const override;
  std::string_view format_name() const override { return inner_->format_name(); }

 private:
  Status read_event(Event& ev) override;
  const ParseError& reader_error() const override { return inner_->error(); }
  bool keeps(std::uint16_t device);

  std::unique_ptr<TraceReader> inner_;
  std::string device_;
  std::vector<std::uint8_t> kept_;         // by device index: 0 unknown yet, 1 kept, 2 skipped
  std::unordered_set<std::uint64_t> skipped_ids_;  // live requests of other devices
  bool seen_ = false;                      // the device has had an event
  bool ended_ = false;
  ReaderNote skipped_;
  mutable std::vector<ReaderNote> notes_;  // made by notes()
};

}  // namespace dartlab::trace
