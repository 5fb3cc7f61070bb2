// SPDX-License-Identifier: MIT
// The text of each dma:* and iommu:* event, in every format a kernel has printed, reads into one
// record; malformed texts are refused with a message and a position. The texts are written by
// hand from the TP_printk format strings of include/trace/events/dma.h and iommu.h.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "traces/ftrace/dma_events.hpp"
#include "traces/ftrace/ftrace_events.hpp"
#include "traces/ftrace/iommu_events.hpp"

using namespace dartlab::trace;
using namespace dartlab::trace::ftrace;
using Catch::Matchers::Contains;

namespace {

// Parses on construction; the record's views point into this object, which does not move.
struct Parsed {
  Parsed(std::string_view name, std::string text) : payload(std::move(text)) {
    ok = parse_dma_payload(find_event(name), name, payload, scratch, record, error);
    if (!ok) error_offset = static_cast<std::size_t>(error.at - payload.data());
    phys_addrs.assign(record.phys_addrs.begin(), record.phys_addrs.end());
    dma_addrs.assign(record.dma_addrs.begin(), record.dma_addrs.end());
    sizes.assign(record.sizes.begin(), record.sizes.end());
  }
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;

  std::string payload;
  ArrayScratch scratch;
  bool ok = false;
  DmaRecord record;
  PayloadError error;
  std::size_t error_offset = 0;  // into the payload
  std::vector<std::uint64_t> phys_addrs, dma_addrs, sizes;
};

}  // namespace

TEST_CASE("Each event name maps to what it means for a trace, and other names to Unknown", "[traces][ftrace]") {
  CHECK(find_event("dma_map_page") == EventType::DmaMap);
  CHECK(find_event("dma_map_phys") == EventType::DmaMap);
  CHECK(find_event("dma_map_resource") == EventType::DmaMap);
  CHECK(find_event("dma_unmap_page") == EventType::DmaUnmap);
  CHECK(find_event("dma_unmap_phys") == EventType::DmaUnmap);
  CHECK(find_event("dma_unmap_resource") == EventType::DmaUnmap);
  CHECK(find_event("dma_map_sg") == EventType::DmaMapSg);
  CHECK(find_event("dma_unmap_sg") == EventType::DmaUnmapSg);
  CHECK(find_event("dma_alloc") == EventType::DmaAlloc);
  CHECK(find_event("dma_alloc_pages") == EventType::DmaAllocPages);
  CHECK(find_event("dma_free") == EventType::DmaFree);
  CHECK(find_event("dma_free_pages") == EventType::DmaFree);
  CHECK(find_event("dma_alloc_sgt") == EventType::DmaAllocSgt);
  CHECK(find_event("dma_free_sgt") == EventType::DmaFreeSgt);
  CHECK(find_event("map") == EventType::IommuMap);
  CHECK(find_event("unmap") == EventType::IommuUnmap);
  for (const char* ignored : {"dma_map_sg_err", "dma_alloc_sgt_err", "dma_sync_single_for_cpu", "dma_sync_single_for_device",
                              "dma_sync_sg_for_cpu", "dma_sync_sg_for_device", "io_page_fault", "attach_device_to_domain"}) {
    CHECK(find_event(ignored) == EventType::Ignored);
  }
  for (const char* unknown : {"sched_switch", "dma_map", "dma_map_pages", "", "DMA_MAP_PAGE", "maps", "a_very_long_name_that_is_no_event_at_all"}) {
    CHECK(find_event(unknown) == EventType::Unknown);
  }
}

