// SPDX-License-Identifier: MIT
#include "models/dart/dart_config.hpp"

#include <array>
#include <bit>
#include <optional>

#include "models/dart/slots.hpp"
#include "base/join.hpp"

namespace dartlab::dart {

namespace {

enum Key : unsigned { kAperture, kSlots, kPage, kAlloc, kBase, kVariant, kChunk, kDuplicate, kKeyCount };
constexpr std::array<std::string_view, kKeyCount> kKeyNames{
    "aperture", "slots", "page", "alloc", "base", "variant", "chunk", "duplicate"};
constexpr std::uint64_t kMinPageBytes = 4096;   // smallest page the table format can hold (pte.hpp)
constexpr std::uint64_t kMaxPageBytes = 65536;  // largest: 8192-entry tables, 16 bits of offset

std::string known_keys() {
  std::string out;
  for (const std::string_view k : kKeyNames) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  if (!dartlab::parse_count(text, value)) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t bytes = 0;
  if (!dartlab::parse_size(text, bytes)) return std::nullopt;
  return bytes;
}

// Built by appending: GCC 12 at -O3 misreports "literal" + std::string&& (-Wrestrict, bug 105329).
std::string quoted(std::string_view text) {
  std::string out = "'";
  out += text;
  out += '\'';
  return out;
}

std::string item(Key key, std::string_view value) {
  return std::string(kKeyNames[key]) + "=" + std::string(value);
}

std::string bad_size(Key key, std::string_view value) {
  return item(key, value) + ": not a size (decimal or 0x hex, optional suffix K, M, G or T)";
}

}  // namespace

std::variant<DartConfig, std::string> parse_dart_spec(std::string_view spec) {
  DartConfig config;
  std::array<std::optional<std::string_view>, kKeyCount> values{};
  while (!spec.empty()) {
    const std::size_t comma = spec.find(',');
    const std::string_view entry = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (entry.empty() || (comma != std::string_view::npos && spec.empty())) {
      return std::string("empty item in the DART spec (two commas, or one at an end)");
    }
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) return quoted(entry) + " is not key=value";
    const std::string_view name = entry.substr(0, eq);
    const std::string_view value = entry.substr(eq + 1);
    unsigned key = 0;
    while (key < kKeyCount && kKeyNames[key] != name) ++key;
    if (key == kKeyCount) return "unknown key " + quoted(name) + " (known keys: " + known_keys() + ")";
    if (values[key]) return "key " + quoted(name) + " given twice";
    values[key] = value;
  }

