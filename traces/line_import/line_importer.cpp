// SPDX-License-Identifier: MIT
#include "traces/line_import/line_importer.hpp"

#include <utility>

#include "traces/text_format.hpp"

namespace dartlab::trace {

LineImporter::LineImporter(ByteSource source, ReaderOptions options, std::size_t note_kinds)
    : source_(std::move(source)),
      options_(std::move(options)),
      notes_(note_kinds),
      lines_(source_, options_.block_bytes != 0 ? options_.block_bytes : text::kBlockBytes, text::kMaxLineBytes) {
  error_.file = source_.name();
  if (!source_.open_error().empty()) stop(source_.open_error());
}

LineImporter::~LineImporter() = default;

std::string LineImporter::locate(std::uint64_t line) const { return source_.name() + ':' + std::to_string(line); }

TraceReader::Status LineImporter::read_event(Event& ev) {
  for (;;) {
    if (pending_at_ < pending_.size()) {
      ev = pending_[pending_at_++];
      event_line_ = pending_line_;
      return Status::Event;
    }
    if (state_ == State::Error) return Status::Error;
    if (state_ == State::End) return Status::End;
    pending_.clear();
    pending_at_ = 0;
    std::string_view text;
    switch (lines_.next(text)) {
      case line_import::LineBuffer::Status::Line:
        pending_line_ = lines_.line_number();
        line_ = text;
        handle_line(text);
        break;
      case line_import::LineBuffer::Status::TooLong:
        pending_line_ = lines_.line_number();
        line_too_long();
        break;
      case line_import::LineBuffer::Status::End:
        state_ = State::End;
        at_end();
        break;
      case line_import::LineBuffer::Status::Error: stop(lines_.error()); break;
    }
  }
}

void LineImporter::malformed(const char* at, std::string message, bool skippable) {
  ParseError e;
  e.file = source_.name();
  e.line = lines_.line_number();
  e.column = at != nullptr ? static_cast<std::uint32_t>(at - line_.data() + 1) : 0;
  e.message = std::move(message);
  if (!warnings_.stops(e, skippable && options_.lenient)) return;
  pending_.clear();
  state_ = State::Error;
  error_ = std::move(e);
}

void LineImporter::stop(std::string message, std::uint64_t line, std::uint32_t column) {
  pending_.clear();
  state_ = State::Error;
  error_.line = line;
  error_.column = column;
  error_.message = std::move(message);
}

}  // namespace dartlab::trace
