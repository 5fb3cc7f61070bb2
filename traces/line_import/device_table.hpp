// SPDX-License-Identifier: MIT
// The devices a line reader has met, by the name its input gives them, each with its index for
// Event::device. Found again without hashing in the usual case: inputs come in runs of one
// device, and most name a handful.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "traces/line_import/import_notes.hpp"
#include "traces/line_import/scan.hpp"
#include "traces/text_format.hpp"

namespace dartlab::trace::line_import {

class DeviceTable {
 public:
  // Device names by index, as TraceReader::devices() shows them.
  const std::vector<std::string>& names() const { return names_; }

  // The index of the device the input calls `key`; false for a name not met yet.
  bool find(std::string_view key, std::uint16_t& index) {
    if (!keys_.empty() && same(key, keys_[last_])) {
      index = last_;
      return true;
    }
    if (keys_.size() <= kScanned) {
      for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (same(key, keys_[i])) return found(static_cast<std::uint16_t>(i), index);
      }
      return false;
    }
    const auto it = index_.find(key);
    return it != index_.end() && found(it->second, index);
  }
  // A device not met yet, shown in names() as `shown` (the key made printable, say); false when
  // the table already holds text::kMaxDevices (Event::device is 16 bits wide).
  bool add(std::string_view key, std::string shown, std::uint16_t& index) {
    if (keys_.size() >= text::kMaxDevices) return false;
    index = last_ = static_cast<std::uint16_t>(keys_.size());
    keys_.emplace_back(key);
    names_.push_back(std::move(shown));
    index_.emplace(keys_.back(), index);
    return true;
  }

 private:
  static constexpr std::size_t kScanned = 8;  // up to this many, a scan beats a hash

  static bool same(std::string_view a, const std::string& b) {
    return a.size() == b.size() && scan::same(a.data(), b.data(), a.size());
  }
  bool found(std::uint16_t i, std::uint16_t& index) {
    index = last_ = i;
    return true;
  }

  std::vector<std::string> keys_;   // as the input names them
  std::vector<std::string> names_;  // as devices() shows them
  std::unordered_map<std::string, std::uint16_t, ImportNotes::NameHash, std::equal_to<>> index_;
  std::uint16_t last_ = 0;  // the device found last
};

}  // namespace dartlab::trace::line_import
