// SPDX-License-Identifier: MIT
// dartlab report: reading replay and sweep JSON as hostile input (errors name file and field,
// nothing half-read is kept), the Pareto frontier, and the page made from hand-made results.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "sim/report/html.hpp"
#include "sim/report/input.hpp"

using namespace dartlab::sim;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using Json = nlohmann::ordered_json;

namespace {

Json series(int points, std::uint64_t live_step, std::uint64_t bytes_step) {
  Json s;
  for (int i = 1; i <= points; ++i) {
    s["event"].push_back(i * 10);
    s["live_mappings"].push_back(live_step * static_cast<std::uint64_t>(i));
    s["mapped_bytes"].push_back(bytes_step * static_cast<std::uint64_t>(i));
    s["requested_bytes"].push_back(bytes_step * static_cast<std::uint64_t>(i) / 2);
    s["frag_index"].push_back(0.01 * i);
  }
  return s;
}

Json result(const std::string& trace, const std::string& policy, std::uint64_t maps, std::uint64_t bytes,
            std::uint64_t slots_failed = 0) {
  Json r;
  r["trace"] = trace;
  r["policy"] = policy;
  r["dart"] = "aperture=1536M,slots=65536,page=16K,alloc=first-fit";
  r["events"] = 1000;
  r["requests"] = 500;
  r["peak_mappings"] = maps;
  r["peak_mapped_bytes"] = bytes;
  r["peak_requested_bytes"] = bytes / 2;
  r["failed_maps"] = slots_failed;
  r["failures_by_reason"] = {{"invalid", 0}, {"slots", slots_failed}, {"aperture", 0}, {"fragmented", 0}};
  r["first_failure"] = slots_failed != 0 ? Json{{"event", 700}, {"reason", "slots"}, {"line", 702}} : Json(nullptr);
  r["reuse_hits"] = 3;
  r["alignment_violations"] = 0;
  r["exposure_peak_bytes"] = bytes / 2;
  r["exposure_mean_bytes"] = bytes / 4.0;
  r["frag_index_peak"] = 0.2;
  r["frag_index_final"] = 0.1;
  r["limits"] = {{"slots", 65536}, {"aperture_bytes", 1536ull << 20}};
  r["series"] = series(20, maps / 20, bytes / 20);
  return r;
}

Json doc(std::initializer_list<Json> results) {
  Json d;
  d["results"] = Json::array();
  for (const Json& r : results) d["results"].push_back(r);
  return d;
}

std::string parse_error(const std::string& text) {
  report::Data data;
  const std::string err = report::parse_results_json("in.json", text, data);
  CHECK(data.results.empty());  // nothing half-read is kept
  CHECK(data.inputs.empty());
  return err;
}

// Sets one field of the first result (by JSON pointer) and returns the parse error.
std::string error_with(const std::string& pointer, const Json& value) {
  Json d = doc({result("t", "direct", 100, 1 << 20)});
  d["results"][0][Json::json_pointer(pointer)] = value;
  return parse_error(d.dump());
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("replay results with every field parse", "[report][input]") {
  report::Data data;
  Json d = doc({result("game.trace", "direct", 4176, 73 << 20, 5), result("game.trace", "window:256K", 313, 88 << 20)});
  d["results"][1]["limits"]["slots"] = nullptr;  // unlimited
  REQUIRE(report::parse_results_json("a.json", d.dump(), data).empty());
  REQUIRE(data.results.size() == 2);
  REQUIRE(data.inputs.size() == 1);
  const report::Result& r = data.results[0];
  CHECK(r.trace == "game.trace");
  CHECK(r.peak_mappings == 4176);
  CHECK(r.failed_maps == 5);
  REQUIRE(r.first_failure);
  CHECK(r.first_failure->event == 700);
  CHECK(r.first_failure->line == 702u);
  REQUIRE(r.series);
  CHECK(r.series->event.size() == 20);
  CHECK(r.series->frag_index[1] == Approx(0.02));
  REQUIRE(r.limits);
  CHECK(r.limits->slots == 65536u);
  CHECK_FALSE(data.results[1].limits->slots.has_value());
  CHECK(data.results[1].index == 1);
  CHECK_FALSE(data.inputs[0].sweep);
  CHECK_FALSE(data.inputs[0].pareto_given);
}

TEST_CASE("results from before the newer fields still parse", "[report][input]") {
  Json r = result("t", "direct", 10, 1 << 20);
  for (const char* key : {"reuse_hits", "alignment_violations", "exposure_peak_bytes", "exposure_mean_bytes",
                          "frag_index_peak", "frag_index_final", "limits", "series"})
    r.erase(key);
  report::Data data;
  REQUIRE(report::parse_results_json("old.json", doc({r}).dump(), data).empty());
  CHECK_FALSE(data.results[0].series);
  CHECK_FALSE(data.results[0].reuse_hits);
}

TEST_CASE("input that is not JSON names file, line and column", "[report][input]") {
  CHECK_THAT(parse_error("{\n  \"results\": [nope]\n}"), StartsWith("in.json:2:"));
  CHECK_THAT(parse_error("{\n  \"results\": [nope]\n}"), Contains("not JSON"));
  CHECK_THAT(parse_error(""), StartsWith("in.json:1:1: not JSON"));
  CHECK_THAT(parse_error("{\"results\": [NaN]}"), Contains("not JSON"));
  CHECK_THAT(parse_error(std::string(100, '[') + std::string(100, ']')), Contains("nested more than"));
}

TEST_CASE("wrong shapes are errors naming the field", "[report][input]") {
  CHECK(parse_error("[1,2]") == "in.json: (top level): expected an object, got an array");
  CHECK(parse_error("{\"traces\": []}") == "in.json: results: missing: not the JSON of dartlab replay, replay --timed or sweep");
  CHECK(parse_error("{\"results\": {}}") == "in.json: results: expected an array, got an object");
  CHECK(parse_error("{\"results\": [7]}") == "in.json: results[0]: expected an object, got 7");
  Json d = doc({result("t", "direct", 100, 1 << 20)});
  d["results"][0].erase("peak_mappings");
  CHECK(parse_error(d.dump()) == "in.json: results[0].peak_mappings: missing");
  CHECK_THAT(error_with("/policy", 5), Contains("results[0].policy: expected a string, got 5"));
  CHECK_THAT(error_with("/failures_by_reason", Json::array()), Contains("results[0].failures_by_reason: expected an object"));
  CHECK_THAT(error_with("/first_failure", "soon"), Contains("results[0].first_failure: expected an object or null"));
  CHECK_THAT(error_with("/limits", Json{{"aperture_bytes", 1}}), Contains("results[0].limits.slots: missing"));
  CHECK_THAT(error_with("/series", 3), Contains("results[0].series: expected an object, got 3"));
  CHECK_THAT(error_with("/series/mapped_bytes", Json::array({1, 2})),
             Contains("results[0].series.mapped_bytes: 2 points, but \"event\" has 20"));
  CHECK_THAT(error_with("/series/event/3", 5), Contains("results[0].series.event[3]: 5 does not follow 30"));
  CHECK_THAT(error_with("/series/event/0", 0), Contains("series.event[0]: event numbers start at 1"));
  CHECK_THAT(error_with("/series/live_mappings/17", -5), Contains("series.live_mappings[17]: expected an unsigned 64-bit integer, got -5"));
  CHECK_THAT(error_with("/pareto", "yes"), Contains("results[0].pareto: expected true or false"));
}

TEST_CASE("numbers out of range are errors: negative, fractional, huge, infinite", "[report][input]") {
  CHECK_THAT(error_with("/peak_mappings", -1), Contains("results[0].peak_mappings: expected an unsigned 64-bit integer, got -1"));
  CHECK_THAT(error_with("/peak_mappings", 1.5), Contains("got 1.5"));
  CHECK_THAT(error_with("/peak_mapped_bytes", 1e30), Contains("results[0].peak_mapped_bytes: expected an unsigned"));
  CHECK_THAT(error_with("/frag_index_peak", 1.5), Contains("results[0].frag_index_peak: 1.5 is outside 0 .. 1"));
  CHECK_THAT(error_with("/exposure_mean_bytes", 2e19), Contains("results[0].exposure_mean_bytes: 2e+19 is outside"));
  CHECK_THAT(error_with("/series/frag_index/2", -0.1), Contains("series.frag_index[2]: -0.1 is outside"));
  // 1e999 reads as infinity
  Json d = doc({result("t", "direct", 100, 1 << 20)});
  std::string text = d.dump();
  const std::string key = "\"exposure_mean_bytes\":";
  const std::size_t at = text.find(key) + key.size();
  text.replace(at, text.find(',', at) - at, "1e999");
  CHECK_THAT(parse_error(text), Contains("in.json: \"exposure_mean_bytes\": number overflow"));
  // A huge integer past 2^64 is not a count either.
  std::string big = doc({result("t", "direct", 100, 1 << 20)}).dump();
  const std::string pm = "\"peak_mappings\":100";
  big.replace(big.find(pm), pm.size(), "\"peak_mappings\":184467440737095516160");
  CHECK_THAT(parse_error(big), Contains("results[0].peak_mappings"));
}

TEST_CASE("refusal counts that disagree are an error", "[report][input]") {
  CHECK_THAT(error_with("/failures_by_reason/slots", 9),
             Contains("results[0].failures_by_reason: adds up to 9, but failed_maps is 0"));
  CHECK_THAT(error_with("/failures_by_reason/aperture", "x"), Contains("failures_by_reason.aperture: expected an unsigned"));
}

TEST_CASE("control characters in names are replaced; HTML characters are kept for escaping", "[report][input]") {
  report::Data data;
  REQUIRE(report::parse_results_json("a.json", doc({result("a\x1b[31m<b>&", "direct", 1, 1)}).dump(), data).empty());
  CHECK(data.results[0].trace == "a?[31m<b>&");
}

TEST_CASE("a sweep's metadata and frontier are read in each form it may take", "[report][input]") {
  Json d = doc({result("t", "window:64K", 10, 100 << 20), result("t", "window:1M", 5, 900 << 20),
                result("t", "direct", 50, 10 << 20)});
  for (int i = 0; i < 3; ++i) d["results"][i]["point"] = 10 + i;
  d["sweep"] = {{"name", "windows"}, {"hash", "abc123"}, {"shard", {{"index", 1}, {"count", 4}}}, {"points", 3}};

  SECTION("a frontier given as point indices marks those results and the sweep's metadata is read") {
    d["pareto"] = {10, 12};
    report::Data data;
    REQUIRE(report::parse_results_json("s.json", d.dump(), data).empty());
    REQUIRE(data.inputs[0].sweep);
    CHECK(data.inputs[0].sweep->name == "windows");
    CHECK(data.inputs[0].sweep->shard == "{\"count\":4,\"index\":1}");
    CHECK(data.inputs[0].sweep->points == 3u);
    CHECK(data.inputs[0].pareto_given);
    CHECK(data.results[0].pareto == true);
    CHECK(data.results[1].pareto == false);
    CHECK(data.results[2].pareto == true);
  }
  SECTION("a frontier given as flags marks the flagged results") {
    d["pareto"] = {false, true, false};
    report::Data data;
    REQUIRE(report::parse_results_json("s.json", d.dump(), data).empty());
    CHECK(data.results[1].pareto == true);
    CHECK(data.results[0].pareto == false);
  }
  SECTION("frontier flags of the wrong count are an error") {
    d["pareto"] = {true};
    CHECK(parse_error(d.dump()) == "in.json: pareto: 1 flags for 3 results");
  }
  SECTION("result positions past the results are an error when results carry no point") {
    for (auto& r : d["results"]) r.erase("point");
    d["pareto"] = {7};
    CHECK(parse_error(d.dump()) == "in.json: pareto[0]: result 7 of 3");
  }
  SECTION("a sweep without a frontier reads as not given") {
    report::Data data;
    REQUIRE(report::parse_results_json("s.json", d.dump(), data).empty());
    CHECK_FALSE(data.inputs[0].pareto_given);
  }
  SECTION("a sweep that is not an object is an error") {
    d["sweep"] = "big";
    CHECK(parse_error(d.dump()) == "in.json: sweep: expected an object, got a string");
  }
}

TEST_CASE("the Pareto frontier keeps exactly the undominated points", "[report][pareto]") {
  const std::vector<report::ParetoPoint> points = {
      {100, 1000, 0},  // frontier
      {10, 5000, 0},   // frontier: fewest mappings
      {200, 2000, 0},  // dominated by the first
      {5, 100, 50},    // frontier: refuses, but fewest of both peaks
      {100, 1000, 0},  // a tie with the first: both stay
      {100, 1000, 1},  // dominated by the first (more refusals)
  };
  CHECK(report::pareto_frontier(points) == std::vector<bool>{true, true, false, true, true, false});
  CHECK(report::pareto_frontier({}).empty());
  // A cap's waits are a cost: its fewer mappings do not push the uncapped run off the frontier.
  const std::vector<report::ParetoPoint> capped = {{100, 1000, 0, 0}, {10, 100, 0, 900}, {10, 100, 0, 901}};
  CHECK(report::pareto_frontier(capped) == std::vector<bool>{true, true, false});
}

TEST_CASE("the page from hand-made results has its plots, tables and refusals, escaped, offline", "[report][html]") {
  report::Data data;
  Json d = doc({result("game <1>.trace", "direct", 4000, 70 << 20, 30),
                result("game <1>.trace", "window:256K", 300, 84 << 20),
                result("game <1>.trace", "window:1M", 80, 90 << 20, 2),
                result("game <1>.trace", "<img src=x onerror=alert(1)>", 5000, 900 << 20)});
  d["results"][0]["limits"]["slots"] = 2048;
  REQUIRE(report::parse_results_json("a&b.json", d.dump(), data).empty());
  const std::string html = report::render_html(data, {.title = "My <report>"});

  CHECK_THAT(html, StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(html, Contains("<title>My &lt;report&gt;</title>"));
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<report>") == std::string::npos);
  CHECK_THAT(html, Contains("game &lt;1&gt;.trace"));
  CHECK_THAT(html, Contains("a&amp;b.json"));
  CHECK(html.find("http") == std::string::npos);  // nothing from the network, not even an xmlns

  // One trace: live mappings, mapped bytes, fragmentation, Pareto.
  CHECK(count(html, "<svg class=\"plot\"") == 4);
  CHECK(count(html, "data-kind=\"line\"") == 3);
  CHECK_THAT(html, Contains("host limit: 65,536 mappings"));
  CHECK_THAT(html, Contains("host limit: 1.5 GiB"));
  CHECK_THAT(html, Contains("slots=2,048"));  // the first result's own limit

  // The frontier: direct refuses most but maps the fewest bytes; window:256K refuses none;
  // window:1M has the fewest mappings. window:256K beats the <img> policy on all three.
  CHECK(count(html, "<td class=\"c\">&#9670;</td>") == 3);

  // Refusals: most first.
  const std::size_t failures = html.find("<section id=\"failures\">");
  REQUIRE(failures != std::string::npos);
  const std::size_t direct_row = html.find(">direct</td>", failures);
  const std::size_t window_row = html.find(">window:1M</td>", failures);
  REQUIRE(direct_row != std::string::npos);
  REQUIRE(window_row != std::string::npos);
  CHECK(direct_row < window_row);
  CHECK_THAT(html.substr(failures), Contains("slots at event 700 (kIOReturnNoSpace)"));
  CHECK_THAT(html.substr(failures), Contains(">slots 30 (kIOReturnNoSpace)</span>"));
  CHECK_THAT(html, Contains("data-ok"));  // the self-check the rendering test reads
}

TEST_CASE("the page names a refusal by the host's return code where it has one, and keeps unknown reasons as they are",
          "[report][html][host]") {
  report::Data data;
  Json r = result("t", "window:256K", 300, 84 << 20, 4);
  r["failures_by_reason"] = {{"slots", 0}, {"aperture", 1}, {"duplicate", 2}, {"from-the-future", 1}};
  r["first_failure"] = Json{{"event", 9}, {"reason", "duplicate"}};
  REQUIRE(report::parse_results_json("r.json", doc({r}).dump(), data).empty());
  const std::string html = report::render_html(data, {});
  CHECK_THAT(html, Contains(">duplicate 2 (kIOReturnStillOpen)</span>"));
  CHECK_THAT(html, Contains(">aperture 1</span>"));
  CHECK_THAT(html, Contains(">from-the-future 1</span>"));
  CHECK_THAT(html, Contains("duplicate at event 9 (kIOReturnStillOpen)"));
}

TEST_CASE("results without series get the Pareto plot and a note; many results are capped per chart", "[report][html]") {
  SECTION("results without series get only the Pareto plot and a note") {
    Json r = result("t", "direct", 10, 1 << 20);
    r.erase("series");
    report::Data data;
    REQUIRE(report::parse_results_json("a.json", doc({r}).dump(), data).empty());
    const std::string html = report::render_html(data, {});
    CHECK(count(html, "<svg class=\"plot\"") == 1);
    CHECK_THAT(html, Contains("carry no time series"));
  }
  SECTION("more results than lines are capped per chart, all kept in the Pareto plot") {
    Json d = doc({});
    for (int i = 0; i < 20; ++i) d["results"].push_back(result("t", "window:" + std::to_string(16 << i) + "K", 100 + i, 1000000 - i));
    report::Data data;
    REQUIRE(report::parse_results_json("a.json", d.dump(), data).empty());
    const std::string html = report::render_html(data, {.max_lines = 5});
    CHECK_THAT(html, Contains("show 5 of 20 results"));
    // 5 lines in each of 3 charts, plus the requested bytes line.
    CHECK(count(html, "<path class=\"series\"") == 16);
    CHECK(count(html, "<g class=\"series\"") == 20);  // every point in the Pareto plot
  }
  SECTION("inputs are grouped by trace and one configuration in two files is told apart by file") {
    report::Data data;
    REQUIRE(report::parse_results_json("a.json", doc({result("t1", "direct", 10, 1 << 20)}).dump(), data).empty());
    REQUIRE(report::parse_results_json("b.json", doc({result("t1", "direct", 12, 1 << 21), result("t2", "direct", 1, 1)}).dump(),
                                       data).empty());
    const std::string html = report::render_html(data, {});
    CHECK(count(html, "<section class=\"trace\"") == 2);
    CHECK(count(html, "<svg class=\"plot\"") == 8);
    CHECK_THAT(html, Contains("direct [a.json]"));  // the same configuration twice: told apart by file
    CHECK_THAT(html, Contains("direct [b.json]"));
  }
  SECTION("a page of nothing at all says it holds no results") {
    const std::string html = report::render_html(report::Data{}, {});
    CHECK_THAT(html, Contains("hold no results"));
    CHECK_THAT(html, Contains("No configuration refused a map"));
  }
}

namespace {

// One run as `dartlab replay --timed --json` writes it (the fields the report reads).
Json timed_run(const std::string& policy, double mapping_ns, double p99_ns, std::uint64_t flush_timeouts = 0) {
  return Json{{"trace", "game <1>.trace"},
              {"format", "text"},
              {"policy", policy},
              {"dart", "aperture=1536M,slots=65536,page=16K"},
              {"link", "tb3"},
              {"events", 1000},
              {"map_requests", 500},
              {"failed_maps", 0},
              {"simulated_time_ns", mapping_ns + 3000.0},
              {"mapping_time_ns", mapping_ns},
              {"transfer_time_ns", 3000.0},
              {"dma_gib_per_s", {{"h2d", 2.5}, {"d2h", 0.0}}},
              {"transfer_time_ns_by_dir", {{"h2d", 3000.0}, {"d2h", 0.0}}},
              {"iotlb_hit_rate", 0.9},
              {"map_latency_ns", {{"count", 500}, {"p50", 5000.0}, {"p99", p99_ns}, {"mean", 6000.0}, {"max", p99_ns + 1}}},
              {"host_time_ns",
               {{"doorbell", 100.0}, {"mapper", 10.0}, {"service", 300.0}, {"pte", 20.0}, {"invalidation", 700.0}}},
              {"host_calls", {{"maps", 40}, {"unmaps", 40}, {"flushes", 80}, {"flush_timeouts", flush_timeouts}}},
              {"faults", {{"total", 0}}}};
}

std::string timed_error_with(const std::string& pointer, const Json& value) {
  Json d = {{"timed", Json::array({timed_run("direct", 1000, 9000)})}};
  d["timed"][0][Json::json_pointer(pointer)] = value;
  report::Data data;
  const std::string err = report::parse_results_json("t.json", d.dump(), data);
  CHECK(data.timed.empty());
  CHECK(data.inputs.empty());
  return err;
}

}  // namespace

TEST_CASE("replay --timed JSON is read: its runs, their time, latency and flushes", "[report][input]") {
  report::Data data;
  const Json d = {{"timed", Json::array({timed_run("direct", 1000, 9000), timed_run("window:256K", 400, 7000, 80)})}};
  REQUIRE(report::parse_results_json("t.json", d.dump(), data).empty());
  REQUIRE(data.timed.size() == 2);
  CHECK(data.results.empty());
  REQUIRE(data.inputs.size() == 1);
  CHECK(data.inputs[0].timed == 2);
  const report::TimedRun& t = data.timed[1];
  CHECK(t.policy == "window:256K");
  CHECK(t.mapping_ns == 400);
  CHECK(t.transfer_h2d_ns == 3000);
  CHECK(t.map_p99_ns == 7000);
  CHECK(t.flush_timeouts == std::optional<std::uint64_t>(80));
  // The host's steps in the mapping path's order, whatever order the parser keeps.
  REQUIRE(t.host_ns.size() == 5);
  CHECK(t.host_ns[0].first == "doorbell");
  CHECK(t.host_ns[4].first == "invalidation");
  CHECK(t.host_ns[4].second == 700);
}

TEST_CASE("hostile replay --timed JSON is refused naming the field", "[report][input]") {
  CHECK(timed_error_with("/simulated_time_ns", -1) == "t.json: timed[0].simulated_time_ns: -1 is outside 0 .. 1.8e+19");
  CHECK_THAT(timed_error_with("/mapping_time_ns", 1e9), Contains("timed[0].mapping_time_ns: 1000000000 is more than simulated"));
  CHECK_THAT(timed_error_with("/map_latency_ns/p50", 1e9), Contains("timed[0].map_latency_ns: p50"));
  CHECK(timed_error_with("/host_time_ns", "x") == "t.json: timed[0].host_time_ns: expected an object, got a string");
  CHECK(timed_error_with("/link", nullptr) == "t.json: timed[0].link: missing");
  CHECK(timed_error_with("/host_calls/flush_timeouts", -3) ==
        "t.json: timed[0].host_calls.flush_timeouts: expected an unsigned 64-bit integer, got -3");
}

TEST_CASE("the page of timed runs draws where the time went, the host's steps and the latency", "[report][html]") {
  report::Data data;
  const Json d = {{"timed", Json::array({timed_run("direct", 1000, 9000), timed_run("<b>odd</b>", 400, 7000, 80)})}};
  REQUIRE(report::parse_results_json("t.json", d.dump(), data).empty());
  const std::string html = report::render_html(data, {});
  CHECK_THAT(html, Contains("<section id=\"timed\">"));
  CHECK(count(html, "data-kind=\"bar\"") == 3);
  CHECK_THAT(html, Contains("2 timed runs from 1 file"));
  CHECK_THAT(html, Contains("80 timed out"));
  CHECK(html.find("<b>odd</b>") == std::string::npos);
  CHECK_THAT(html, Contains("&lt;b&gt;odd&lt;/b&gt;"));
  CHECK(html.find("http") == std::string::npos);
}

TEST_CASE("a cap run's waits are read, checked, tabled and plotted over the trace", "[report][input][html]") {
  Json capped = result("game.trace", "cap:window:128K,windows=5600", 5600, 700 << 20);
  capped["waits"] = {{"count", 40}, {"longest_events", 900}, {"cancelled", 10}, {"still_waiting", 2}, {"accesses", 3}};
  for (int i = 0; i < 20; ++i) capped["series"]["waiting"].push_back(i % 5);
  Json plain = result("game.trace", "window:128K", 9000, 900 << 20);
  plain["waits"] = {{"count", 0}, {"longest_events", 0}, {"cancelled", 0}, {"still_waiting", 0}, {"accesses", 0}};
  report::Data data;
  REQUIRE(report::parse_results_json("cap.json", doc({capped, plain}).dump(), data).empty());
  REQUIRE(data.results[0].waits);
  CHECK(data.results[0].waits->count == 40);
  CHECK(data.results[0].waits->longest_events == 900);
  REQUIRE(data.results[0].series);
  CHECK(data.results[0].series->waiting.size() == 20);
  CHECK(data.results[1].series->waiting.empty());
  const std::string html = report::render_html(data, {});
  CHECK(count(html, "<svg class=\"plot\"") == 5);  // live, mapped, fragmentation, waits, Pareto
  CHECK_THAT(html, Contains("Requests waiting for room (cap)"));
  CHECK_THAT(html, Contains("40 / 900 / 10"));

  SECTION("when no run waited there is no plot and no column of waits") {
    report::Data none;
    REQUIRE(report::parse_results_json("plain.json", doc({plain}).dump(), none).empty());
    const std::string page = report::render_html(none, {});
    CHECK(count(page, "<svg class=\"plot\"") == 4);
    CHECK(page.find("waits / longest") == std::string::npos);
  }
  SECTION("wait counts that cannot be are refused") {
    capped["waits"]["cancelled"] = 41;
    CHECK_THAT(parse_error(doc({capped}).dump()), Contains("results[0].waits: 41 cancelled and 2 still waiting, of 40 waits"));
    capped["waits"]["cancelled"] = 10;
    capped["series"]["waiting"].push_back(1);
    CHECK_THAT(parse_error(doc({capped}).dump()), Contains("series.waiting: 21 points"));
  }
}
