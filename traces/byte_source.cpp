// SPDX-License-Identifier: MIT
#include "traces/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace dartlab::trace {
namespace {

// Compressed bytes read from the file at a time: as the plain readers' blocks.
constexpr std::size_t kCompressedBlockBytes = std::size_t{64} << 10;

// RFC 1952's ID1 ID2; RFC 8878's frame magic 0xFD2FB528, little-endian.
constexpr unsigned char kGzipMagic[2] = {0x1f, 0x8b};
constexpr unsigned char kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};

}  // namespace

// One compressed stream being decoded. Memory is fixed: the input block and the decoder's own
// window (32 KiB for gzip; for zstd as the frame says, at most libzstd's default limit of 2^27
// bytes, which `zstd --long` files need; a frame asking more is refused by libzstd).
struct ByteSource::Decoder {
  enum class Kind { Gzip, Zstd } kind;
  std::unique_ptr<unsigned char[]> in = std::make_unique<unsigned char[]>(kCompressedBlockBytes);
  std::size_t in_at = 0;
  std::size_t in_end = 0;
  bool in_eof = false;
  bool stream_done = false;  // a gzip member or zstd frame ended exactly at in_at
  bool failed = false;       // a damaged stream: every later read fails too
  z_stream z{};
  bool z_ready = false;
  ZSTD_DStream* zs = nullptr;

  explicit Decoder(Kind k) : kind(k) {
    if (kind == Kind::Gzip) {
      z_ready = inflateInit2(&z, 16 + MAX_WBITS) == Z_OK;  // 16: a gzip wrapper, not zlib's
    } else {
      zs = ZSTD_createDStream();
    }
  }
  ~Decoder() {
    if (z_ready) inflateEnd(&z);
    if (zs != nullptr) ZSTD_freeDStream(zs);
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  bool ready() const { return kind == Kind::Gzip ? z_ready : zs != nullptr; }
};

ByteSource::ByteSource(const std::string& path) : name_(path == "-" ? "<stdin>" : path) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      open_error_ = std::string("cannot open: ") + std::strerror(errno);
      return;
    }
    own_fd_ = true;
  }
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      open_error_ = "cannot read: Is a directory";
      return;
    }
    if (S_ISREG(st.st_mode)) {
      file_bytes_ = static_cast<std::uint64_t>(st.st_size);
      ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
  }
}

ByteSource::~ByteSource() {
  if (own_fd_) ::close(fd_);
}

ByteSource::ByteSource(ByteSource&& other) noexcept
    : name_(std::move(other.name_)),
      open_error_(std::move(other.open_error_)),
      read_error_(std::move(other.read_error_)),
      fd_(std::exchange(other.fd_, -1)),
      own_fd_(std::exchange(other.own_fd_, false)),
      detected_(other.detected_),
      file_bytes_(other.file_bytes_),
      bytes_read_(other.bytes_read_),
      fd_bytes_read_(other.fd_bytes_read_),
      peeked_(std::move(other.peeked_)),
      peeked_at_(other.peeked_at_),
      decoder_(std::move(other.decoder_)) {}

std::string_view ByteSource::compression() const {
  if (!decoder_) return {};
  return decoder_->kind == Decoder::Kind::Gzip ? "gzip" : "zstd";
}

std::uint64_t ByteSource::consumed(std::uint64_t plain_offset) const {
  if (decoder_) return fd_bytes_read_ - (decoder_->in_end - decoder_->in_at);
  return std::min(plain_offset, bytes_read_);
}

long ByteSource::read_fd(void* buf, std::size_t n) {
  ssize_t got;
  do {
    got = ::read(fd_, buf, n);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    read_error_ = std::string("read failed: ") + std::strerror(errno);
    return -1;
  }
  fd_bytes_read_ += static_cast<std::uint64_t>(got);
  return static_cast<long>(got);
}

