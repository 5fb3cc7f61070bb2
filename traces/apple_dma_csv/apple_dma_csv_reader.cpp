// SPDX-License-Identifier: MIT
#include "traces/apple_dma_csv/apple_dma_csv_reader.hpp"

#include <algorithm>
#include <utility>

#include "traces/binary_format.hpp"
#include "traces/text_format.hpp"

namespace dartlab::trace {
namespace {

using apple_dma_csv::Op;
using line_import::Family;

// The longest run of S rows kept for a rollback: a map_sg of more segments than this cannot be
// rolled back whole (counted as a disagreement instead). Linux scatterlists of GPU drivers run to
// a few thousand entries; memory stays a few MiB even so.
constexpr std::size_t kMaxSgRun = std::size_t{1} << 16;

}  // namespace

AppleDmaCsvReader::AppleDmaCsvReader(const std::string& path, ReaderOptions options)
    : AppleDmaCsvReader(ByteSource(path), std::move(options)) {}

AppleDmaCsvReader::AppleDmaCsvReader(ByteSource source, ReaderOptions options)
    : LineImporter(std::move(source), std::move(options), static_cast<std::size_t>(Note::Count)) {
  const std::string device = options_.device.empty() ? std::string(ReaderOptions::kDefaultDevice) : options_.device;
  devices_.push_back(device);
  if (source_.open_error().empty() && !binary::valid_device_name(device)) {
    stop("the device " + quoted(device) + " cannot name the recording's device: a trace names devices with letters, digits "
         "and ':._-' (at most " + std::to_string(binary::kMaxDeviceNameBytes) + " bytes), such as 0000:01:00.0");
  }
}

AppleDmaCsvReader::~AppleDmaCsvReader() = default;

std::optional<RecordedPeaks> AppleDmaCsvReader::recorded_peaks() const {
  if (!any_row_) return std::nullopt;
  return peaks_;
}

void AppleDmaCsvReader::handle_line(std::string_view line) {
  apple_dma_csv::Row row;
  apple_dma_csv::PayloadError error;
  switch (apple_dma_csv::split_line(line, row, error)) {
    case apple_dma_csv::LineKind::Row: return handle_row(row);
    case apple_dma_csv::LineKind::Header:
      if (any_row_) note(Note::HeaderAgain);
      return;
    case apple_dma_csv::LineKind::Blank: return;
    case apple_dma_csv::LineKind::Bad: return malformed(error.at, std::move(error.message));
    case apple_dma_csv::LineKind::Other: return note(Note::Other);
  }
}

void AppleDmaCsvReader::handle_row(const apple_dma_csv::Row& row) {
  const char* end = current_line().data() + current_line().size();
  if (is_map_op(row.op)) {
    if (row.size_bytes == 0) return malformed(end, std::string(1, static_cast<char>(row.op)) + " row of 0 bytes (a map of nothing)");
    if (row.size_bytes - 1 > ~row.gpa) return malformed(end, "gpa + size passes 2^64");
  }
  any_row_ = true;
  peaks_.live_requests = std::max(peaks_.live_requests, row.active_maps);
  peaks_.live_bytes = std::max(peaks_.live_bytes, row.active_bytes);
  time_ns_ = row.time_ns;
  resync_ = false;
  check_counts(row);
  switch (row.op) {
    case Op::Map:
      sg_run_.clear();
      open(Family::CsvMap, row);
      break;
    case Op::SgSegment:
      if (sg_run_.size() == kMaxSgRun) sg_run_.erase(sg_run_.begin(), sg_run_.begin() + kMaxSgRun / 2);
      sg_run_.push_back({row.gpa, row.size_bytes});
      open(Family::CsvSg, row);
      break;
    case Op::Unmap:
    case Op::Free:
      sg_run_.clear();
      close(Family::CsvMap, row.gpa, row.size_bytes, Note::UnmapNeverSeen);
      break;
    case Op::SgUnmap:
      sg_run_.clear();
      close(Family::CsvSg, row.gpa, row.size_bytes, Note::SgUnmapNeverSeen);
      break;
  }
  // After rows the counts cannot explain, what the module counts beyond the import is taken as
  // live from before (maps whose rows were lost), so that later unmaps of it are still known.
  if (resync_) {
    earlier_maps_ = row.active_maps > live_.size() ? row.active_maps - live_.size() : 0;
    earlier_bytes_ = row.active_bytes > live_bytes_ ? row.active_bytes - live_bytes_ : 0;
  }
}

void AppleDmaCsvReader::check_counts(const apple_dma_csv::Row& row) {
  const bool map = is_map_op(row.op);
  if (!counted_) {
    // The first row: what was live before it is its counts less its own op. A ring that has
    // wrapped begins in the middle of the run; so does a recording after a `reset`.
    counted_ = true;
    prev_maps_ = row.active_maps;
    prev_bytes_ = row.active_bytes;
    if (!map) {
      earlier_maps_ = row.active_maps + 1;
      earlier_bytes_ = row.active_bytes + row.size_bytes;
    } else if (row.active_maps >= 1 && row.active_bytes >= row.size_bytes) {
      earlier_maps_ = row.active_maps - 1;
      earlier_bytes_ = row.active_bytes - row.size_bytes;
    } else {
      note(Note::FirstRowDisagrees);
      resync_ = true;
    }
    if (earlier_maps_ != 0) {
      notes_.add({.what = std::to_string(earlier_maps_) + " requests live before the first row, " +
                          std::to_string(earlier_bytes_) +
                          " bytes in all (its active_maps and active_bytes less its own op: the ring had wrapped, or "
                          "the recording began mid-run); they are not in the trace, and their unmaps are dropped",
                  .count = 1,
                  .first_lines = {line_number()},
                  .skips = false});
    }
    return;
  }
  const std::int64_t expected = static_cast<std::int64_t>(prev_maps_) + (map ? 1 : -1);
  const std::int64_t fall = expected - static_cast<std::int64_t>(row.active_maps);
  std::uint64_t expected_bytes = map ? prev_bytes_ + row.size_bytes : prev_bytes_ - row.size_bytes;  // modulo 2^64
  prev_maps_ = row.active_maps;
  prev_bytes_ = row.active_bytes;
  if (fall > 0 && static_cast<std::uint64_t>(fall) <= sg_run_.size()) {
    // A map_sg whose segment failed released the segments it had mapped, writing no T row: the
    // count falls by that many. Their S rows are the latest; they end here, latest first.
    for (std::int64_t k = 0; k < fall; ++k) {
      const SgRowRequest r = sg_run_.back();
      sg_run_.pop_back();
      expected_bytes -= r.size_bytes;
      close(Family::CsvSg, r.gpa, r.size_bytes, Note::SgUnmapNeverSeen);
    }
    note(Note::RolledBack);
  } else if (fall != 0) {
    note(Note::MapsDisagree);
    resync_ = true;
    return;
  }
  if (expected_bytes != row.active_bytes) {
    note(Note::BytesDisagree);
    resync_ = true;
  }
}

void AppleDmaCsvReader::open(Family family, const apple_dma_csv::Row& row) {
  Event ev;
  ev.dir = Direction::Bidirectional;  // the CSV does not say
  ev.device = 0;
  ev.has_time = true;
  ev.time_ns = time_ns_;
  ev.id = next_id_++;
  if (family == Family::CsvSg) {
    ev.kind = EventKind::MapSg;
    segment_ = {row.gpa, row.size_bytes};
    ev.segments = std::span<const Segment>(&segment_, 1);
  } else {
    ev.kind = EventKind::Map;
    ev.gpa = row.gpa;
    ev.len_bytes = row.size_bytes;
  }
  if (live_.add({row.gpa, 0, family, row.size_bytes}, {ev.id, row.size_bytes})) note(Note::Stacked);
  live_bytes_ += row.size_bytes;
  queue(ev);
}

void AppleDmaCsvReader::close(Family family, std::uint64_t gpa, std::uint64_t size_bytes, Note never) {
  if (const auto r = live_.take({gpa, 0, family, size_bytes})) {
    live_bytes_ -= r->len_bytes;
    return queue_end(family == Family::CsvSg ? EventKind::UnmapSg : EventKind::Unmap, 0, r->id, true, time_ns_);
  }
  note(never);
  if (earlier_maps_ == 0) {  // neither seen nor live before: rows were lost (the count check says where)
    note(Note::EarlierExhausted);
    resync_ = true;
    return;
  }
  --earlier_maps_;
  earlier_bytes_ = earlier_bytes_ >= size_bytes ? earlier_bytes_ - size_bytes : 0;
}

std::string AppleDmaCsvReader::note_text(Note n) const {
  switch (n) {
    case Note::Other: return "line is not an apple_dma trace row (other text in the file)";
    case Note::TooLong: return "line longer than " + std::to_string(text::kMaxLineBytes) + " bytes";
    case Note::HeaderAgain: return "the header again (two dumps in one file?): read on as one recording";
    case Note::UnmapNeverSeen: return "U or F row of a request not seen in this recording (live before its first row): dropped";
    case Note::SgUnmapNeverSeen: return "T row of an sg segment not seen in this recording (live before its first row): dropped";
    case Note::EarlierExhausted:
      return "unmap of a request neither seen nor counted live before the first row (rows lost): dropped";
    case Note::Stacked: return "map of a (gpa, size) already live: a second live request; an unmap ends the latest first";
    case Note::RolledBack:
      return "map_sg rolled back: active_maps fell by k more than the row explains, so the k latest S rows' segments "
             "were released without T rows (a segment failed); they end here";
    case Note::MapsDisagree:
      return "active_maps differs from what the rows explain (rows lost, or written out of order): counts taken from the row";
    case Note::BytesDisagree:
      return "active_bytes differs from what the rows explain (rows lost, or written out of order): counts taken from the row";
    case Note::FirstRowDisagrees: return "the first row's active counts are smaller than its own map: counts taken from the row";
    case Note::Count: break;
  }
  return {};
}

void AppleDmaCsvReader::note(Note n) {
  const bool skips = n == Note::Other || n == Note::TooLong || n == Note::UnmapNeverSeen || n == Note::SgUnmapNeverSeen ||
                     n == Note::EarlierExhausted;
  notes_.count(static_cast<std::size_t>(n), line_number(), [&] { return note_text(n); }, skips);
}

}  // namespace dartlab::trace
