// SPDX-License-Identifier: MIT
// The DART's configuration and its spec string, e.g. "aperture=1536M,slots=65536,alloc=first-fit".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "models/dart/aperture.hpp"
#include "models/dart/dart_variant.hpp"
#include "base/size_text.hpp"

namespace dartlab::dart {

// What the host service does with a map whose gpa, the key it files regions under, is already
// registered: Refuse, as the real one does (kIOReturnStillOpen), or Share: map it again.
enum class DuplicateRule : std::uint8_t { Share, Refuse };

struct DartConfig {
  std::uint64_t aperture_bytes = 1536ull << 20;  // observed: about 1.5 GiB registered for DMA at once
  std::uint64_t slots = 65536;                   // observed: the host extension's 65,536-slot table
  bool unlimited_slots = false;
  std::uint64_t page_bytes = 16384;  // spec: all Apple Silicon DARTs run 16 KiB pages
  // A guess: the first page stays unused as a null-DMA catch, as OpenBSD's apldart does. The spec
  // parser defaults it to one page of whatever size page= gives.
  std::uint64_t base_bus_addr = 16384;
  AllocPolicy alloc = AllocPolicy::FirstFit;
  DartVariant variant = kDartT8110;  // spec: macOS drives Thunderbolt DARTs as t8110 from M2 on
  // The host service's rules (docs/REAL-SYSTEM.md, "The host's mapping service"). Observed in its
  // source: a region is prepared in chunks of at most 1.5 GiB and only the first is answered, so
  // a longer map comes back cut to this length. 0: no chunks (chunk=unlimited).
  std::uint64_t chunk_bytes = 1536ull << 20;
  // Share keeps the results dartlab gave before the rule existed; the real host refuses (README,
  // "DART configurations", says why share is the default).
  DuplicateRule duplicate = DuplicateRule::Share;

  friend bool operator==(const DartConfig&, const DartConfig&) = default;
};

// Comma-separated key=value, every key optional, "" = defaults. Keys: aperture (size or "max"),
// slots (count or "unlimited"), page, alloc (first-fit|best-fit|buddy|linux), base, variant (t8110|t8020),
// chunk (size, a multiple of the page, or "unlimited"), duplicate (share|refuse).
// Sizes: decimal or 0x hex, optional binary suffix K, M, G or T. The error names the item and why.
std::variant<DartConfig, std::string> parse_dart_spec(std::string_view spec);

// The keys parse_dart_spec knows, in the order to_spec writes them.
std::span<const std::string_view> dart_spec_keys();

// What `--dart SPEC` takes, for a command's help: every key parse_dart_spec knows, its default
// and where that default comes from. Kept beside the parser so that the two change together.
std::string_view dart_spec_help();

// The canonical spec of a config: every key, sizes with the largest exact suffix.
std::string to_spec(const DartConfig& config);

// "16K", "1536M", "4T", or plain decimal when no suffix divides exactly.
using dartlab::format_size;

}  // namespace dartlab::dart