TEST_CASE("dma_map_page, dma_map_phys and dma_map_resource read device, dir, addresses, size", "[traces][ftrace]") {
  const std::string name = GENERATE("dma_map_page", "dma_map_phys", "dma_map_resource");
  const auto attrs = GENERATE(as<std::string>{}, "", "SKIP_CPU_SYNC", "WEAK_ORDERING|SKIP_CPU_SYNC|0x8000");
  // "%s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s"
  const Parsed p(name, "0000:01:00.0 dir=FROM_DEVICE dma_addr=fff01040 size=1500 phys_addr=10f17f040 attrs=" + attrs);
  INFO(name << " attrs=" << attrs);
  REQUIRE(p.ok);
  CHECK(p.record.device == "0000:01:00.0");
  CHECK(p.record.dir == Direction::FromDevice);
  CHECK(p.record.dma_addr == 0xfff01040);
  CHECK(p.record.size_bytes == 1500);
  CHECK(p.record.has_phys);
  CHECK(p.record.phys_addr == 0x10f17f040);
}

TEST_CASE("Each direction __print_symbolic prints reads", "[traces][ftrace]") {
  struct Case {
    const char* printed;
    Direction dir;
  };
  const auto c = GENERATE(Case{"TO_DEVICE", Direction::ToDevice}, Case{"FROM_DEVICE", Direction::FromDevice},
                          Case{"BIDIRECTIONAL", Direction::Bidirectional});
  const Parsed p("dma_unmap_phys", std::string("d dir=") + c.printed + " dma_addr=0 size=1 attrs=");
  REQUIRE(p.ok);
  CHECK(p.record.dir == c.dir);
  // An unmap may say NONE; a map may not.
  CHECK(Parsed("dma_unmap_page", "d dir=NONE dma_addr=0 size=1 attrs=").ok);
  CHECK_FALSE(Parsed("dma_map_page", "d dir=NONE dma_addr=0 size=1 phys_addr=0 attrs=").ok);
}

TEST_CASE("dma_alloc and dma_free read in all three formats they have had", "[traces][ftrace]") {
  SECTION("6.12-rc1: a physical address, no dir") {
    // "%s dma_addr=%llx size=%zu phys_addr=%llx flags=%s attrs=%s" / "%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s"
    const Parsed a("dma_alloc", "0000:02:00.0 dma_addr=80000000 size=8192 phys_addr=12345000 flags=GFP_KERNEL attrs=");
    REQUIRE(a.ok);
    CHECK(a.record.has_phys);
    CHECK(a.record.phys_addr == 0x12345000);
    CHECK_FALSE(a.record.dir_printed);
    const Parsed f("dma_free", "0000:02:00.0 dma_addr=80000000 size=8192 phys_addr=12345000 attrs=");
    REQUIRE(f.ok);
    CHECK(f.record.dma_addr == 0x80000000);
  }
  SECTION("6.12: a hashed virtual address, no dir") {
    // "%s dma_addr=%llx size=%zu virt_addr=%p flags=%s attrs=%s"
    const Parsed a("dma_alloc", "0000:02:00.0 dma_addr=80000000 size=8192 virt_addr=000000003b3c6c5e flags=GFP_KERNEL|__GFP_ZERO attrs=");
    REQUIRE(a.ok);
    CHECK_FALSE(a.record.has_phys);
    CHECK_FALSE(a.record.virt_is_null);
    CHECK(a.record.dma_addr == 0x80000000);
    CHECK(a.record.size_bytes == 8192);
    CHECK(Parsed("dma_free", "0000:02:00.0 dma_addr=80000000 size=8192 virt_addr=000000003b3c6c5e attrs=").ok);
  }
  SECTION("with dir= (\"trace dma_alloc/free direction\")") {
    // "%s dir=%s dma_addr=%llx size=%zu virt_addr=%p flags=%s attrs=%s"
    const Parsed a("dma_alloc", "0000:02:00.0 dir=BIDIRECTIONAL dma_addr=80000000 size=8192 virt_addr=000000003b3c6c5e flags=GFP_KERNEL attrs=");
    REQUIRE(a.ok);
    CHECK(a.record.dir_printed);
    CHECK(Parsed("dma_free", "0000:02:00.0 dir=BIDIRECTIONAL dma_addr=80000000 size=8192 virt_addr=000000003b3c6c5e attrs=").ok);
  }
  SECTION("a failed allocation prints virt_addr as zeros") {
    const Parsed a("dma_alloc", "0000:02:00.0 dir=BIDIRECTIONAL dma_addr=0 size=1073741824 virt_addr=0000000000000000 flags=GFP_KERNEL attrs=");
    REQUIRE(a.ok);
    CHECK(a.record.virt_is_null);
  }
}

