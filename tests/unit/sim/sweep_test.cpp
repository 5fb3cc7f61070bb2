// SPDX-License-Identifier: MIT
// Running sweeps: passes, threads and shards change nothing in the results; a point's result is
// what `replay` gives for it alone; merge joins shards into the unsharded document and refuses
// inputs that do not belong together; the Pareto frontier and the CSV.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <variant>

#include "sim/replay/replay_file.hpp"
#include "sim/replay/results_output.hpp"
#include "sim/sweep/config.hpp"
#include "sim/sweep/merge.hpp"
#include "sim/sweep/output.hpp"
#include "sim/sweep/run.hpp"
#include "support/temp_trace.hpp"

using namespace dartlab;
using Catch::Matchers::Contains;
using Json = nlohmann::ordered_json;

namespace {

// Two traces of the game profile; 3 policies x 2 darts over each: 12 points.
struct SmallSweep {
  test::TempTrace a{"sweep-a.trace"};
  test::TempTrace b{"sweep-b.trace"};
  sim::SweepConfig config;

  SmallSweep() {
    test::write_trace(a.path(), "game", 12000, "");
    test::write_trace(b.path(), "buffers", 6000, "");
    const std::string text = "name = \"small\"\ntraces = [\"" + a.path() + "\", \"" + b.path() +
                             "\"]\npolicies = [\"direct\", \"window:{size}\"]\ndarts = [\"\", \"slots=300,aperture=16M\"]\n"
                             "[params]\nsize = [\"64K\", \"1M\"]\n";
    auto c = sim::parse_sweep_config(text, sim::SweepFormat::Toml, "small.toml", "/");
    REQUIRE(std::holds_alternative<sim::SweepConfig>(c));
    config = std::get<sim::SweepConfig>(c);
    REQUIRE(sim::check_sweep_traces(config).empty());
    REQUIRE(config.points.size() == 12);
  }

  // The shard's JSON document, through text as a file would carry it. `moves`: the passes' slices
  // that a thread took over from another (with several threads).
  Json run(sim::Shard shard, unsigned jobs, std::size_t group, std::size_t slice_events = 16 * 1024,
           std::uint64_t* moves = nullptr) const {
    sim::SweepProgress progress;
    auto outcome =
        sim::run_sweep(config, shard, {.jobs = jobs, .max_group = group, .slice_events = slice_events}, progress);
    if (const auto* err = std::get_if<std::string>(&outcome)) FAIL(*err);
    const auto& o = std::get<sim::SweepOutcome>(outcome);
    if (moves != nullptr) *moves = o.pass_moves;
    CHECK(progress.points_done == progress.points_total);
    CHECK(progress.work_done == progress.work_total);
    sim::SweepParts parts = sim::sweep_parts(config, shard, o);
    parts.timing = {{"runs", Json::array({sim::timing_run(shard, o, group, 1.0)})}};
    return Json::parse(sim::sweep_document(std::move(parts)).dump(2));
  }
};

// The document up to "timing", as text: what must not depend on how or where it ran.
std::string compared(Json doc) {
  doc.erase("timing");
  return doc.dump(2);
}

std::vector<sim::SweepShardFile> shards_of(const SmallSweep& s, std::uint32_t n) {
  std::vector<sim::SweepShardFile> out;
  for (std::uint32_t i = 1; i <= n; ++i) out.push_back({"shard" + std::to_string(i) + ".json", s.run({i, n}, 2, 2)});
  return out;
}

std::string merge_error(const std::vector<sim::SweepShardFile>& shards) {
  auto merged = sim::merge_sweep_shards(shards);
  REQUIRE(std::holds_alternative<std::string>(merged));
  return std::get<std::string>(merged);
}

}  // namespace

