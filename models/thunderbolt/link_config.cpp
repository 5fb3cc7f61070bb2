// SPDX-License-Identifier: MIT
#include "models/thunderbolt/link_config.hpp"

namespace dartlab::thunderbolt {

const LinkConfig* find_link_preset(std::string_view name) {
  for (const LinkConfig& preset : kLinkPresets)
    if (preset.name == name) return &preset;
  return nullptr;
}

double pcie_gt_per_s(unsigned gen) {
  switch (gen) {
    case 1: return 2.5;
    case 2: return 5.0;
    case 3: return 8.0;
    case 4: return 16.0;
    case 5: return 32.0;
    default: return 0.0;
  }
}

double pcie_encoding_efficiency(unsigned gen) {
  if (gen == 1 || gen == 2) return 8.0 / 10.0;
  if (gen >= 3 && gen <= 5) return 128.0 / 130.0;
  return 0.0;
}

}  // namespace dartlab::thunderbolt
