// The `buffers` profile: a few large long-lived buffers set up first (the resource manager's
// dma_map_sg over an allocation's pages, and coherent allocations), then small transfers within
// them. Shapes from BACKGROUND.md, "NVIDIA driver DMA shapes".
#include <algorithm>
#include <bit>
#include <vector>

#include "traces/gen/profiles.hpp"
#include "traces/gen/rng.hpp"

namespace dartlab::trace::gen {

namespace {

// Runs of a buffer: 16 KiB << k, k uniform in 0..7, so 16 KiB .. 2 MiB. A guess at how
// fragmented the guest's free memory is when the driver allocates.
constexpr std::uint64_t kRunMinBytes = std::uint64_t{16} << 10;
constexpr std::uint32_t kRunSizes = 8;
// Transfers: uploads and readbacks. A guess.
constexpr Probability kToDevice = Probability::of(0.6);
constexpr Probability kHalf = Probability::of(0.5);

struct Buffer {
  std::uint64_t id = 0;
  std::vector<Segment> segments;    // the runs, contiguous ones merged
  std::vector<std::uint64_t> ends;  // byte offset in the buffer where each segment ends
};

struct Allocation {
  std::uint64_t id = 0;
  std::uint64_t gpa = 0;
  std::uint64_t len_bytes = 0;
};

struct Transfer {
  std::uint64_t id = 0;
  Direction dir = Direction::ToDevice;
};

// Index of the segment that holds byte `offset` of a buffer: the first end above it. Without
// branches: offsets are random, and std::upper_bound's branches would mispredict half the time.
std::size_t segment_at(const std::vector<std::uint64_t>& ends, std::uint64_t offset) {
  const std::uint64_t* first = ends.data();
  std::size_t len = ends.size();
  while (len > 1) {
    const std::size_t half = len / 2;
    first = first[half - 1] <= offset ? first + half : first;
    len -= half;
  }
  return static_cast<std::size_t>(first - ends.data()) + (*first <= offset ? 1 : 0);
}

class BuffersGenerator final : public Generator {
 public:
  explicit BuffersGenerator(const GenParams& params);

  bool next(Event& ev) override;
  const std::vector<std::string>& devices() const override { return gpu_devices(); }
  std::uint64_t live() const override {
    return buffers_.size() + allocations_.size() + transfers_live_;
  }

 private:
  bool set_up(Event& ev);  // false once the setup is over
  bool map_buffer(Event& ev);
  bool alloc_big(Event& ev);
  void map_transfer(Event& ev);
  void unmap_transfer(Event& ev);
  void release(Event& ev);  // the drain: transfers, then allocations, then buffers