void ByteSource::detect() {
  detected_ = true;
  if (!open_error_.empty()) return;
  unsigned char magic[4];
  std::size_t m = 0;
  while (m < sizeof magic) {
    const long got = read_fd(magic + m, sizeof magic - m);
    if (got < 0) {
      open_error_ = read_error_;  // nothing can be read: as if it had not opened
      return;
    }
    if (got == 0) break;
    m += static_cast<std::size_t>(got);
  }
  Decoder::Kind kind;
  if (m >= sizeof kGzipMagic && std::memcmp(magic, kGzipMagic, sizeof kGzipMagic) == 0) {
    kind = Decoder::Kind::Gzip;
  } else if (m == sizeof kZstdMagic && std::memcmp(magic, kZstdMagic, sizeof kZstdMagic) == 0) {
    kind = Decoder::Kind::Zstd;
  } else {
    peeked_.assign(reinterpret_cast<const char*>(magic), m);
    return;
  }
  decoder_ = std::make_unique<Decoder>(kind);
  if (!decoder_->ready()) {
    open_error_ = std::string("cannot start the ") + std::string(compression()) + " decompressor (out of memory?)";
    return;
  }
  std::memcpy(decoder_->in.get(), magic, m);
  decoder_->in_end = m;
}

long ByteSource::read_plain(void* buf, std::size_t n) {
  if (!decoder_) return read_fd(buf, n);
  Decoder& d = *decoder_;
  if (d.failed) return -1;
  auto fail = [&](std::string why) {
    d.failed = true;
    read_error_ = std::move(why);
    return -1L;
  };
  auto* out = static_cast<unsigned char*>(buf);
  std::size_t produced = 0;
  while (produced == 0 && n != 0) {
    if (d.in_at == d.in_end) {
      if (!d.in_eof) {
        const long got = read_fd(d.in.get(), kCompressedBlockBytes);
        if (got < 0) return fail(read_error_);
        d.in_at = 0;
        d.in_end = static_cast<std::size_t>(got);
        d.in_eof = got == 0;
      }
      if (d.in_at == d.in_end) {
        if (d.stream_done) return 0;
        return fail(std::string(compression()) + ": the file ends inside the compressed stream (truncated)");
      }
    }
    if (d.kind == Decoder::Kind::Gzip) {
      if (d.stream_done) {  // more bytes after a member: the next member (`cat a.gz b.gz` is one gzip file)
        inflateReset(&d.z);
        d.stream_done = false;
      }
      d.z.next_in = d.in.get() + d.in_at;
      d.z.avail_in = static_cast<uInt>(d.in_end - d.in_at);
      d.z.next_out = out;
      d.z.avail_out = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
      const uInt avail_out = d.z.avail_out;
      const int rc = inflate(&d.z, Z_NO_FLUSH);
      d.in_at = d.in_end - d.z.avail_in;
      produced = avail_out - d.z.avail_out;
      if (rc == Z_STREAM_END) {
        d.stream_done = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return fail(std::string("gzip: damaged stream (") + (d.z.msg != nullptr ? d.z.msg : "zlib error") + ")");
      }
    } else {
      ZSTD_inBuffer in{d.in.get(), d.in_end, d.in_at};
      ZSTD_outBuffer o{out, n, 0};
      const std::size_t r = ZSTD_decompressStream(d.zs, &o, &in);
      if (ZSTD_isError(r)) return fail(std::string("zstd: damaged stream (") + ZSTD_getErrorName(r) + ")");
      d.in_at = in.pos;
      produced = o.pos;
      d.stream_done = r == 0;  // a frame decoded and flushed whole; another may follow
    }
  }
  return static_cast<long>(produced);
}

long ByteSource::read(void* buf, std::size_t n) {
  if (!detected_) detect();
  if (!open_error_.empty()) {
    read_error_ = open_error_;
    errno = EBADF;
    return -1;
  }
  if (peeked_at_ < peeked_.size()) {
    const std::size_t k = std::min(n, peeked_.size() - peeked_at_);
    std::memcpy(buf, peeked_.data() + peeked_at_, k);
    peeked_at_ += k;
    bytes_read_ += k;
    return static_cast<long>(k);
  }
  const long got = read_plain(buf, n);
  if (got > 0) bytes_read_ += static_cast<std::uint64_t>(got);
  return got;
}

std::string_view ByteSource::peek(std::size_t n) {
  if (!detected_) detect();
  if (!open_error_.empty()) return {};
  while (peeked_.size() < n) {
    char chunk[4096];
    const long got = read_plain(chunk, std::min(sizeof chunk, n - peeked_.size()));
    if (got <= 0) break;  // end of input, or an error the first read() will meet again
    peeked_.append(chunk, static_cast<std::size_t>(got));
  }
  return std::string_view(peeked_).substr(0, n);
}

}  // namespace dartlab::trace