TEST_CASE("dma_alloc_pages and dma_free_pages read", "[traces][ftrace]") {
  const Parsed a("dma_alloc_pages", "0000:c1:00.0 dir=FROM_DEVICE dma_addr=90000000 size=1048576 virt_addr=00000000deadbeef flags=GFP_KERNEL attrs=");
  REQUIRE(a.ok);
  CHECK(a.record.dir == Direction::FromDevice);
  CHECK(a.record.size_bytes == 1048576);
  CHECK(Parsed("dma_free_pages", "0000:c1:00.0 dir=FROM_DEVICE dma_addr=90000000 size=1048576 virt_addr=00000000deadbeef attrs=").ok);
}

TEST_CASE("dma_alloc_sgt and dma_free_sgt read their list of physical addresses", "[traces][ftrace]") {
  // "%s dir=%s dma_addr=%llx size=%zu phys_addrs=%s flags=%s attrs=%s" / "%s dir=%s dma_addr=%llx size=%zu phys_addrs=%s"
  const Parsed a("dma_alloc_sgt", "d dir=TO_DEVICE dma_addr=a0000000 size=16384 phys_addrs={0x300000000,0x300005000} flags=GFP_KERNEL attrs=");
  REQUIRE(a.ok);
  CHECK(a.phys_addrs == std::vector<std::uint64_t>{0x300000000, 0x300005000});
  CHECK(a.record.dma_addr == 0xa0000000);
  const Parsed f("dma_free_sgt", "d dir=TO_DEVICE dma_addr=a0000000 size=16384 phys_addrs={0x300000000,0x300005000}");
  REQUIRE(f.ok);
  CHECK(f.phys_addrs.size() == 2);
}

TEST_CASE("dma_map_sg reads in the format without counts and in the capped one", "[traces][ftrace]") {
  SECTION("6.12 to 6.19: \"%s dir=%s dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s\"") {
    const Parsed p("dma_map_sg", "0000:01:00.0 dir=TO_DEVICE dma_addrs={0xfff01000,0xfff02000} sizes={0x1000,0x2000} "
                                       "phys_addrs={0x20000000,0x30000000} attrs=SKIP_CPU_SYNC");
    REQUIRE(p.ok);
    CHECK(p.dma_addrs == std::vector<std::uint64_t>{0xfff01000, 0xfff02000});
    CHECK(p.sizes == std::vector<std::uint64_t>{0x1000, 0x2000});
    CHECK(p.phys_addrs == std::vector<std::uint64_t>{0x20000000, 0x30000000});
    CHECK(p.record.nents == 2);
    CHECK(p.record.ents == 2);
    CHECK_FALSE(p.record.truncated);
  }
  SECTION("since the cap: nents=%d/%d ents=%d/%d, merged segments") {
    const Parsed p("dma_map_sg", "0000:01:00.0 dir=FROM_DEVICE nents=3/3 ents=1/1 dma_addrs={0xfff00000} sizes={0x3000} "
                                       "phys_addrs={0x1000,0x9000,0x5000} attrs=");
    REQUIRE(p.ok);
    CHECK(p.record.nents == 3);
    CHECK(p.record.ents == 1);
  }
  SECTION("since the cap: [TRUNCATED]") {
    std::string list = "{";
    for (int i = 0; i < 128; ++i) list += (i ? ",0x" : "0x") + std::to_string(i + 1) + "000";
    list += "}";
    const Parsed p("dma_map_sg", "d dir=TO_DEVICE nents=128/130 ents=128/130 [TRUNCATED] dma_addrs=" + list + " sizes=" + list +
                                           " phys_addrs=" + list + " attrs=");
    REQUIRE(p.ok);
    CHECK(p.record.truncated);
    CHECK(p.record.nents == 130);
    CHECK(p.phys_addrs.size() == 128);
  }
  SECTION("an empty list prints as {}") {
    CHECK(Parsed("dma_unmap_sg", "d dir=TO_DEVICE phys_addrs={0x1} attrs=").ok);
    CHECK_FALSE(Parsed("dma_unmap_sg", "d dir=TO_DEVICE phys_addrs={} attrs=").ok);
  }
}

