// SPDX-License-Identifier: MIT
// The `uvm` profile: the NVIDIA UVM driver's CPU chunks, mapped with dma_map_page in sizes of
// 4 KiB, 64 KiB or 2 MiB and churned as pages migrate, and its 16 MiB system-memory allocations
// in 2 MiB pages, whose 2 MiB alignment request is recorded (align=2M) so that a replay can
// count the mappings whose bus address breaks it. Shapes from BACKGROUND.md, "The guest side
// today" and "NVIDIA driver DMA shapes".
#include <vector>

#include "traces/gen/guest_memory.hpp"
#include "traces/gen/live_set.hpp"
#include "traces/gen/profiles.hpp"

namespace dartlab::trace::gen {

namespace {

constexpr unsigned kMediumOrder = 4;  // 64 KiB chunks
constexpr unsigned kLargeOrder = 9;   // 2 MiB chunks and pages
constexpr std::uint64_t kLargeBytes = order_bytes(kLargeOrder);

class UvmGenerator final : public Generator {
 public:
  explicit UvmGenerator(const GenParams& params);

  bool next(Event& ev) override;
  const std::vector<std::string>& devices() const override { return gpu_devices(); }
  std::uint64_t live() const override { return chunks_.size() + sysmem_.size(); }

 private:
  bool alloc_sysmem(Event& ev);
  bool map_chunk(Event& ev);
  void release(Event& ev);  // chunks first, then the sysmem allocations

  EventBudget budget_;
  Rng rng_;
  GuestMemory memory_;
  LiveSet chunks_;
  LiveBand band_;
  std::uint64_t large_below_;  // thresholds on one 32-bit draw: 2 MiB, then 64 KiB
  std::uint64_t medium_below_;
  std::uint32_t sysmem_left_;
  std::uint64_t sysmem_bytes_;
  unsigned sysmem_order_;  // 2 MiB pages, or 4 KiB under the kprobe workaround
  std::uint64_t sysmem_align_;
  std::uint64_t next_id_ = 1;
  std::vector<SgBuffer> sysmem_;
};

UvmGenerator::UvmGenerator(const GenParams& params)
    : budget_(params.events, params.drain),
      rng_(params.seed),
      memory_(params, params.uvm_live_chunks),
      chunks_(params.ram_base, params.uvm_live_chunks + params.uvm_live_chunks / 16 + 1),
      band_(params.uvm_live_chunks, params.uvm_live_chunks / 16),
      large_below_(Probability::of(params.uvm_2m_fraction).threshold),
      medium_below_(Probability::of(params.uvm_2m_fraction + params.uvm_64k_fraction).threshold),
      sysmem_left_(params.uvm_sysmem_allocs),
      sysmem_bytes_(params.uvm_sysmem_bytes),
      sysmem_order_(params.uvm_default_page_size ? 0 : kLargeOrder),
      sysmem_align_(params.uvm_default_page_size ? 0 : kLargeBytes) {
  sysmem_.reserve(params.uvm_sysmem_allocs);
}

bool UvmGenerator::next(Event& ev) {
  if (budget_.done()) return false;
  ev = Event{};
  if (budget_.must_drain(live())) {
    release(ev);
  } else if (sysmem_left_ > 0 && alloc_sysmem(ev)) {
    // the sysmem allocations first
  } else if (!(band_.wants_map(chunks_.size(), rng_) && map_chunk(ev))) {
    release(ev);  // guest RAM has room for a chunk when none is live (check_uvm_params)
  }
  budget_.count();
  return true;
}

bool UvmGenerator::alloc_sysmem(Event& ev) {
  --sysmem_left_;
  SgBuffer buffer{next_id_, {}};
  if (!alloc_sg_buffer(memory_, sysmem_bytes_, sysmem_order_, buffer.segments)) return false;
  ++next_id_;
  sysmem_.push_back(std::move(buffer));
  sysmem_.back().write_map(ev, sysmem_align_);
  return true;
}

bool UvmGenerator::map_chunk(Event& ev) {
  const std::uint32_t u = rng_.pair().high;
  const unsigned order = u < large_below_ ? kLargeOrder : u < medium_below_ ? kMediumOrder : 0;
  const auto gpa = memory_.alloc(order);
  if (!gpa) return false;
  // UVM maps its chunks for both directions: pages migrate either way.
  chunks_.add_range(next_id_++, EventKind::Map, Direction::Bidirectional, *gpa, order_bytes(order),
                    false, ev);
  // A 2 MiB chunk backs a 2 MiB GPU page: the driver wants its bus address 2 MiB aligned.
  if (order == kLargeOrder) ev.align_bytes = kLargeBytes;
  return true;
}

void UvmGenerator::release(Event& ev) {
  if (!chunks_.empty()) {
    chunks_.release(rng_.below(chunks_.size()), memory_, ev);
    return;
  }
  sysmem_.back().release(memory_, ev);
  sysmem_.pop_back();
}

}  // namespace

std::string check_uvm_params(const GenParams& params) {
  if (params.uvm_live_chunks == 0 || params.uvm_live_chunks > (std::uint64_t{1} << 26)) {
    return "--uvm-live-chunks must be 1 .. 2^26";
  }
  if (!is_fraction(params.uvm_64k_fraction) || !is_fraction(params.uvm_2m_fraction) ||
      params.uvm_64k_fraction + params.uvm_2m_fraction > 1.0) {
    return "--uvm-64k-fraction and --uvm-2m-fraction must be within 0 .. 1, their sum too";
  }
  if (params.uvm_sysmem_allocs > 4096) return "--uvm-sysmem-allocs must be 0 .. 4096";
  const std::uint64_t page_bytes = params.uvm_default_page_size ? kGuestPageBytes : kLargeBytes;
  if (params.uvm_sysmem_bytes == 0 || params.uvm_sysmem_bytes % kLargeBytes != 0 ||
      params.uvm_sysmem_bytes / page_bytes > kMaxSgSegments) {
    return "--uvm-sysmem must be a multiple of 2M and at most 4096 pages (16M with "
           "--uvm-default-page-size)";
  }
  // Half of RAM for the sysmem allocations at most, so that chunks always find room.
  if (params.uvm_sysmem_allocs * params.uvm_sysmem_bytes > params.guest_ram_bytes / 2) {
    return "--uvm-sysmem-allocs x --uvm-sysmem must fit in half of --guest-ram";
  }
  return {};
}

std::unique_ptr<Generator> make_uvm(const GenParams& params) {
  return std::make_unique<UvmGenerator>(params);
}

}  // namespace dartlab::trace::gen
