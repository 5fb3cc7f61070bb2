// SPDX-License-Identifier: MIT
#include "traces/text_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "traces/text_format.hpp"

namespace dartlab::trace {
namespace {

// One fwrite per this many bytes; the same size the reader reads in.
constexpr std::size_t kBufferBytes = text::kBlockBytes;

}  // namespace

TextTraceWriter::TextTraceWriter(std::FILE* out)
    : out_(out), buf_(std::make_unique_for_overwrite<char[]>(kBufferBytes)) {
  put(text::kHeader);
  put("\n");
}

TextTraceWriter::~TextTraceWriter() { flush(); }

void TextTraceWriter::set_devices(std::span<const std::string> devices) {
  devices_.assign(devices.begin(), devices.end());
  // Imports may name devices with characters a DEVICE field cannot hold (an ftrace platform
  // device such as "soc:gpu@0"): they are written as '_', so the trace stays readable.
  for (std::string& name : devices_) {
    std::replace_if(name.begin(), name.end(), [](char c) { return !text::is_device_char(c); }, '_');
    if (name.empty()) name.push_back('_');
  }
}

void TextTraceWriter::drain() {
  if (used_ == 0) return;
  if (!failed_ && std::fwrite(buf_.get(), 1, used_, out_) != used_) failed_ = true;
  used_ = 0;
}

void TextTraceWriter::put(std::string_view s) {
  if (s.size() > kBufferBytes - used_) {
    drain();
    if (s.size() > kBufferBytes) {  // larger than the buffer: straight through
      if (!failed_ && std::fwrite(s.data(), 1, s.size(), out_) != s.size()) failed_ = true;
      return;
    }
  }
  std::memcpy(buf_.get() + used_, s.data(), s.size());
  used_ += s.size();
}

void TextTraceWriter::put_dec(std::uint64_t v) {
  char digits[20];
  auto r = std::to_chars(digits, digits + sizeof digits, v);
  put({digits, static_cast<std::size_t>(r.ptr - digits)});
}

void TextTraceWriter::put_hex(std::uint64_t v) {
  char digits[2 + 16] = {'0', 'x'};
  auto r = std::to_chars(digits + 2, digits + sizeof digits, v, 16);
  put({digits, static_cast<std::size_t>(r.ptr - digits)});
}

void TextTraceWriter::write(const Event& ev) {
  if (ev.has_time) {
    put("@");
    put_dec(ev.time_ns);
    put(" ");
  }
  put(text::keyword(ev.kind));
  put(" ");
  put_dec(ev.id);

  auto device = [&] {
    put(" ");
    if (ev.device < devices_.size()) {
      put(devices_[ev.device]);
    } else {
      put("dev");
      put_dec(ev.device);
    }
  };
  auto range = [&](std::uint64_t gpa, std::uint64_t len_bytes, std::string_view sep) {
    put_hex(gpa);
    put(sep);
    put_dec(len_bytes);
  };
  auto direction = [&] {
    put(" ");
    put(text::keyword(ev.dir));
  };

  switch (ev.kind) {
    case EventKind::Map:
      device();
      put(" ");
      range(ev.gpa, ev.len_bytes, " ");
      direction();
      break;
    case EventKind::Alloc:
      device();
      put(" ");
      range(ev.gpa, ev.len_bytes, " ");
      break;
    case EventKind::Access:
      put(" ");
      range(ev.gpa, ev.len_bytes, " ");
      direction();
      break;
    case EventKind::MapSg:
      device();
      direction();
      for (const Segment& s : ev.segments) {
        put(" ");
        range(s.gpa, s.len_bytes, ":");
      }
      break;
    case EventKind::Unmap:
    case EventKind::UnmapSg:
    case EventKind::Free:
      break;
  }
  if (ev.align_bytes != 0 && is_map_kind(ev.kind)) {
    put(" ");
    put(text::kAlignKey);
    put_dec(ev.align_bytes);
  }
  put("\n");
}

void TextTraceWriter::comment(std::string_view text) {
  for (;;) {
    std::size_t nl = text.find('\n');
    put(nl == 0 || text.empty() ? "#" : "# ");
    put(text.substr(0, nl));
    put("\n");
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

bool TextTraceWriter::flush() {
  drain();
  if (std::fflush(out_) != 0 || std::ferror(out_)) failed_ = true;
  return !failed_;
}

}  // namespace dartlab::trace
