// SPDX-License-Identifier: MIT
#include "traces/ftrace/iommu_events.hpp"

#include <string>

namespace dartlab::trace::ftrace {
namespace {

using line_import::Num;

constexpr std::string_view kPrefix = "IOMMU:";

struct Parser {
  EventType type;
  IommuRecord& out;
  PayloadError& error;
  std::string_view name = type == EventType::IommuMap ? "map" : "unmap";

  [[gnu::cold]] IommuParse fail(const char* at, std::string message) {
    error.at = at;
    error.message = "iommu " + std::string(name) + ": " + std::move(message);
    return IommuParse::Error;
  }
  [[gnu::cold]] IommuParse bad_number(std::string_view what, std::string_view value, Num r, const char* syntax) {
    if (r == Num::Overflow) return fail(value.data(), std::string(what) + ' ' + quoted(value) + " does not fit in 64 bits");
    return fail(value.data(), std::string(what) + " must be " + syntax + ", got " + quoted(value));
  }

  IommuParse parse(std::string_view payload) {
    out = IommuRecord{};
    if (payload.substr(0, kPrefix.size()) != kPrefix) return IommuParse::NotIommu;
    line_import::Cursor c(payload.substr(kPrefix.size()));
    enum : unsigned { kIova = 1, kPaddr = 2, kSize = 4, kUnmapped = 8 };
    const unsigned required = kIova | kSize | (type == EventType::IommuMap ? kPaddr : kUnmapped);
    unsigned seen = 0;
    const char* size_at = nullptr;
    const char* paddr_at = nullptr;
    while (c.more()) {
      const char* at = c.pos();
      std::string_view key;
      if (!c.key(key)) {
        // "- 0x%016llx": the end of the IOVA range, printed since about 5.17.
        const std::string_view word = c.word();
        if (word != "-" || (seen & kIova) == 0) return fail(at, "unexpected " + quoted(word) + " (expected KEY=VALUE)");
        std::uint64_t end = 0;
        if (!c.more() || c.token().find('=') != std::string_view::npos) {
          return fail(c.pos(), "the end of the IOVA range is missing after '-'");
        }
        if (const Num r = c.hex(end); r != Num::Ok) return bad_number("IOVA range end", c.token(), r, "a hex number");
        continue;
      }
      unsigned id = 0;
      Num r = Num::Ok;
      const std::string_view value = c.token();
      if (key == "iova") {
        id = kIova;
        r = c.hex(out.iova);
        if (r != Num::Ok) return bad_number("iova", value, r, "a hex number");
      } else if (key == "paddr" && type == EventType::IommuMap) {
        id = kPaddr;
        paddr_at = value.data();
        r = c.hex(out.paddr);
        if (r != Num::Ok) return bad_number("paddr", value, r, "a hex number");
      } else if (key == "size") {
        id = kSize;
        size_at = value.data();
        r = c.dec(out.size_bytes);
        if (r != Num::Ok) return bad_number("size", value, r, "a decimal number");
      } else if (key == "unmapped_size" && type == EventType::IommuUnmap) {
        id = kUnmapped;
        r = c.dec(out.unmapped_bytes);
        if (r != Num::Ok) return bad_number("unmapped_size", value, r, "a decimal number");
      } else {
        c.word();  // a field no format prints
        continue;
      }
      if (seen & id) return fail(at, std::string(key) + "= appears twice");
      seen |= id;
    }
    if (const unsigned missing = required & ~seen; missing != 0) {
      const char* what = missing & kIova ? "iova" : missing & kPaddr ? "paddr" : missing & kSize ? "size" : "unmapped_size";
      return fail(c.end(), std::string(what) + "= is missing (the line may be cut short)");
    }
    if (type == EventType::IommuMap) {
      if (out.size_bytes == 0) return fail(size_at, "size must be > 0");
      if (out.paddr != 0 && out.size_bytes > 0 - out.paddr) {
        return fail(paddr_at, "range " + line_import::hex(out.paddr) + " + " + std::to_string(out.size_bytes) + " bytes ends past 2^64");
      }
    }
    return IommuParse::Ok;
  }
};

}  // namespace

IommuParse parse_iommu_payload(EventType type, std::string_view payload, IommuRecord& out, PayloadError& error) {
  Parser parser{type, out, error};
  return parser.parse(payload);
}

}  // namespace dartlab::trace::ftrace