TEST_CASE("a plan puts every point of the shard in exactly one pass, groups bounded", "[sweep]") {
  SmallSweep s;
  for (unsigned jobs : {1u, 2u, 5u})
    for (std::size_t group : {std::size_t{1}, std::size_t{4}, std::size_t{64}})
      for (std::uint32_t n : {1u, 3u}) {
        const sim::Shard shard{1, n};
        const auto passes = sim::plan_sweep(s.config, shard, jobs, group);
        std::multiset<std::size_t> seen;
        for (const auto& p : passes) {
          CHECK(p.points.size() <= group);
          CHECK(!p.points.empty());
          for (std::size_t point : p.points) {
            seen.insert(point);
            CHECK(s.config.points[point].trace == p.trace);
          }
        }
        std::multiset<std::size_t> expected;
        for (const auto& p : s.config.points)
          if (shard.holds(p.index)) expected.insert(p.index);
        CHECK(seen == expected);
        // Enough passes to give every thread work, when there are points enough.
        CHECK(passes.size() >= std::min<std::size_t>(jobs, expected.size()));
      }
}

TEST_CASE("a sweep's results are each point's own replay, whatever the threads and groups", "[sweep]") {
  SmallSweep s;
  const Json one = s.run({1, 1}, 1, 64);
  CHECK(compared(s.run({1, 1}, 2, 1)) == compared(one));
  CHECK(compared(s.run({1, 1}, 3, 5)) == compared(one));

  REQUIRE(one["results"].size() == 12);
  for (std::size_t i = 0; i < 12; ++i) {
    const sim::SweepPoint& p = s.config.points[i];
    const Json& r = one["results"][i];
    CHECK(r["point"] == i);
    const std::vector<sim::RunConfig> alone = {p.config};
    auto outcome = sim::replay_file(s.config.traces[p.trace].path, alone, {});
    REQUIRE(std::holds_alternative<sim::TraceOutcome>(outcome));
    Json expected = sim::results_json(std::span(&std::get<sim::TraceOutcome>(outcome), 1))["results"][0];
    for (const char* key : {"policy", "dart", "events", "requests", "peak_mappings", "peak_mapped_bytes",
                            "host_map_calls", "failed_maps", "failures_by_reason", "first_failure", "final_live_mappings"})
      CHECK(r[key] == expected[key]);
  }
  // The stingy DART refuses maps under direct on the game: the sweep is not all zeros.
  CHECK(one["results"][1]["failed_maps"].get<std::uint64_t>() > 0);
  CHECK(one["results"][0]["params"].empty());
  CHECK(one["results"][2]["params"]["size"] == "64K");
  CHECK(one["sweep"]["hash"] == sim::hash_hex(s.config.hash));
  CHECK(one["inputs"].size() == 2);
}

