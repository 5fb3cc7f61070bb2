// SPDX-License-Identifier: MIT
#include "passthrough/mapper/policy.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

namespace dartlab::mapper {

namespace {

std::string fraction_text(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", f);
  return buf;
}

std::string hex_text(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string sizes_text(WindowSizes sizes) {
  std::string out;
  for (; sizes != 0; sizes &= sizes - 1) {
    if (!out.empty()) out += ',';
    out += format_size(std::uint64_t{1} << std::countr_zero(sizes));
  }
  return out;
}

// "policy 'SPEC': " followed by the parts. Built with append: GCC 12 -O3 warns falsely
// (-Wrestrict) on chains of std::string operator+.
std::string policy_error(std::string_view spec, std::initializer_list<std::string_view> parts) {
  std::string msg = "policy '";
  msg.append(spec).append("': ");
  for (const std::string_view p : parts) msg.append(p);
  return msg;
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> items;
  for (;;) {
    const auto comma = text.find(',');
    items.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return items;
    text.remove_prefix(comma + 1);
  }
}

// A window size: a power of two in [16K, 1G]. Empty error on success.
std::string parse_window_size(std::string_view spec, std::string_view what, std::string_view text,
                              std::uint64_t& bytes) {
  if (!parse_size(text, bytes))
    return policy_error(spec, {what, " '", text, "' is not a size (decimal or 0x-hex, optional K/M/G suffix)"});
  if (!std::has_single_bit(bytes)) {
    const std::string count = std::to_string(bytes);
    return policy_error(spec, {what, " ", text, " (", count, " bytes) is not a power of two"});
  }
  if (bytes < Policy::kMinWindowBytes || bytes > Policy::kMaxWindowBytes)
    return policy_error(spec, {what, " must be between 16K and 1G, got ", text});
  return {};
}

// A fraction in (0, 1]: "0.25" or "25%". Empty error on success.
std::string parse_fraction(std::string_view spec, std::string_view what, std::string_view text, double& out) {
  std::string_view number = text;
  double scale = 1;
  if (!number.empty() && number.back() == '%') {
    number.remove_suffix(1);
    scale = 100;
  }
  double v = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size() || !std::isfinite(v))
    return policy_error(spec, {what, " '", text, "' is not a fraction (as in 0.5 or 50%)"});
  v /= scale;
  if (!(v > 0 && v <= 1)) return policy_error(spec, {what, " must lie in (0, 1], got ", text});
  out = v;
  return {};
}

// A count: decimal, optional K/M/G suffix (powers of 1024, as sizes). Empty error on success.
std::string parse_count(std::string_view spec, std::string_view what, std::string_view text, std::uint64_t& out) {
  if (!parse_size(text, out)) return policy_error(spec, {what, " '", text, "' is not a number"});
  return {};
}

// "key=value" into its parts; false when there is no '='.
bool split_param(std::string_view item, std::string_view& key, std::string_view& value) {
  const auto eq = item.find('=');
  if (eq == std::string_view::npos) return false;
  key = item.substr(0, eq);
  value = item.substr(eq + 1);
  return true;
}

// The policy a wrapper (lazy, cap) wraps: `items` once the wrapper's own trailing parameters are
// taken off, as written (they may hold commas: multi:64K,256K). Neither wraps itself or bounce,
// whose one pool stays mapped and is one host mapping.
std::variant<Policy, std::string> parse_wrapped(std::string_view spec, std::string_view wrapper,
                                                const std::vector<std::string_view>& items) {
  const std::string_view inner_text(items.front().data(),
                                    static_cast<std::size_t>(items.back().data() + items.back().size() - items.front().data()));
  if (inner_text.starts_with(wrapper) && inner_text.substr(wrapper.size()).starts_with(":"))
    return policy_error(spec, {wrapper, " cannot wrap a ", wrapper, " policy"});
  auto inner = parse_policy(inner_text);
  if (auto* e = std::get_if<std::string>(&inner)) return policy_error(spec, {"inside ", wrapper, ": ", *e});
  if (std::get<Policy>(inner).kind == PolicyKind::Bounce)
    return policy_error(spec, {wrapper, " cannot wrap bounce: its pool is one host mapping, mapped once"});
  return inner;
}

std::variant<Policy, std::string> parse_multi(std::string_view spec, std::string_view args) {
  Policy p{PolicyKind::Multi, 0};
  if (args.empty()) return policy_error(spec, {"multi needs window sizes, as in multi:64K,256K,1M"});
  for (const std::string_view item : split_commas(args)) {
    std::string_view key, value;
    if (split_param(item, key, value)) {
      if (key != "promote") return policy_error(spec, {"multi has no parameter '", key, "' (known: promote)"});
      if (value == "off") {
        p.promote_fraction = 0;
      } else if (std::string e = parse_fraction(spec, "promote", value, p.promote_fraction); !e.empty()) {
        return e;
      }
      continue;
    }
    std::uint64_t bytes = 0;
    if (std::string e = parse_window_size(spec, "window size", item, bytes); !e.empty()) return e;
    const WindowSizes bit = WindowSizes{1} << std::countr_zero(bytes);
    if (p.multi_sizes & bit) return policy_error(spec, {"window size ", item, " is given twice"});
    p.multi_sizes |= bit;
  }
  if (p.multi_sizes == 0) return policy_error(spec, {"multi needs at least one window size"});
  return p;
}

std::variant<Policy, std::string> parse_adaptive(std::string_view spec, std::string_view args) {
  Policy p{PolicyKind::Adaptive, 256 * 1024};  // the guest module's default window (BACKGROUND.md)
  p.adaptive_min_bytes = 16 * 1024;             // one DART page: the finest a window can be
  p.adaptive_max_bytes = 4 * 1024 * 1024;       // a guess: 16x the default, past which bytes run out fast
  if (!args.empty()) {
    for (const std::string_view item : split_commas(args)) {
      std::string_view key, value;
      if (!split_param(item, key, value))
        return policy_error(spec, {"adaptive takes key=value parameters, got '", item, "'"});
      std::string e;
      if (key == "start") {
        e = parse_window_size(spec, "start", value, p.window_bytes);
      } else if (key == "min") {
        e = parse_window_size(spec, "min", value, p.adaptive_min_bytes);
      } else if (key == "max") {
        e = parse_window_size(spec, "max", value, p.adaptive_max_bytes);
      } else if (key == "high") {
        e = parse_fraction(spec, "high", value, p.high_water);
      } else if (key == "low") {
        e = parse_fraction(spec, "low", value, p.low_water);
      } else if (key == "every") {
        std::uint64_t n = 0;
        e = parse_count(spec, "every", value, n);
        if (e.empty() && (n == 0 || n > 1'000'000)) e = policy_error(spec, {"every must be 1..1000000, got ", value});
        p.decide_every = static_cast<std::uint32_t>(n);
      } else {
        e = policy_error(spec, {"adaptive has no parameter '", key, "' (known: start, min, max, high, low, every)"});
      }
      if (!e.empty()) return e;
    }
  }
  if (!(p.adaptive_min_bytes <= p.window_bytes && p.window_bytes <= p.adaptive_max_bytes))
    return policy_error(spec, {"adaptive needs min <= start <= max, got min=", format_size(p.adaptive_min_bytes),
                               " start=", format_size(p.window_bytes), " max=", format_size(p.adaptive_max_bytes)});
  if (!(p.low_water < p.high_water))
    return policy_error(spec, {"adaptive needs low < high, got low=", fraction_text(p.low_water),
                               " high=", fraction_text(p.high_water)});
  return p;
}

std::variant<Policy, std::string> parse_lazy(std::string_view spec, std::string_view args) {
  // The lazy parameters are the trailing keep=/bytes= items; everything before is the inner policy,
  // which may itself hold commas (multi:64K,256K).
  std::vector<std::string_view> items = split_commas(args);
  Policy bounds;
  bool have_bound = false;
  while (!items.empty()) {
    std::string_view key, value;
    if (!split_param(items.back(), key, value) || (key != "keep" && key != "bytes")) break;
    std::uint64_t& bound = key == "keep" ? bounds.lazy_keep : bounds.lazy_bytes;
    if (bound != Policy::kUnbounded) return policy_error(spec, {key, "= is given twice"});
    std::string e = parse_count(spec, key, value, bound);
    if (!e.empty()) return e;
    if (bound == Policy::kUnbounded) return policy_error(spec, {key, " is too large: ", value});
    have_bound = true;
    items.pop_back();
  }
  if (items.empty() || items.front().empty())
    return policy_error(spec, {"lazy needs a policy to wrap, as in lazy:window:256K,keep=1024"});
  if (!have_bound)
    return policy_error(spec, {"lazy needs a bound: keep=N (host mappings kept) and/or bytes=B (bytes kept)"});
  auto inner = parse_wrapped(spec, "lazy", items);
  if (auto* e = std::get_if<std::string>(&inner)) return std::move(*e);
  Policy p = std::get<Policy>(inner);
  if (p.cap_windows != 0)
    return policy_error(spec, {"cap goes outside lazy, as in cap:lazy:window:256K,keep=64,windows=5600"});
  p.lazy = true;
  p.lazy_keep = bounds.lazy_keep;
  p.lazy_bytes = bounds.lazy_bytes;
  return p;
}

std::variant<Policy, std::string> parse_bounce(std::string_view spec, std::string_view args) {
  Policy p{PolicyKind::Bounce, 0};
  p.bounce_pool_bytes = Policy::kDefaultBouncePoolBytes;
  bool have_size = false, have_at = false;
  if (!args.empty()) {
    for (const std::string_view item : split_commas(args)) {
      std::string_view key, value;
      if (!split_param(item, key, value)) {
        if (have_size || have_at) return policy_error(spec, {"bounce takes its size first, then at=GPA; got '", item, "'"});
        if (!parse_size(item, p.bounce_pool_bytes))
          return policy_error(spec, {"pool size '", item, "' is not a size (decimal or 0x-hex, optional K/M/G suffix)"});
        have_size = true;
        continue;
      }
      if (key != "at") return policy_error(spec, {"bounce has no parameter '", key, "' (known: at)"});
      if (have_at) return policy_error(spec, {"at= is given twice"});
      if (!parse_size(value, p.bounce_pool_gpa))
        return policy_error(spec, {"at '", value, "' is not an address (decimal or 0x-hex)"});
      have_at = true;
    }
  }
  const std::uint64_t page_mask = kHostPageBytes - 1;
  if (p.bounce_pool_bytes < kHostPageBytes || p.bounce_pool_bytes > Policy::kMaxBouncePoolBytes ||
      (p.bounce_pool_bytes & page_mask) != 0)
    return policy_error(spec, {"the pool must be a multiple of 16K between 16K and 64G, got ",
                               format_size(p.bounce_pool_bytes)});
  if ((p.bounce_pool_gpa & page_mask) != 0)
    return policy_error(spec, {"at must be 16K-aligned (the host maps whole pages), got ", hex_text(p.bounce_pool_gpa)});
  if (p.bounce_pool_gpa > ~std::uint64_t{0} - p.bounce_pool_bytes - page_mask)
    return policy_error(spec, {"the pool at ", hex_text(p.bounce_pool_gpa), " runs past the end of the address space"});
  return p;
}

std::variant<Policy, std::string> parse_cap(std::string_view spec, std::string_view args) {
  // The cap is the trailing windows= item; everything before is the policy it caps, which may
  // itself hold commas (multi:64K,256K, lazy:...,keep=64).
  std::vector<std::string_view> items = split_commas(args);
  std::string_view key, value;
  if (items.size() < 2 || !split_param(items.back(), key, value) || key != "windows")
    return policy_error(spec, {"cap needs a policy and its limit, as in cap:window:128K,windows=5600"});
  std::uint64_t windows = 0;
  if (std::string e = parse_count(spec, "windows", value, windows); !e.empty()) return e;
  if (windows == 0 || windows > Policy::kMaxCapWindows)
    return policy_error(spec, {"windows must be 1..", std::to_string(Policy::kMaxCapWindows), ", got ", value});
  items.pop_back();
  auto inner = parse_wrapped(spec, "cap", items);
  if (auto* e = std::get_if<std::string>(&inner)) return std::move(*e);
  Policy p = std::get<Policy>(inner);
  p.cap_windows = windows;
  return p;
}

}  // namespace

std::string Policy::spec() const {
  std::string s;
  switch (kind) {
    case PolicyKind::Direct: s = "direct"; break;
    case PolicyKind::Window: s = "window:" + format_size(window_bytes); break;
    case PolicyKind::Multi:
      s = "multi:" + sizes_text(multi_sizes);
      if (promote_fraction != 0.5)
        s += promote_fraction == 0 ? std::string(",promote=off") : ",promote=" + fraction_text(promote_fraction);
      break;
    case PolicyKind::Adaptive:
      s = "adaptive:start=" + format_size(window_bytes);
      s.append(",min=").append(format_size(adaptive_min_bytes));
      s.append(",max=").append(format_size(adaptive_max_bytes));
      s.append(",high=").append(fraction_text(high_water));
      s.append(",low=").append(fraction_text(low_water));
      s.append(",every=").append(std::to_string(decide_every));
      break;
    case PolicyKind::Bounce:
      s = "bounce:" + format_size(bounce_pool_bytes);
      if (bounce_pool_gpa != 0) s.append(",at=").append(hex_text(bounce_pool_gpa));
      break;
  }
  if (lazy) {
    s.insert(0, "lazy:");
    if (lazy_keep != kUnbounded) s.append(",keep=").append(std::to_string(lazy_keep));
    if (lazy_bytes != kUnbounded) s.append(",bytes=").append(format_size(lazy_bytes));
  }
  if (cap_windows != 0) {
    s.insert(0, "cap:");
    s.append(",windows=").append(std::to_string(cap_windows));
  }
  return s;
}

std::variant<Policy, std::string> parse_policy(std::string_view spec) {
  if (spec == "direct") return Policy{PolicyKind::Direct, 0};
  if (spec == "adaptive") return parse_adaptive(spec, {});
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const std::string_view args = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  if (name == "window") {
    if (args.empty()) return policy_error(spec, {"window needs a size, as in window:256K"});
    Policy p{PolicyKind::Window, 0};
    if (std::string e = parse_window_size(spec, "window size", args, p.window_bytes); !e.empty()) return e;
    return p;
  }
  if (name == "multi") return parse_multi(spec, args);
  if (name == "adaptive") return parse_adaptive(spec, args);
  if (name == "lazy") return parse_lazy(spec, args);
  if (name == "bounce") return parse_bounce(spec, args);
  if (name == "cap") return parse_cap(spec, args);
  if (name == "direct") return policy_error(spec, {"direct takes no parameters"});
  return policy_error(spec, {"unknown policy '", name,
                             "' (known: direct, window:SIZE, multi:SIZES, adaptive, lazy:POLICY, bounce:SIZE, cap:POLICY)"});
}

std::string_view policy_help() {
  return "Clustering policies (--policy SPEC):\n"
         "  direct      every DMA request gets its own host mapping, rounded out to 16 KiB pages.\n"
         "  window:S    guest-physical memory is cut into S-aligned windows (S a power of two,\n"
         "              16K..1G). A request that lies inside one window maps the whole window;\n"
         "              one that straddles windows or is larger than S is mapped directly.\n"
         "              Host mappings are reference-counted: the first user maps, the last unmaps.\n"
         "              window:256K is the guest module's default (window_shift=18).\n"
         "  multi:S1,S2,...[,promote=F]\n"
         "              several window sizes. A request is served by any live window that holds\n"
         "              it (the largest first); otherwise it maps the smallest listed window that\n"
         "              holds it, or a direct mapping. Promotion: when the live smaller windows\n"
         "              inside a larger listed window's region already cover F of it (default 0.5;\n"
         "              promote=off disables), the larger window is mapped instead, so a dense\n"
         "              region costs one slot, and the small windows drain as they are released.\n"
         "              Use when requests are dense in places and sparse elsewhere: small windows\n"
         "              keep sparse memory cheap in bytes, promotion keeps dense memory cheap in slots.\n"
         "  adaptive[:start=S,min=S,max=S,high=F,low=F,every=N]\n"
         "              one window size at a time (start 256K, within min 16K..max 4M), revised\n"
         "              every N new host mappings (64) from the host's pressure: when slots in use\n"
         "              pass high (0.9) of the limit while bytes do not, windows double (fewer\n"
         "              slots, more bytes); when bytes pass high while slots do not, they halve;\n"
         "              when both are under low (0.5), the size drifts back to start. A refused\n"
         "              map adapts at once (slots: coarser; bytes or fragmentation: finer) and is\n"
         "              tried once more. Any live window of a size in range serves a request.\n"
         "              Use when the workload is unknown or shifts between slot- and byte-bound.\n"
         "  lazy:POLICY,keep=N|bytes=B\n"
         "              POLICY, but a host mapping whose last request is released stays mapped\n"
         "              in an LRU (at most N of them and B bytes; either bound may be given, or\n"
         "              both) and is reused by the next request it holds, saving a host call.\n"
         "              Evicted (least recently released first) past a bound, when the host's\n"
         "              slots or bytes pass 95% of its limits, and before a refused map is retried.\n"
         "              Costs exposure: the device can still reach the released memory.\n"
         "              Use when the driver maps and unmaps the same buffers over and over.\n"
         "  bounce[:SIZE][,at=GPA]\n"
         "              the host's bounce-buffer mode (dma-bounce-size): one pool of SIZE (default\n"
         "              64M, a multiple of 16K) at guest-physical GPA (default 0) is mapped once, at\n"
         "              the first request, and stays mapped; each request takes the lowest free run\n"
         "              of 2 KiB slots that holds it (Linux swiotlb's slot) and its bytes are copied\n"
         "              in and out, as a restricted-dma-pool does. A request no free run holds is\n"
         "              refused (reason pool). One host mapping ever, and the device reaches the\n"
         "              whole pool all the time: the baseline windows are judged against. Timed\n"
         "              replays charge the copies at the host memory's bandwidth.\n"
         "  cap:POLICY,windows=N\n"
         "              POLICY with at most N live host mappings (kept ones included), as a\n"
         "              downstream guest module caps them at 5600. A request that needs one more\n"
         "              waits: a replay serves waiting requests in trace order at the first release\n"
         "              that makes room, counts the waits and the longest (in events), and an unmap\n"
         "              of a request still waiting cancels it. The QEMU device cannot wait inside\n"
         "              a doorbell: there the request is refused (reason cap) and the guest tries\n"
         "              again after a release. Use to see what a cap costs a workload in waits.\n";
}

}  // namespace dartlab::mapper
