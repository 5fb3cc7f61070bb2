#include "traces/gen/guest_memory.hpp"

#include <algorithm>
#include <bit>

namespace dartlab::trace::gen {

namespace {

constexpr std::uint32_t kBitsPerWord = 64;

// Bits at the multiples of 1, 2, 4 .. 32.
constexpr std::uint64_t kAlignedBits[] = {
    0xffff'ffff'ffff'ffffULL, 0x5555'5555'5555'5555ULL, 0x1111'1111'1111'1111ULL,
    0x0101'0101'0101'0101ULL, 0x0001'0001'0001'0001ULL, 0x0000'0001'0000'0001ULL,
};

// Bit i of the result is set when pages i .. i+pages-1 of the word are all free and i is a
// multiple of pages (pages a power of two below 64).
std::uint64_t free_aligned_runs(std::uint64_t word, std::uint32_t pages) {
  std::uint64_t runs = ~word;
  for (std::uint32_t shift = 1; shift < pages; shift <<= 1) runs &= runs >> shift;
  return runs & kAlignedBits[std::countr_zero(pages)];
}

}  // namespace

GuestMemory::GuestMemory(std::uint64_t ram_base, std::uint64_t ram_bytes,
                         std::uint64_t cluster_bytes, std::uint32_t fill_pages)
    : ram_base_(ram_base),
      cluster_pages_(static_cast<std::uint32_t>(cluster_bytes / kGuestPageBytes)),
      cluster_shift_(static_cast<std::uint32_t>(std::countr_zero(cluster_pages_))),
      words_per_cluster_(cluster_pages_ / kBitsPerWord),
      cluster_count_(static_cast<std::uint32_t>(ram_bytes / cluster_bytes)),
      fill_pages_(fill_pages),
      block_cursor_(cluster_count_ / 2),  // apart from the clustered pages, as a start
      bitmap_(static_cast<std::size_t>(cluster_count_) * words_per_cluster_, 0),
      used_in_cluster_(cluster_count_, 0) {}

std::optional<std::uint32_t> GuestMemory::find_free(std::uint32_t cluster, std::uint32_t pages,
                                                    std::uint32_t start_page) const {
  const std::uint64_t* words = &bitmap_[static_cast<std::size_t>(cluster) * words_per_cluster_];
  if (pages == 1) {  // most requests: the first free page at or after start, wrapping
    const std::uint32_t first_word = start_page / kBitsPerWord;
    std::uint64_t free = ~words[first_word] & (~std::uint64_t{0} << (start_page % kBitsPerWord));
    for (std::uint32_t i = 0, w = first_word;; free = ~words[w]) {
      if (free != 0) return w * kBitsPerWord + static_cast<std::uint32_t>(std::countr_zero(free));
      if (++i > words_per_cluster_) return std::nullopt;
      w = (w + 1) & (words_per_cluster_ - 1);
    }
  }
  if (pages >= kBitsPerWord) {
    const std::uint32_t group_words = pages / kBitsPerWord;
    const std::uint32_t groups = words_per_cluster_ / group_words;
    const std::uint32_t first = start_page / pages;
    for (std::uint32_t i = 0; i < groups; ++i) {
      const std::uint32_t group = (first + i) & (groups - 1);
      const std::uint64_t* w = words + static_cast<std::size_t>(group) * group_words;
      if (std::all_of(w, w + group_words, [](std::uint64_t x) { return x == 0; })) {
        return group * pages;
      }
    }
    return std::nullopt;
  }
  const std::uint32_t first_word = start_page / kBitsPerWord;
  const std::uint32_t first_bit = start_page % kBitsPerWord;
  // One more step than there are words: the first word is seen again for the bits below start.
  for (std::uint32_t i = 0; i <= words_per_cluster_; ++i) {
    const std::uint32_t w = (first_word + i) & (words_per_cluster_ - 1);
    std::uint64_t runs = free_aligned_runs(words[w], pages);
    if (i == 0) runs &= ~std::uint64_t{0} << first_bit;
    if (runs != 0) return w * kBitsPerWord + static_cast<std::uint32_t>(std::countr_zero(runs));
  }
  return std::nullopt;
}

void GuestMemory::set_range(std::uint64_t first_page, std::uint64_t pages, bool in_use) {
  used_pages_ = in_use ? used_pages_ + pages : used_pages_ - pages;
  // Words never straddle clusters: a cluster is a whole number of words.
  while (pages > 0) {
    const std::uint64_t bit = first_page % kBitsPerWord;
    const std::uint64_t n = std::min<std::uint64_t>(kBitsPerWord - bit, pages);
    const std::uint64_t mask = (~std::uint64_t{0} >> (kBitsPerWord - n)) << bit;
    std::uint64_t& word = bitmap_[first_page / kBitsPerWord];
    std::uint32_t& cluster_used = used_in_cluster_[first_page >> cluster_shift_];
    word = in_use ? word | mask : word & ~mask;
    cluster_used = in_use ? cluster_used + static_cast<std::uint32_t>(n)
                          : cluster_used - static_cast<std::uint32_t>(n);
    first_page += n;
    pages -= n;
  }
}

std::uint64_t GuestMemory::take(std::uint32_t cluster, std::uint32_t page, std::uint32_t pages) {
  const std::uint64_t first_page = static_cast<std::uint64_t>(cluster) * cluster_pages_ + page;
  if (pages == 1) {  // most requests: one bit
    bitmap_[first_page / kBitsPerWord] |= std::uint64_t{1} << (first_page % kBitsPerWord);
    ++used_in_cluster_[cluster];
    ++used_pages_;
  } else {
    set_range(first_page, pages, true);
  }
  return ram_base_ + first_page * kGuestPageBytes;
}

std::optional<std::uint64_t> GuestMemory::alloc_pages_slow(Rng& rng, std::uint32_t pages) {
  if (auto gpa = alloc_pages_in(page_cursor_, rng, pages)) return gpa;
  for (std::uint32_t step = 1; step < cluster_count_; ++step) {
    const std::uint32_t cluster = (page_cursor_ + step) % cluster_count_;
    if (used_in_cluster_[cluster] > fill_pages_ / 2) continue;
    if (auto gpa = alloc_pages_in(cluster, rng, pages)) {
      page_cursor_ = cluster;
      return gpa;
    }
  }
  // Every cluster is past its fill mark: take room wherever there is some.
  return alloc_in_cluster(rng, pages);
}

std::optional<std::uint64_t> GuestMemory::alloc_pages_in(std::uint32_t cluster, Rng& rng,
                                                         std::uint32_t pages) {
  if (used_in_cluster_[cluster] + pages > fill_pages_) return std::nullopt;
  const std::uint32_t start = rng.below(cluster_pages_) & ~(pages - 1);
  if (auto page = find_free(cluster, pages, start)) return take(cluster, *page, pages);
  return std::nullopt;
}

std::optional<std::uint64_t> GuestMemory::alloc_block(Rng& rng, std::uint64_t bytes) {
  const std::uint64_t pages = bytes / kGuestPageBytes;
  if (pages <= cluster_pages_) return alloc_in_cluster(rng, static_cast<std::uint32_t>(pages));
  return alloc_clusters(bytes);
}

std::optional<std::uint64_t> GuestMemory::alloc_in_cluster(Rng& rng, std::uint32_t pages) {
  for (std::uint32_t step = 0; step < cluster_count_; ++step) {
    const std::uint32_t cluster = (block_cursor_ + step) % cluster_count_;
    if (cluster_pages_ - used_in_cluster_[cluster] < pages) continue;
    const std::uint32_t start = rng.below(cluster_pages_) & ~(pages - 1);
    if (auto page = find_free(cluster, pages, start)) {
      block_cursor_ = cluster;
      return take(cluster, *page, pages);
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> GuestMemory::alloc_clusters(std::uint64_t bytes) {
  const std::uint32_t per_group = static_cast<std::uint32_t>(bytes / cluster_bytes());
  const std::uint32_t groups = cluster_count_ / per_group;
  if (groups == 0) return std::nullopt;
  const std::uint32_t first = block_cursor_ / per_group;
  for (std::uint32_t i = 0; i < groups; ++i) {
    const std::uint32_t group = (first + i) % groups;
    const auto begin = used_in_cluster_.begin() + static_cast<std::ptrdiff_t>(group) * per_group;
    if (std::all_of(begin, begin + per_group, [](std::uint32_t used) { return used == 0; })) {
      const std::uint64_t first_page =
          static_cast<std::uint64_t>(group) * per_group * cluster_pages_;
      set_range(first_page, static_cast<std::uint64_t>(per_group) * cluster_pages_, true);
      return ram_base_ + first_page * kGuestPageBytes;
    }
  }
  return std::nullopt;
}

}  // namespace dartlab::trace::gen