TEST_CASE("passes handed between threads a slice at a time give the same results", "[sweep]") {
  // Slices of one batch (1,024 events) over traces of 6,000 and 12,000: every pass is replayed
  // in several slices, and the threads take each other's passes over between them.
  SmallSweep s;
  const Json one = s.run({1, 1}, 1, 64);
  std::uint64_t moves = 0;
  for (unsigned jobs : {2u, 3u})
    for (std::size_t group : {std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
      INFO("jobs " << jobs << ", group " << group);
      std::uint64_t m = 0;
      CHECK(compared(s.run({1, 1}, jobs, group, 1024, &m)) == compared(one));
      moves += m;
    }
  CHECK(moves > 0);
}

TEST_CASE("a malformed trace stops a sweep whose passes move between threads", "[sweep]") {
  // The second trace breaks near its end, while the first trace's passes are still under way.
  test::TempTrace a{"sweep-stop-a.trace"};
  test::TempTrace b{"sweep-stop-b.trace"};
  test::write_trace(a.path(), "game", 12000, "");
  test::write_trace(b.path(), "buffers", 6000, "this is not an event\n");
  const std::string text = "traces = [\"" + a.path() + "\", \"" + b.path() +
                           "\"]\npolicies = [\"direct\", \"window:64K\", \"window:1M\"]\n";
  auto c = sim::parse_sweep_config(text, sim::SweepFormat::Toml, "stop.toml", "/");
  REQUIRE(std::holds_alternative<sim::SweepConfig>(c));
  sim::SweepConfig config = std::get<sim::SweepConfig>(c);
  REQUIRE(sim::check_sweep_traces(config).empty());
  for (unsigned jobs : {2u, 3u}) {
    sim::SweepProgress progress;
    auto outcome = sim::run_sweep(config, {1, 1}, {.jobs = jobs, .max_group = 1, .slice_events = 1024}, progress);
    REQUIRE(std::holds_alternative<std::string>(outcome));
    CHECK_THAT(std::get<std::string>(outcome), Contains(b.path()) && Contains("error"));
  }
}

TEST_CASE("merging shards gives the unsharded document, timing aside", "[sweep]") {
  SmallSweep s;
  const Json whole = s.run({1, 1}, 2, 4);
  for (std::uint32_t n : {1u, 2u, 3u, 5u}) {
    auto shards = shards_of(s, n);
    std::reverse(shards.begin(), shards.end());  // order of the inputs does not matter
    auto merged = sim::merge_sweep_shards(shards);
    if (const auto* err = std::get_if<std::string>(&merged)) FAIL(*err);
    const Json& m = std::get<Json>(merged);
    CHECK(compared(Json::parse(m.dump(2))) == compared(whole));
    CHECK(m["timing"]["runs"].size() == n);
    CHECK(sim::sweep_csv(m) == sim::sweep_csv(whole));
  }
  SECTION("a shard's own document has no frontier") {
    const Json shard = s.run({2, 3}, 1, 4);
    CHECK(!shard.contains("pareto"));
    CHECK(!shard["results"][0].contains("pareto"));
    CHECK(shard["sweep"]["shard"]["index"] == 2);
  }
}

TEST_CASE("merge refuses inputs that are not the shards of one sweep, naming them", "[sweep]") {
  SmallSweep s;
  auto shards = shards_of(s, 3);
  SECTION("a missing shard is named with its points") {
    shards.erase(shards.begin() + 1);
    const std::string e = merge_error(shards);
    CHECK_THAT(e, Contains("shard 2/3: points 1, 4, 7, 10 (no input is this shard)"));
  }
  SECTION("a shard given twice is named with both files") {
    sim::SweepShardFile again = shards[0];
    again.file = "again.json";
    shards.push_back(std::move(again));
    CHECK_THAT(merge_error(shards), Contains("shard 1/3 given twice: shard1.json and again.json"));
  }
  SECTION("a point given twice is named with its files") {
    Json& results = shards[0].document["results"];
    const Json copy = results[0];
    results.push_back(copy);
    CHECK_THAT(merge_error(shards), Contains("point 0 appears twice: in shard1.json and in shard1.json"));
  }
  SECTION("a point dropped from its shard is named") {
    shards[2].document["results"].erase(0);
    CHECK_THAT(merge_error(shards), Contains("shard 3/3: points 2 (shard3.json lacks them"));
  }
  SECTION("a point in the wrong shard is named") {
    shards[0].document["results"][0]["point"] = 1;
    CHECK_THAT(merge_error(shards), Contains("shard1.json: results[0]: point 1 does not belong to shard 1/3"));
  }
  SECTION("a shard of another sweep is named") {
    shards[1].document["sweep"]["hash"] = "0123456789abcdef";
    CHECK_THAT(merge_error(shards), Contains("shard2.json is from another sweep"));
  }
  SECTION("a shard of another split is named beside the first") {
    shards[1] = {"other-split.json", s.run({2, 4}, 1, 4)};
    CHECK_THAT(merge_error(shards), Contains("other-split.json is shard 2/4, but shard1.json is shard 1/3"));
  }
  SECTION("an edited point is caught as an edited or damaged input") {
    shards[1].document["results"][0]["policy"] = "window:2M";
    CHECK_THAT(merge_error(shards), Contains("an input was edited or damaged"));
  }
  SECTION("shards that read different traces are refused") {
    shards[1].document["inputs"][0]["events"] = 5;
    CHECK_THAT(merge_error(shards), Contains("the shards read different files"));
  }
  SECTION("an input that is not a sweep is named") {
    shards[0].document = Json::parse(R"({"results": []})");
    CHECK_THAT(merge_error(shards), Contains("shard1.json: not a dartlab sweep result"));
    shards[0].document = Json::parse(R"({"sweep": {"name": "x"}})");
    CHECK_THAT(merge_error(shards), Contains("shard1.json: sweep: hash is missing"));
  }
  SECTION("nothing to merge is an error") { CHECK_THAT(merge_error({}), Contains("nothing to merge")); }
}

TEST_CASE("the Pareto frontier keeps exactly the points nothing dominates", "[sweep][pareto]") {
  using O = sim::ParetoObjectives;
  SECTION("a single point is on the frontier") { CHECK(sim::pareto_front(std::vector<O>{{5, 5, 5}}) == std::vector<bool>{true}); }
  SECTION("no points give an empty frontier") { CHECK(sim::pareto_front(std::vector<O>{}).empty()); }
  SECTION("trade-offs all stay, dominated points go") {
    const std::vector<O> points = {
        {100, 10, 0},  // few bytes, many mappings
        {10, 100, 0},  // few mappings, many bytes
        {50, 50, 0},   // in between
        {60, 60, 0},   // worse than {50, 50, 0}
        {5, 5, 9},     // fails, but has the fewest mappings and bytes
        {100, 10, 1},  // as {100, 10, 0} but one failure more
    };
    CHECK(sim::pareto_front(points) == std::vector<bool>{true, true, true, false, true, false});
  }
  SECTION("equal points are all on the frontier") {
    const std::vector<O> points = {{7, 7, 0}, {7, 7, 0}, {8, 7, 0}};
    CHECK(sim::pareto_front(points) == std::vector<bool>{true, true, false});
  }
  SECTION("a tie in two objectives is settled by the third") {
    const std::vector<O> points = {{7, 7, 1}, {7, 7, 0}};
    CHECK(sim::pareto_front(points) == std::vector<bool>{false, true});
  }
  SECTION("a cap's waits are a cost: fewer mappings bought with waits do not dominate") {
    const std::vector<O> points = {{100, 100, 0, 0}, {10, 10, 0, 500}, {10, 10, 0, 600}, {100, 100, 0, 1}};
    CHECK(sim::pareto_front(points) == std::vector<bool>{true, true, false, false});
  }
}

TEST_CASE("the frontier is per trace and marked on each result", "[sweep][pareto]") {
  sim::SweepParts parts;
  parts.identity.points = 3;
  const auto result = [](int point, const char* trace, int maps, int bytes, int failed) {
    return Json{{"point", point},          {"trace", trace},           {"policy", "p"},
                {"dart", "d"},             {"params", Json::object()}, {"peak_mappings", maps},
                {"peak_mapped_bytes", bytes}, {"failed_maps", failed}};
  };
  parts.results = {result(0, "a", 10, 10, 0), result(1, "a", 20, 20, 0), result(2, "b", 30, 30, 0)};
  const Json doc = sim::sweep_document(parts);
  CHECK(doc["pareto"] == Json::parse(R"([{"trace": "a", "points": [0]}, {"trace": "b", "points": [2]}])"));
  CHECK(doc["results"][0]["pareto"] == true);
  CHECK(doc["results"][1]["pareto"] == false);
  CHECK(doc["results"][2]["pareto"] == true);  // alone in its trace, worse than trace a's points
}

TEST_CASE("the sweep CSV leads with point and pareto and flattens objects", "[sweep]") {
  const Json doc = Json::parse(R"({"results": [
    {"point": 0, "trace": "t \"q\"", "params": {"size": "64K"}, "first_failure": null, "series": {"event": [1]}, "pareto": true},
    {"point": 1, "trace": "t", "params": {"size": "1M"}, "first_failure": {"event": 9, "reason": "slots"}, "pareto": false}]})");
  const std::string csv = sim::sweep_csv(doc);
  CHECK(csv.starts_with("point,pareto,trace,policy,dart,params_size,events,"));
  CHECK(csv.find(",first_failure_event,first_failure_reason,first_failure_line,") != std::string::npos);
  CHECK(csv.find("series") == std::string::npos);
  CHECK(csv.find("\n0,true,\"t \"\"q\"\"\",,,\"64K\",") != std::string::npos);
  CHECK(csv.find("\n1,false,\"t\",,,\"1M\",") != std::string::npos);
  CHECK(csv.find(",9,\"slots\",,") != std::string::npos);
}
