// replay_file reads on one thread and replays on another: results and errors must be exactly
// those of replaying the same events one by one.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <variant>

#include "sim/replay_file.hpp"
#include "traces/gen/generator.hpp"
#include "traces/text_writer.hpp"

using namespace dartlab;
using Catch::Matchers::Contains;

namespace {

std::vector<sim::RunConfig> configs() {
  return {{std::get<mapper::Policy>(mapper::parse_policy("direct")), std::get<dart::DartConfig>(dart::parse_dart_spec(""))},
          {std::get<mapper::Policy>(mapper::parse_policy("window:256K")),
           std::get<dart::DartConfig>(dart::parse_dart_spec("aperture=64M,slots=1000"))}};
}

class TempTrace {
 public:
  explicit TempTrace(const std::string& name)
      : path_((std::filesystem::temp_directory_path() / ("dartlab-replay-file-" + std::to_string(::getpid()) + "-" + name)).string()) {}
  ~TempTrace() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `profile` events and then `tail` verbatim; returns the events written.
void write_trace(const std::string& path, std::string_view profile, std::uint64_t events, const std::string& tail) {
  trace::gen::GenParams params;
  params.events = events;
  params.live_target = 3000;
  std::string error;
  auto gen = trace::gen::make_generator(profile, params, &error);
  REQUIRE(gen);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  {
    trace::TextTraceWriter writer(f);
    writer.set_devices(gen->devices());
    trace::Event ev;
    while (gen->next(ev)) writer.write(ev);
    REQUIRE(writer.flush());
  }
  std::fputs(tail.c_str(), f);
  std::fclose(f);
}

}  // namespace

TEST_CASE("replaying a file across many batches gives the results of replaying its events one by one",
          "[replay_file]") {
  const auto profile = GENERATE(as<std::string>{}, "game", "buffers");
  TempTrace t("same-" + profile);
  write_trace(t.path(), profile, 20000, "");
  const auto runs = configs();

  auto outcome = sim::replay_file(t.path(), runs, {});
  REQUIRE(std::holds_alternative<sim::TraceOutcome>(outcome));
  const auto& file = std::get<sim::TraceOutcome>(outcome);

  trace::gen::GenParams params;
  params.events = 20000;
  params.live_target = 3000;
  std::string error;
  auto gen = trace::gen::make_generator(profile, params, &error);
  sim::Replay direct(runs);
  trace::Event ev;
  while (gen->next(ev)) REQUIRE(direct.apply(ev));

  REQUIRE(file.events == direct.events());
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const auto a = file.results[r], b = direct.result(r);
    CHECK(a.requests == b.requests);
    CHECK(a.peak_mappings == b.peak_mappings);
    CHECK(a.peak_mapped_bytes == b.peak_mapped_bytes);
    CHECK(a.host_map_calls == b.host_map_calls);
    CHECK(a.failed_maps == b.failed_maps);
    CHECK(a.first_failure.event == b.first_failure.event);
    CHECK(a.dropped_unmaps == b.dropped_unmaps);
  }
}

TEST_CASE("an error deep in a file is reported with its line after every event before it",
          "[replay_file]") {
  SECTION("a parse error") {
    TempTrace t("parse-error");
    write_trace(t.path(), "game", 10000, "map 99999999 0000:01:00.0 0x1000 4Q to_dev\n");
    auto outcome = sim::replay_file(t.path(), configs(), {});
    REQUIRE(std::holds_alternative<std::string>(outcome));
    // header + "made by"-less writer: line numbers count the header line and the events.
    CHECK_THAT(std::get<std::string>(outcome), Contains(":10002:"));
    CHECK_THAT(std::get<std::string>(outcome), Contains("4Q"));
  }
  SECTION("a trace inconsistency") {
    TempTrace t("inconsistent");
    write_trace(t.path(), "game", 10000, "unmap 123456789\n");
    auto outcome = sim::replay_file(t.path(), configs(), {});
    REQUIRE(std::holds_alternative<std::string>(outcome));
    CHECK_THAT(std::get<std::string>(outcome), Contains(":10002: error: unmap of id 123456789 which was never mapped"));
  }
  SECTION("an inconsistency early in a long file stops the reader too") {
    TempTrace t("early");
    {
      std::FILE* f = std::fopen(t.path().c_str(), "wb");
      std::fputs("dartlab-trace v1\nunmap 5\n", f);
      std::fclose(f);
    }
    write_trace(t.path() + ".tail", "game", 50000, "");
    // Append a long valid body after the bad line: the replay must stop without reading it all.
    std::FILE* f = std::fopen(t.path().c_str(), "ab");
    std::FILE* tail = std::fopen((t.path() + ".tail").c_str(), "rb");
    char buf[65536];
    std::fgets(buf, sizeof buf, tail);  // skip the tail's header
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, tail)) > 0;) std::fwrite(buf, 1, n, f);
    std::fclose(tail);
    std::fclose(f);
    std::filesystem::remove(t.path() + ".tail");
    auto outcome = sim::replay_file(t.path(), configs(), {});
    REQUIRE(std::holds_alternative<std::string>(outcome));
    CHECK_THAT(std::get<std::string>(outcome), Contains(":2: error: unmap of id 5 which was never mapped"));
  }
}