TEST_CASE("Fields a kernel may add are ignored, and fields may come in any order", "[traces][ftrace]") {
  const Parsed p("dma_map_page", "d size=4096 attrs= phys_addr=1000 new_field=7 dma_addr=2000 dir=TO_DEVICE");
  REQUIRE(p.ok);
  CHECK(p.record.size_bytes == 4096);
  CHECK(p.record.dma_addr == 0x2000);
  CHECK(p.record.phys_addr == 0x1000);
}

TEST_CASE("A dma_map_sg's segments pair entries with DMA segments, or share the mapped bytes", "[traces][ftrace]") {
  std::vector<Segment> segs;
  SegmentGuess guess{};
  PayloadError error;
  SECTION("as many DMA segments as entries: one each, exactly") {
    const Parsed p("dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x1,0x2} sizes={0x1000,0x2000} phys_addrs={0x20000000,0x30000000} attrs=");
    REQUIRE(p.ok);
    REQUIRE(sg_segments(EventType::DmaMapSg, "dma_map_sg", p.record, 4096, segs, guess, error));
    CHECK(guess == SegmentGuess::Exact);
    REQUIRE(segs.size() == 2);
    CHECK(segs[0].gpa == 0x20000000);
    CHECK(segs[0].len_bytes == 0x1000);
    CHECK(segs[1].gpa == 0x30000000);
    CHECK(segs[1].len_bytes == 0x2000);
  }
  SECTION("merged by an IOMMU: equal shares, in pages, the rest to the last") {
    const Parsed p("dma_map_sg", "d dir=TO_DEVICE nents=3/3 ents=1/1 dma_addrs={0x1} sizes={0x5000} phys_addrs={0x1000,0x9000,0x5000} attrs=");
    REQUIRE(p.ok);
    REQUIRE(sg_segments(EventType::DmaMapSg, "dma_map_sg", p.record, 4096, segs, guess, error));
    CHECK(guess == SegmentGuess::EqualShares);
    REQUIRE(segs.size() == 3);
    CHECK(segs[0].len_bytes == 0x1000);
    CHECK(segs[1].len_bytes == 0x1000);
    CHECK(segs[2].len_bytes == 0x3000);
    CHECK(segs[0].len_bytes + segs[1].len_bytes + segs[2].len_bytes == 0x5000);
  }
  SECTION("more entries than segments allowed: the first ones only") {
    const Parsed p("dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x1,0x2,0x3} sizes={0x1,0x2,0x3} phys_addrs={0x10,0x20,0x30} attrs=");
    REQUIRE(p.ok);
    REQUIRE(sg_segments(EventType::DmaMapSg, "dma_map_sg", p.record, 2, segs, guess, error));
    CHECK(segs.size() == 2);
  }
  SECTION("a zero-length segment is refused") {
    const Parsed p("dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x1} sizes={0x0} phys_addrs={0x10} attrs=");
    REQUIRE(p.ok);
    CHECK_FALSE(sg_segments(EventType::DmaMapSg, "dma_map_sg", p.record, 4096, segs, guess, error));
    CHECK_THAT(error.message, Contains("sizes entry 0 is 0"));
  }
}

