#include "traces/device_filter.hpp"

namespace dartlab::trace {
DeviceFilterReader::DeviceFilterReader(std::unique_ptr<TraceReader> inner, std::string device)
    : inner_(std::move(inner)), device_(std::move(device)) {
  skipped_.what = "event of another device than " + device_;
}

bool DeviceFilterReader::keeps(std::uint16_t device) {
  if (device >= kept_.size()) kept_.resize(inner_->devices().size(), 0);
  std::uint8_t& k = kept_[device];
  if (k == 0) k = inner_->devices()[device] == device_ ? 1 : 2;
  return k == 1;
}

std::span<const ReaderNote> DeviceFilterReader::notes() const {
  const auto inner = inner_->notes();
  notes_.assign(inner.begin(), inner.end());
  if (skipped_.count != 0) notes_.push_back(skipped_);
  if (ended_ && !seen_) {
    std::string known;
    for (const std::string& d : inner_->devices()) known += (known.empty() ? "" : ", ") + d;
    notes_.push_back({.what = "no event of device " + device_ + " (the trace has: " + (known.empty() ? "none" : known) + ")",
                      .count = 1,
                      .first_lines = {}});
  }
  return notes_;
}

TraceReader::Status DeviceFilterReader::next(Event& ev) {
  for (;;) {
    const Status status = inner_->next(ev);
    if (status != Status::Event) {
      ended_ = status == Status::End;
      return status;
    }
    if (is_map_kind(ev.kind)) {
      if (keeps(ev.device)) {
        seen_ = true;
        return status;
      }
      skipped_ids_.insert(ev.id);
    } else if (auto it = skipped_ids_.find(ev.id); it == skipped_ids_.end()) {
      return status;
    } else if (is_unmap_kind(ev.kind)) {
      skipped_ids_.erase(it);
    }
    ++skipped_.count;
    if (skipped_.first_lines.size() < ReaderNote::kSampleLines) skipped_.first_lines.push_back(inner_->position());
  }
}

}  // namespace dartlab::trace
