#include "passthrough/mapper/policy.hpp"

#include <bit>
#include <initializer_list>
#include <string>

namespace dartlab::mapper {

std::string Policy::spec() const {
  switch (kind) {
    case PolicyKind::Direct: return "direct";
    case PolicyKind::Window: return "window:" + format_size(window_bytes);
  }
  return "?";
}

namespace {

// "policy 'SPEC': " followed by the parts. Built with append: GCC 12 -O3 warns falsely
// (-Wrestrict) on chains of std::string operator+.
std::string policy_error(std::string_view spec, std::initializer_list<std::string_view> parts) {
  std::string msg = "policy '";
  msg.append(spec).append("': ");
  for (const std::string_view p : parts) msg.append(p);
  return msg;
}

}  // namespace

std::variant<Policy, std::string> parse_policy(std::string_view spec) {
  if (spec == "direct") return Policy{PolicyKind::Direct, 0};
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  if (name == "window") {
    if (colon == std::string_view::npos || colon + 1 == spec.size())
      return policy_error(spec, {"window needs a size, as in window:256K"});
    const std::string_view size_text = spec.substr(colon + 1);
    std::uint64_t bytes = 0;
    if (!parse_size(size_text, bytes))
      return policy_error(spec, {"window size '", size_text,
                                 "' is not a size (decimal or 0x-hex, optional K/M/G suffix)"});
    if (!std::has_single_bit(bytes)) {
      const std::string count = std::to_string(bytes);
      return policy_error(spec, {"window size ", size_text, " (", count, " bytes) is not a power of two"});
    }
    if (bytes < Policy::kMinWindowBytes || bytes > Policy::kMaxWindowBytes)
      return policy_error(spec, {"window size must be between 16K and 1G, got ", size_text});
    return Policy{PolicyKind::Window, bytes};
  }
  if (name == "direct") return policy_error(spec, {"direct takes no parameters"});
  return policy_error(spec, {"unknown policy '", name, "' (known: direct, window:SIZE)"});
}

std::string_view policy_help() {
  return "Clustering policies (--policy SPEC):\n"
         "  direct      every DMA request gets its own host mapping, rounded out to 16 KiB pages.\n"
         "  window:S    guest-physical memory is cut into S-aligned windows (S a power of two,\n"
         "              16K..1G). A request that lies inside one window maps the whole window;\n"
         "              one that straddles windows or is larger than S is mapped directly.\n"
         "              Host mappings are reference-counted: the first user maps, the last unmaps.\n"
         "              window:256K is the guest module's default (window_shift=18).\n";
}

}  // namespace dartlab::mapper
