// SPDX-License-Identifier: MIT
// The `llm` profile (formerly `buffers`): a few very large pinned buffers set up first (weights
// staging: the resource manager's dma_map_sg over an allocation's chunks, contiguous runs
// merged) and coherent allocations, then steady small per-step transfers within the buffers.
// Shapes from BACKGROUND.md, "NVIDIA driver DMA shapes".
#include <algorithm>
#include <bit>
#include <vector>

#include "traces/gen/guest_memory.hpp"
#include "traces/gen/profiles.hpp"

namespace dartlab::trace::gen {

namespace {

// Transfers: uploads (token ids, prompts) and readbacks (logits). A guess.
constexpr Probability kToDevice = Probability::of(0.6);
constexpr Probability kHalf = Probability::of(0.5);

struct Buffer {
  SgBuffer sg;                      // the runs, contiguous ones merged
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

class LlmGenerator final : public Generator {
 public:
  explicit LlmGenerator(const GenParams& params);

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
  unsigned chunk_order_;
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

// The driver keeps about one allocation per chunk of its buffers live, for the guest's own
// working set to scale with (guest_memory.hpp).
std::uint64_t expected_chunks(const GenParams& params) {
  return (params.buffer_count * ((params.buffer_min_bytes + params.buffer_max_bytes) / 2)) /
             params.chunk_bytes +
         params.big_alloc_count;
}

LlmGenerator::LlmGenerator(const GenParams& params)
    : budget_(params.events, params.drain),
      rng_(params.seed),
      memory_(params, expected_chunks(params)),
      params_(params),
      chunk_order_(order_for(params.chunk_bytes)),
      buffers_left_(params.buffer_count),
      allocs_left_(params.big_alloc_count),
      transfer_sizes_(static_cast<std::uint32_t>(std::countr_zero(params.transfer_max_bytes) -
                                                 std::countr_zero(params.transfer_min_bytes) + 1)),
      transfers_(params.transfers_in_flight) {
  buffers_.reserve(params.buffer_count);
  allocations_.reserve(params.big_alloc_count);
}

bool LlmGenerator::next(Event& ev) {
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

bool LlmGenerator::set_up(Event& ev) {
  // Coherent allocations first: they need whole buddy blocks, easiest to find in empty RAM.
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

bool LlmGenerator::alloc_big(Event& ev) {
  const auto gpa = memory_.alloc(order_for(params_.big_alloc_bytes));
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

bool LlmGenerator::map_buffer(Event& ev) {
  const std::uint64_t chunks = rng_.between(params_.buffer_min_bytes / params_.chunk_bytes,
                                            params_.buffer_max_bytes / params_.chunk_bytes);
  Buffer buffer;
  if (!alloc_sg_buffer(memory_, chunks * params_.chunk_bytes, chunk_order_, buffer.sg.segments)) {
    return false;  // no room: the workload goes on without it
  }
  std::uint64_t end = 0;
  buffer.ends.reserve(buffer.sg.segments.size());
  for (const Segment& segment : buffer.sg.segments) {
    buffer.ends.push_back(end += segment.len_bytes);
  }
  buffer.sg.id = next_id_++;
  buffers_.push_back(std::move(buffer));
  buffers_.back().sg.write_map(ev);
  return true;
}

void LlmGenerator::map_transfer(Event& ev) {
  // A place in a buffer, by bytes, so that long runs are chosen as often as their size says.
  // There is a buffer: check_llm_params keeps the setup within half of guest RAM.
  const Buffer& buffer = buffers_[rng_.below(buffers_.size())];
  const std::uint64_t offset = rng_.between(0, buffer.ends.back() - 1);
  const Segment& segment = buffer.sg.segments[segment_at(buffer.ends, offset)];

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

void LlmGenerator::unmap_transfer(Event& ev) {
  const Transfer& transfer = transfers_[transfers_head_];
  if (++transfers_head_ == transfers_.size()) transfers_head_ = 0;
  --transfers_live_;
  ev.kind = EventKind::Unmap;
  ev.dir = transfer.dir;
  ev.id = transfer.id;
}

void LlmGenerator::release(Event& ev) {
  if (transfers_live_ > 0) {
    unmap_transfer(ev);
  } else if (!allocations_.empty()) {
    const Allocation& allocation = allocations_.back();
    memory_.free_range(allocation.gpa, allocation.len_bytes);
    ev.kind = EventKind::Free;
    ev.dir = Direction::Bidirectional;
    ev.id = allocation.id;
    allocations_.pop_back();
  } else {
    buffers_.back().sg.release(memory_, ev);
    buffers_.pop_back();
  }
}

}  // namespace

std::string check_chunk_params(const GenParams& params) {
  if (!std::has_single_bit(params.chunk_bytes) || params.chunk_bytes < kGuestPageBytes ||
      params.chunk_bytes > order_bytes(kMaxPageOrder)) {
    return "--chunk must be a power of two, 4K .. 4M (one buddy block)";
  }
  return {};
}

std::string check_llm_params(const GenParams& params) {
  if (std::string reason = check_chunk_params(params); !reason.empty()) return reason;
  if (params.buffer_count == 0 || params.buffer_count > 4096) {
    return "--buffer-count must be 1 .. 4096";
  }
  if (params.buffer_min_bytes == 0 || params.buffer_min_bytes % params.chunk_bytes != 0 ||
      params.buffer_max_bytes % params.chunk_bytes != 0 ||
      params.buffer_min_bytes > params.buffer_max_bytes) {
    return "--buffer-min and --buffer-max must be whole chunks (--chunk), 0 < min <= max";
  }
  if (params.buffer_max_bytes / params.chunk_bytes > kMaxSgSegments) {
    return "--buffer-max must be at most 4096 chunks (--chunk), the most a map_sg may have";
  }
  if (params.big_alloc_count > 4096) return "--big-alloc-count must be 0 .. 4096";
  if (params.big_alloc_count > 0 &&
      (!std::has_single_bit(params.big_alloc_bytes) || params.big_alloc_bytes < kGuestPageBytes ||
       params.big_alloc_bytes > order_bytes(kMaxPageOrder))) {
    return "--big-alloc must be a power of two, 4K .. 4M (one buddy block)";
  }
  if (!std::has_single_bit(params.transfer_min_bytes) ||
      !std::has_single_bit(params.transfer_max_bytes) ||
      params.transfer_min_bytes < kGuestPageBytes ||
      params.transfer_min_bytes > params.transfer_max_bytes) {
    return "--transfer-min and --transfer-max must be powers of two, 4K <= min <= max";
  }
  if (params.transfers_in_flight == 0 || params.transfers_in_flight > (1u << 20)) {
    return "--transfers-in-flight must be 1 .. 2^20";
  }
  // Half of RAM for the worst case, so that fragmentation never starves the setup. The counts
  // and sizes are bounded above, so the products cannot overflow.
  const std::uint64_t worst = params.buffer_count * params.buffer_max_bytes +
                              params.big_alloc_count * params.big_alloc_bytes;
  if (worst > params.guest_ram_bytes / 2) {
    return "--buffer-count x --buffer-max + --big-alloc-count x --big-alloc must fit in half of "
           "--guest-ram";
  }
  return {};
}

std::unique_ptr<Generator> make_llm(const GenParams& params) {
  return std::make_unique<LlmGenerator>(params);
}

}  // namespace dartlab::trace::gen
