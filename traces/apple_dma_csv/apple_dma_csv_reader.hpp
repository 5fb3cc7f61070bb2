// SPDX-License-Identifier: MIT
// Imports the apple_dma guest module's debugfs `trace` file (a CSV of its ring of the last 2^18
// DMA operations) as dartlab trace events, streaming. One device per file (ReaderOptions::device
// names it). M rows become maps, S rows one-range scatter-gather maps (one per segment), and
// U / F and T rows end a live request with the same (gpa, size). The rows' own active_maps and
// active_bytes columns are checked on every row: a fall the rows do not explain is a rolled-back
// map_sg (its S rows end there), anything else a note. How and why: traces/apple_dma_csv/IMPORT.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "traces/apple_dma_csv/csv_row.hpp"
#include "traces/byte_source.hpp"
#include "traces/event.hpp"
#include "traces/line_import/live_requests.hpp"
#include "traces/line_import/line_importer.hpp"

namespace dartlab::trace {

class AppleDmaCsvReader final : public LineImporter {
 public:
  // "-" reads stdin. An open failure, or a ReaderOptions::device that no trace could name a
  // device with, is reported by the first next().
  explicit AppleDmaCsvReader(const std::string& path, ReaderOptions options = {});
  AppleDmaCsvReader(ByteSource source, ReaderOptions options);
  ~AppleDmaCsvReader() override;
  AppleDmaCsvReader(const AppleDmaCsvReader&) = delete;
  AppleDmaCsvReader& operator=(const AppleDmaCsvReader&) = delete;

  const std::vector<std::string>& devices() const override { return devices_; }
  std::optional<RecordedPeaks> recorded_peaks() const override;
  std::string_view format_name() const override { return "apple-dma-csv"; }

  // What the import has live now (requests handed out and not yet ended), and what the rows say
  // was live before the first row and has not been seen ending since. After each row, these two
  // add up to the row's active_maps / active_bytes unless a note says the rows disagree.
  std::size_t live_requests() const { return live_.size(); }
  std::uint64_t live_bytes() const { return live_bytes_; }
  std::uint64_t earlier_live_requests() const { return earlier_maps_; }
  std::uint64_t earlier_live_bytes() const { return earlier_bytes_; }

 private:
  enum class Note : std::uint8_t {
    Other, TooLong, HeaderAgain, UnmapNeverSeen, SgUnmapNeverSeen, EarlierExhausted, Stacked,
    RolledBack, MapsDisagree, BytesDisagree, FirstRowDisagrees, Count,
  };
  // An S row's request, while its map_sg may still be rolled back.
  struct SgRowRequest {
    std::uint64_t gpa = 0;
    std::uint64_t size_bytes = 0;
  };

  void handle_line(std::string_view line) override;
  void line_too_long() override { note(Note::TooLong); }
  void handle_row(const apple_dma_csv::Row& row);
  // The module's counts before `row`, checked against the row; rolls back S rows the fall explains.
  void check_counts(const apple_dma_csv::Row& row);
  void open(line_import::Family family, const apple_dma_csv::Row& row);
  void close(line_import::Family family, std::uint64_t gpa, std::uint64_t size_bytes, Note never);
  void note(Note n);
  std::string note_text(Note n) const;

  std::uint64_t time_ns_ = 0;  // the row being handled
  Segment segment_;  // the S row's one segment, which its MapSg event points at

  std::vector<std::string> devices_;  // the one device
  line_import::LiveRequests live_;
  std::uint64_t live_bytes_ = 0;
  std::uint64_t next_id_ = 1;
  std::vector<SgRowRequest> sg_run_;  // the S rows since the last other row, oldest first

  // The module's counts after the previous row; none before the first row.
  bool counted_ = false;
  std::uint64_t prev_maps_ = 0;
  std::uint64_t prev_bytes_ = 0;
  // Live before the first row, less those whose end has been seen since.
  std::uint64_t earlier_maps_ = 0;
  std::uint64_t earlier_bytes_ = 0;
  bool resync_ = false;  // the row disagreed with the counts: earlier_* are taken from it
  RecordedPeaks peaks_;
  bool any_row_ = false;
};

}  // namespace dartlab::trace
