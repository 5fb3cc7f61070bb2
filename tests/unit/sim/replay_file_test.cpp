// SPDX-License-Identifier: MIT
// replay_file reads on one thread and replays on another (or reads inline): results and errors
// must be exactly those of replaying the same events one by one.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <variant>

#include "sim/replay/replay_file.hpp"
#include "support/temp_trace.hpp"
#include "traces/gen/generator.hpp"

using namespace dartlab;
using Catch::Matchers::Contains;
using test::TempTrace;
using test::write_trace;

namespace {

std::vector<sim::RunConfig> configs() {
  return {{std::get<mapper::Policy>(mapper::parse_policy("direct")), std::get<dart::DartConfig>(dart::parse_dart_spec(""))},
          {std::get<mapper::Policy>(mapper::parse_policy("window:256K")),
           std::get<dart::DartConfig>(dart::parse_dart_spec("aperture=64M,slots=1000"))}};
}

}  // namespace

TEST_CASE("replaying a file across many batches gives the results of replaying its events one by one",
          "[replay_file]") {
  const auto profile = GENERATE(as<std::string>{}, "game", "buffers");
  // parsed on its own thread, inline, or as the format suits
  const auto reader_thread = GENERATE(sim::InputOptions::ReaderThread::Yes, sim::InputOptions::ReaderThread::No,
                                      sim::InputOptions::ReaderThread::Auto);
  TempTrace t("same-" + profile);
  write_trace(t.path(), profile, 20000, "");
  const auto runs = configs();

  auto outcome = sim::replay_file(t.path(), runs, {}, {}, sim::InputOptions{.reader_thread = reader_thread});
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
  const sim::InputOptions input{.reader_thread = GENERATE(sim::InputOptions::ReaderThread::Yes,
                                                          sim::InputOptions::ReaderThread::No)};
  SECTION("a parse error is reported with its line and the bad text") {
    TempTrace t("parse-error");
    write_trace(t.path(), "game", 10000, "map 99999999 0000:01:00.0 0x1000 4Q to_dev\n");
    auto outcome = sim::replay_file(t.path(), configs(), {}, {}, input);
    REQUIRE(std::holds_alternative<std::string>(outcome));
    // header + "made by"-less writer: line numbers count the header line and the events.
    CHECK_THAT(std::get<std::string>(outcome), Contains(":10002:"));
    CHECK_THAT(std::get<std::string>(outcome), Contains("4Q"));
  }
  SECTION("a trace inconsistency is reported with its line") {
    TempTrace t("inconsistent");
    write_trace(t.path(), "game", 10000, "unmap 123456789\n");
    auto outcome = sim::replay_file(t.path(), configs(), {}, {}, input);
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
    auto outcome = sim::replay_file(t.path(), configs(), {}, {}, input);
    REQUIRE(std::holds_alternative<std::string>(outcome));
    CHECK_THAT(std::get<std::string>(outcome), Contains(":2: error: unmap of id 5 which was never mapped"));
  }
}

TEST_CASE("a FileReplay advanced a batch at a time gives replay_file's outcome, its fraction rising to 1",
          "[replay_file]") {
  TempTrace t("slices");
  write_trace(t.path(), "game", 20000, "");
  const auto runs = configs();
  const sim::InputOptions inline_reading{.reader_thread = sim::InputOptions::ReaderThread::No};
  auto whole = sim::replay_file(t.path(), runs, {}, {}, inline_reading);
  REQUIRE(std::holds_alternative<sim::TraceOutcome>(whole));

  sim::FileReplay sliced(t.path(), runs, {}, inline_reading);
  double last = sliced.fraction();
  CHECK(last == 0.0);
  std::size_t slices = 0;
  while (sliced.advance(1)) {
    ++slices;
    CHECK(sliced.fraction() >= last);
    last = sliced.fraction();
  }
  CHECK(slices >= 19);  // 20,000 events in batches of 1,024
  CHECK(sliced.fraction() == 1.0);
  CHECK_FALSE(sliced.advance(1));  // nothing more to do
  auto outcome = sliced.finish();
  REQUIRE(std::holds_alternative<sim::TraceOutcome>(outcome));
  const auto& a = std::get<sim::TraceOutcome>(outcome);
  const auto& b = std::get<sim::TraceOutcome>(whole);
  CHECK(a.events == b.events);
  REQUIRE(a.results.size() == b.results.size());
  for (std::size_t r = 0; r < runs.size(); ++r) {
    CHECK(a.results[r].requests == b.results[r].requests);
    CHECK(a.results[r].peak_mappings == b.results[r].peak_mappings);
    CHECK(a.results[r].host_map_calls == b.results[r].host_map_calls);
    CHECK(a.results[r].failed_maps == b.results[r].failed_maps);
    CHECK(a.results[r].exposure_mean_bytes == b.results[r].exposure_mean_bytes);
    CHECK(a.results[r].series.size() == b.results[r].series.size());
  }

  SECTION("an error stops it at the slice that meets it, and finish() names its line") {
    TempTrace bad("slices-bad");
    write_trace(bad.path(), "game", 5000, "unmap 123456789\n");
    sim::FileReplay r(bad.path(), runs, {}, inline_reading);
    while (r.advance(1)) {
    }
    auto failed = r.finish();
    REQUIRE(std::holds_alternative<std::string>(failed));
    CHECK_THAT(std::get<std::string>(failed), Contains(":5002: error: unmap of id 123456789"));
  }
}