  if (const auto& v = values[kVariant]) {
    const DartVariant* variant = find_dart_variant(*v);
    if (variant == nullptr) {
      return item(kVariant, *v) + ": unknown DART variant (known: " + join(kDartVariants, ", ", &DartVariant::name) + ")";
    }
    config.variant = *variant;
  }
  if (const auto& v = values[kAlloc]) {
    const std::optional<AllocPolicy> policy = alloc_policy_from_string(*v);
    if (!policy) return item(kAlloc, *v) + ": unknown policy (" + std::string(alloc_policy_names()) + ")";
    config.alloc = *policy;
  }
  if (const auto& v = values[kSlots]) {
    if (*v == "unlimited") {
      config.unlimited_slots = true;
      config.slots = 0;
    } else {
      const std::optional<std::uint64_t> n = parse_count(*v);
      if (!n) return item(kSlots, *v) + ": not a count (decimal or 0x hex, or unlimited)";
      if (*n == 0) return item(kSlots, *v) + ": need at least one slot (or slots=unlimited)";
      if (*n > SlotTable::kMaxSlots) return item(kSlots, *v) + ": at most 4294967295 (handles hold a 32-bit index)";
      config.slots = *n;
    }
  }
  if (const auto& v = values[kPage]) {
    const std::optional<std::uint64_t> n = parse_size(*v);
    if (!n) return bad_size(kPage, *v);
    if (!std::has_single_bit(*n) || *n < kMinPageBytes || *n > kMaxPageBytes) {
      return item(kPage, *v) + ": the page size must be a power of two from 4K to 64K";
    }
    config.page_bytes = *n;
  }
  const std::string page_text = format_size(config.page_bytes);
  const std::uint64_t space_bytes = std::uint64_t{1} << config.variant.va_bits;  // va_bits < 64
  const std::string space_text = std::to_string(config.variant.va_bits) + "-bit input space of " +
                                 std::string(config.variant.name) + " (" + format_size(space_bytes) + ")";
  if (const auto& v = values[kBase]) {
    const std::optional<std::uint64_t> n = parse_size(*v);
    if (!n) return bad_size(kBase, *v);
    if (*n % config.page_bytes != 0) return item(kBase, *v) + ": not a multiple of the " + page_text + " page";
    if (*n >= space_bytes) return item(kBase, *v) + ": lies beyond the " + space_text;
    config.base_bus_addr = *n;
  } else {
    config.base_bus_addr = config.page_bytes;  // the default keeps exactly the first page unused
  }
  if (const auto& v = values[kAperture]) {
    if (*v == "max") {
      config.aperture_bytes = space_bytes - config.base_bus_addr;
    } else {
      const std::optional<std::uint64_t> n = parse_size(*v);
      if (!n) return bad_size(kAperture, *v);
      config.aperture_bytes = *n;
    }
  }
  if (const auto& v = values[kChunk]) {
    if (*v == "unlimited") {
      config.chunk_bytes = 0;
    } else {
      const std::optional<std::uint64_t> n = parse_size(*v);
      if (!n) return bad_size(kChunk, *v) + ", or unlimited";
      if (*n == 0 || *n % config.page_bytes != 0) {
        return item(kChunk, *v) + ": not a whole number of " + page_text + " pages (or chunk=unlimited)";
      }
      config.chunk_bytes = *n;
    }
  }
  if (const auto& v = values[kDuplicate]) {
    if (*v == "share") {
      config.duplicate = DuplicateRule::Share;
    } else if (*v == "refuse") {
      config.duplicate = DuplicateRule::Refuse;
    } else {
      return item(kDuplicate, *v) + ": refuse (as the real host: still open) or share";
    }
  }
  const std::string aperture_text = values[kAperture] ? item(kAperture, *values[kAperture])
                                                      : "aperture=" + format_size(config.aperture_bytes);
  if (config.aperture_bytes == 0) return aperture_text + ": the aperture must hold at least one page";
  if (config.aperture_bytes % config.page_bytes != 0) {
    return aperture_text + ": not a multiple of the " + page_text + " page";
  }
  if (config.aperture_bytes > space_bytes - config.base_bus_addr) {
    return aperture_text + " exceeds the " + space_text + " when placed at base=" +
           format_size(config.base_bus_addr);
  }
  return config;
}

std::string to_spec(const DartConfig& config) {
  std::string out = "aperture=" + format_size(config.aperture_bytes);
  out += ",slots=" + (config.unlimited_slots ? std::string("unlimited") : std::to_string(config.slots));
  out += ",page=" + format_size(config.page_bytes);
  out += ",alloc=" + std::string(to_string(config.alloc));
  out += ",base=" + format_size(config.base_bus_addr);
  out += ",variant=" + std::string(config.variant.name);
  out += ",chunk=" + (config.chunk_bytes == 0 ? std::string("unlimited") : format_size(config.chunk_bytes));
  out += config.duplicate == DuplicateRule::Refuse ? ",duplicate=refuse" : ",duplicate=share";
  return out;
}

std::span<const std::string_view> dart_spec_keys() { return kKeyNames; }

std::string_view dart_spec_help() {
  return "DART spec keys (comma-separated key=value, all optional):\n"
         "  aperture=SIZE|max   bus-address bytes the host will map at once (1536M, observed)\n"
         "  slots=N|unlimited   concurrent host mappings (65536, observed)\n"
         "  page=SIZE           DART page (16K on every Apple Silicon DART)\n"
         "  alloc=first-fit|best-fit|buddy|linux  aperture allocator (the host's is unknown):\n"
         "                      first-fit lowest free run; best-fit smallest; buddy power-of-two\n"
         "                      blocks aligned to their size; linux top-down, aligned to the\n"
         "                      request's power of two, as Linux's iova.c (2M -> 2M-aligned)\n"
         "  base=ADDR           first bus address used (16K: a null-DMA catch page, a guess)\n"
         "  variant=t8110|t8020 input address width 42 or 32 bits\n"
         "  chunk=SIZE|unlimited  the host answers a region's first chunk only (1536M, observed):\n"
         "                      a longer map comes back cut and is refused as truncated\n"
         "  duplicate=share|refuse  a map at a gpa already registered: share maps it again\n"
         "                      (default); refuse is the real host (still open)\n";
}

}  // namespace dartlab::dart