  EventBudget budget_;
  Rng rng_;
  GuestMemory memory_;
  GenParams params_;
  std::uint32_t buffers_left_;
  std::uint32_t allocs_left_;
  std::uint32_t transfer_sizes_;  // transfer_min_bytes << k for k below this
  std::uint64_t next_id_ = 1;
  std::vector<Buffer> buffers_;
  std::vector<Allocation> allocations_;
  std::vector<Transfer> transfers_;  // a ring of transfers_in_flight, oldest at transfers_head_
  std::uint32_t transfers_head_ = 0;
  std::uint32_t transfers_live_ = 0;
};

BuffersGenerator::BuffersGenerator(const GenParams& params)
    : budget_(params.events, params.drain),
      rng_(params.seed),
      memory_(make_guest_memory(params)),
      params_(params),
      buffers_left_(params.buffer_count),
      allocs_left_(params.big_alloc_count),
      transfer_sizes_(static_cast<std::uint32_t>(std::countr_zero(params.transfer_max_bytes) -
                                                 std::countr_zero(params.transfer_min_bytes) + 1)),
      transfers_(params.transfers_in_flight) {
  buffers_.reserve(params.buffer_count);
  allocations_.reserve(params.big_alloc_count);
}

bool BuffersGenerator::next(Event& ev) {
  if (budget_.done()) return false;
  ev = Event{};
  if (budget_.must_drain(live())) {
    release(ev);
  } else if (!set_up(ev)) {
    const bool map =
        transfers_live_ == 0 || (transfers_live_ < transfers_.size() && rng_.chance(kHalf));
    if (map) {
      map_transfer(ev);
    } else {
      unmap_transfer(ev);
    }
  }
  budget_.count();
  return true;
}

bool BuffersGenerator::set_up(Event& ev) {
  // Coherent allocations first: they need whole free clusters, easiest to find in empty RAM.
  while (allocs_left_ > 0) {
    --allocs_left_;
    if (alloc_big(ev)) return true;
  }
  while (buffers_left_ > 0) {
    --buffers_left_;
    if (map_buffer(ev)) return true;
  }
  return false;
}

bool BuffersGenerator::alloc_big(Event& ev) {
  const auto gpa = memory_.alloc_block(rng_, params_.big_alloc_bytes);
  if (!gpa) return false;  // no room: the workload goes on without it
  const Allocation allocation{next_id_++, *gpa, params_.big_alloc_bytes};
  allocations_.push_back(allocation);
  ev.kind = EventKind::Alloc;
  ev.dir = Direction::Bidirectional;
  ev.id = allocation.id;
  ev.gpa = allocation.gpa;
  ev.len_bytes = allocation.len_bytes;
  return true;
}

bool BuffersGenerator::map_buffer(Event& ev) {
  const std::uint64_t units = rng_.between(params_.buffer_min_bytes / kRunMinBytes,
                                           params_.buffer_max_bytes / kRunMinBytes);
  std::uint64_t left = units * kRunMinBytes;
  Buffer buffer;
  std::uint64_t bytes = 0;
  while (left > 0) {
    const std::uint64_t run = std::min(kRunMinBytes << rng_.below(kRunSizes), std::bit_floor(left));
    const auto gpa = memory_.alloc_block(rng_, run);
    if (!gpa) break;  // no room: the buffer stays as large as it got
    if (!buffer.segments.empty() &&
        buffer.segments.back().gpa + buffer.segments.back().len_bytes == *gpa) {
      buffer.segments.back().len_bytes += run;  // contiguous runs merge, as the driver does
      buffer.ends.back() += run;
    } else {
      buffer.segments.push_back(Segment{*gpa, run});
      buffer.ends.push_back(bytes + run);
    }
    bytes += run;
    left -= run;
  }
  if (buffer.segments.empty()) return false;
  buffer.id = next_id_++;
  buffers_.push_back(std::move(buffer));
  ev.kind = EventKind::MapSg;
  ev.dir = Direction::Bidirectional;
  ev.id = buffers_.back().id;
  ev.segments = buffers_.back().segments;
  return true;
}

void BuffersGenerator::map_transfer(Event& ev) {
  // A place in a buffer, by bytes, so that long runs are chosen as often as their size says.
  // There is a buffer: check_buffers_params keeps the setup within half of guest RAM, so the
  // first run of the first buffer always finds room.
  const Buffer& buffer = buffers_[rng_.below(buffers_.size())];
  const std::uint64_t offset = rng_.between(0, buffer.ends.back() - 1);
  const Segment& segment = buffer.segments[segment_at(buffer.ends, offset)];

  std::uint64_t len = params_.transfer_min_bytes << rng_.below(transfer_sizes_);
  std::uint64_t gpa = segment.gpa;
  if (segment.len_bytes > len) {
    gpa += rng_.between(0, (segment.len_bytes - len) / kGuestPageBytes) * kGuestPageBytes;
  } else {
    len = segment.len_bytes;  // a transfer stays within one run
  }
  const Transfer transfer{next_id_++,
                          rng_.chance(kToDevice) ? Direction::ToDevice : Direction::FromDevice};
  std::size_t slot = transfers_head_ + transfers_live_;
  if (slot >= transfers_.size()) slot -= transfers_.size();
  transfers_[slot] = transfer;
  ++transfers_live_;
  ev.kind = EventKind::Map;
  ev.dir = transfer.dir;
  ev.id = transfer.id;
  ev.gpa = gpa;
  ev.len_bytes = len;
}

void BuffersGenerator::unmap_transfer(Event& ev) {
  const Transfer& transfer = transfers_[transfers_head_];
  if (++transfers_head_ == transfers_.size()) transfers_head_ = 0;
  --transfers_live_;
  ev.kind = EventKind::Unmap;
  ev.dir = transfer.dir;
  ev.id = transfer.id;
}

void BuffersGenerator::release(Event& ev) {
  if (transfers_live_ > 0) {
    unmap_transfer(ev);
  } else if (!allocations_.empty()) {
    const Allocation& allocation = allocations_.back();
    memory_.free(allocation.gpa, allocation.len_bytes);
    ev.kind = EventKind::Free;
    ev.dir = Direction::Bidirectional;
    ev.id = allocation.id;
    allocations_.pop_back();
  } else {
    const Buffer& buffer = buffers_.back();
    for (const Segment& segment : buffer.segments) memory_.free(segment.gpa, segment.len_bytes);
    ev.kind = EventKind::UnmapSg;
    ev.dir = Direction::Bidirectional;
    ev.id = buffer.id;
    buffers_.pop_back();
  }
}

}  // namespace

std::string check_buffers_params(const GenParams& params) {
  constexpr std::uint64_t kGranule = kRunMinBytes;
  if (params.buffer_count == 0 || params.buffer_count > 4096)
    return "buffer_count must be 1 .. 4096";
  if (params.buffer_min_bytes < kGranule || params.buffer_min_bytes % kGranule != 0 ||
      params.buffer_max_bytes % kGranule != 0 ||
      params.buffer_min_bytes > params.buffer_max_bytes) {
    return "buffer_min_bytes and buffer_max_bytes must be multiples of 16 KiB, min >= 16 KiB, "
           "min <= max";
  }
  if (params.big_alloc_count > 0 &&
      (!std::has_single_bit(params.big_alloc_bytes) || params.big_alloc_bytes < kGuestPageBytes)) {
    return "big_alloc_bytes must be a power of two >= 4 KiB";
  }
  if (!std::has_single_bit(params.transfer_min_bytes) ||
      !std::has_single_bit(params.transfer_max_bytes) ||
      params.transfer_min_bytes < kGuestPageBytes ||
      params.transfer_min_bytes > params.transfer_max_bytes) {
    return "transfer_min_bytes and transfer_max_bytes must be powers of two, 4 KiB <= min <= max";
  }
  if (params.transfers_in_flight == 0 || params.transfers_in_flight > (1u << 20)) {
    return "transfers_in_flight must be 1 .. 2^20";
  }
  // Half of RAM for the worst case, so that fragmentation never starves the setup. The sizes are
  // bounded above, so the products cannot overflow.
  const std::uint64_t worst =
      params.buffer_count * std::min(params.buffer_max_bytes, std::uint64_t{1} << 40) +
      params.big_alloc_count * std::min(params.big_alloc_bytes, std::uint64_t{1} << 40);
  if (worst > params.guest_ram_bytes / 2) {
    return "buffer_count * buffer_max_bytes + big_alloc_count * big_alloc_bytes must fit in half "
           "of guest_ram_bytes";
  }
  return {};
}

std::unique_ptr<Generator> make_buffers(const GenParams& params) {
  return std::make_unique<BuffersGenerator>(params);
}

}  // namespace dartlab::trace::gen