TEST_CASE("A dma_map_sg and its dma_unmap_sg share a key; other scatterlists do not", "[traces][ftrace]") {
  const std::vector<std::uint64_t> a{0x1000, 0x2000, 0x3000};
  const std::vector<std::uint64_t> b{0x1000, 0x2000, 0x4000};
  CHECK(sg_key(a, 3) == sg_key(a, 3));
  CHECK(sg_key(a, 3) != sg_key(b, 3));
  CHECK(sg_key(a, 3) != sg_key(a, 4));
  // The capped dma_map_sg prints 128 entries of 130; dma_unmap_sg prints all 130.
  std::vector<std::uint64_t> all(130);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = 0x1000 * (i + 1);
  const std::vector<std::uint64_t> printed(all.begin(), all.begin() + 128);
  CHECK(sg_key(printed, 130) == sg_key(all, 130));
}

TEST_CASE("A malformed dma:* text is refused at the offending field", "[traces][ftrace]") {
  struct Case {
    const char* name;
    const char* payload;
    std::size_t offset;
    const char* message;
  };
  const auto c = GENERATE(
      Case{"dma_map_page", "", 0, "dma_map_page: the device name is missing"},
      Case{"dma_map_page", "dir=TO_DEVICE dma_addr=1 size=1 phys_addr=1 attrs=", 0, "the device name is missing"},
      Case{"dma_map_page", "d dir=TO_DEVICE dma_addr=1 size=1 attrs=", 40, "phys_addr= is missing (the line may be cut short)"},
      Case{"dma_map_page", "d dir=TO_DEVICE dma_addr=1 size=1 phys_addr=1", 45, "attrs= is missing"},
      Case{"dma_map_page", "d dir=TO_DEVICE dma_addr=xyz size=1 phys_addr=1 attrs=", 25, "dma_addr must be a hex number, got 'xyz'"},
      Case{"dma_map_page", "d dir=TO_DEVICE dma_addr=1 size=0x10 phys_addr=1 attrs=", 32, "size must be a decimal number, got '0x10'"},
      Case{"dma_map_page", "d dir=TO_DEVICE dma_addr=1 size=1 phys_addr=10000000000000000 attrs=", 44, "does not fit in 64 bits"},
      Case{"dma_map_page", "d dir=SIDEWAYS dma_addr=1 size=1 phys_addr=1 attrs=", 6,
           "dir must be BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE or NONE, got 'SIDEWAYS'"},
      Case{"dma_map_page", "d dir=0x5 dma_addr=1 size=1 phys_addr=1 attrs=", 6, "got '0x5'"},
      Case{"dma_map_page", "d dir=NONE dma_addr=1 size=1 phys_addr=1 attrs=", 6, "dir=NONE on a mapping"},
      Case{"dma_map_page", "d dir=TO_DEVICE dma_addr=1 size=0 phys_addr=1 attrs=", 32, "size must be > 0"},
      Case{"dma_map_page", "d dir=TO_DEVICE dma_addr=1 size=4096 phys_addr=fffffffffffff001 attrs=", 47, "ends past 2^64"},
      Case{"dma_map_page", "d dir=TO_DEVICE dir=TO_DEVICE dma_addr=1 size=1 phys_addr=1 attrs=", 16, "dir= appears twice"},
      Case{"dma_map_page", "d dir=TO_DEVICE stray dma_addr=1 size=1 phys_addr=1 attrs=", 16, "unexpected 'stray' (expected KEY=VALUE)"},
      Case{"dma_alloc", "d dma_addr=1 size=1 flags=GFP_KERNEL attrs=", 43, "phys_addr= or virt_addr= is missing"},
      Case{"dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x1,0x2} sizes={0x1} phys_addrs={0x1,0x2} attrs=", 42, "sizes has 1 entries but dma_addrs has 2"},
      Case{"dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x1,0x2} sizes={0x1,0x2} phys_addrs={0x1} attrs=", 42, "more DMA segments (2) than entries (1)"},
      Case{"dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x1,zz} sizes={0x1,0x2} phys_addrs={0x1,0x2} attrs=", 31,
           "dma_addrs must be a list of hex numbers such as {0x1000,0x2000}"},
      Case{"dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x1,0x2 sizes={0x1,0x2} phys_addrs={0x1,0x2} attrs=", 31, "dma_addrs must be a list"},
      Case{"dma_map_sg", "d dir=TO_DEVICE nents=2/2 ents=2/2 dma_addrs={0x1} sizes={0x1} phys_addrs={0x1,0x2} attrs=", 31,
           "ents says 2 segments are printed but sizes has 1"},
      Case{"dma_map_sg", "d dir=TO_DEVICE nents=3/2 ents=2/2 dma_addrs={0x1} sizes={0x1} phys_addrs={0x1} attrs=", 22,
           "nents must be PRINTED/TOTAL such as 3/3, got '3/2'"},
      Case{"dma_map_sg", "d dir=TO_DEVICE [TRUNCATED]x dma_addrs={0x1} sizes={0x1} phys_addrs={0x1} attrs=", 16, "unexpected '[TRUNCATED]x'"},
      Case{"dma_unmap_sg", "d dir=TO_DEVICE phys_addrs={0x1,} attrs=", 32, "phys_addrs must be a list"});
  INFO(c.name << ": " << c.payload);
  const Parsed p(c.name, c.payload);
  REQUIRE_FALSE(p.ok);
  CHECK_THAT(p.error.message, Contains(c.message));
  CHECK(p.error_offset == c.offset);
}

