// SPDX-License-Identifier: MIT
#include "traces/device_filter.hpp"

#include "base/join.hpp"

namespace dartlab::trace {

bool is_pci_bdf(std::string_view name) {
  constexpr std::string_view kShape = "xxxx:xx:xx.x";
  if (name.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (kShape[i] == 'x' ? !hex : c != kShape[i]) return false;
  }
  return true;
}

std::string no_event_of_device(std::string_view device, std::span<const std::string> present, bool more) {
  std::string known = join(present, ", ");
  if (more) known += ", ...";
  std::string s = "no event of device " + std::string(device) + " (the trace has: " + (known.empty() ? "none" : known);
  if (!is_pci_bdf(device)) s += "; " + std::string(device) + " is not a PCI address such as 0000:01:00.0";
  return s + ")";
}
DeviceFilterReader::DeviceFilterReader(std::unique_ptr<TraceReader> inner, std::string device)
    : inner_(std::move(inner)), device_(std::move(device)) {
  skipped_.what = "event of another device than " + device_;
  skipped_.unit = inner_->position_unit();
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
  if (ended_ && !seen_) notes_.push_back({.what = no_event_of_device(device_, inner_->devices()), .count = 1, .first_lines = {}});
  return notes_;
}

TraceReader::Status DeviceFilterReader::read_event(Event& ev) {
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