TEST_CASE("iommu:map and iommu:unmap read in the old and the ranged form", "[traces][ftrace]") {
  IommuRecord r;
  PayloadError error;
  SECTION("map, old: \"IOMMU: iova=0x%016llx paddr=0x%016llx size=%zu\"") {
    REQUIRE(parse_iommu_payload(EventType::IommuMap, "IOMMU: iova=0x00000000fff00000 paddr=0x0000000012345000 size=8192", r, error) == IommuParse::Ok);
    CHECK(r.iova == 0xfff00000);
    CHECK(r.paddr == 0x12345000);
    CHECK(r.size_bytes == 8192);
  }
  SECTION("map, ranged: \"IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu\"") {
    REQUIRE(parse_iommu_payload(EventType::IommuMap, "IOMMU: iova=0x00000000fff00000 - 0x00000000fff02000 paddr=0x0000000012345000 size=8192",
                                r, error) == IommuParse::Ok);
    CHECK(r.iova == 0xfff00000);
    CHECK(r.paddr == 0x12345000);
  }
  SECTION("unmap, old and ranged") {
    REQUIRE(parse_iommu_payload(EventType::IommuUnmap, "IOMMU: iova=0x00000000fff00000 size=8192 unmapped_size=4096", r, error) == IommuParse::Ok);
    CHECK(r.size_bytes == 8192);
    CHECK(r.unmapped_bytes == 4096);
    REQUIRE(parse_iommu_payload(EventType::IommuUnmap, "IOMMU: iova=0x00000000fff00000 - 0x00000000fff02000 size=8192 unmapped_size=8192",
                                r, error) == IommuParse::Ok);
    CHECK(r.unmapped_bytes == 8192);
  }
  SECTION("another subsystem's event named map is not the IOMMU's") {
    CHECK(parse_iommu_payload(EventType::IommuMap, "vma=0x1000 len=4096", r, error) == IommuParse::NotIommu);
  }
  SECTION("malformed") {
    const std::string bad = GENERATE(as<std::string>{}, "IOMMU: iova=0x1 size=4096", "IOMMU: iova=0x1 paddr=0xq size=1",
                                     "IOMMU: iova=0x1 - paddr=0x1 size=1", "IOMMU: - 0x2 iova=0x1 paddr=0x1 size=1",
                                     "IOMMU: iova=0x1 paddr=0x1 size=0", "IOMMU: iova=0x1 paddr=0x1 size=1 size=1");
    INFO(bad);
    CHECK(parse_iommu_payload(EventType::IommuMap, bad, r, error) == IommuParse::Error);
    CHECK_THAT(error.message, Contains("iommu map: "));
  }
}
