// SPDX-License-Identifier: MIT
// One CSV schema for replay, sweep and merge: the same column names for the same fields.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/replay/results_output.hpp"
#include "sim/sweep/output.hpp"

using namespace dartlab;
using Json = nlohmann::ordered_json;

namespace {

sim::TraceOutcome outcome_with_a_failure() {
  sim::TraceOutcome t;
  t.trace = "a \"quoted\" trace";
  t.format = "text";
  t.events = 10;
  sim::RunResult r;
  r.policy = "window:256K";
  r.dart = "slots=2";
  r.peak_mappings = 2;
  r.failed_maps = 1;
  r.first_failure = sim::FirstFailure{true, 7, 9, dartlab::MapError::Slots};
  r.exposure_mean_bytes = 1.5;
  r.slot_limit = 2;
  t.results.push_back(r);
  return t;
}

// NAME or OBJECT_KEY for every scalar of a result, in order.
std::vector<std::string> scalar_fields(const Json& result) {
  std::vector<std::string> out;
  for (const auto& [k, v] : result.items()) {
    if (v.is_array()) continue;
    if (v.is_object()) {
      for (const auto& [sk, sv] : v.items())
        if (!sv.is_structured()) out.push_back(k + "_" + sk);
      continue;
    }
    out.push_back(k);
  }
  return out;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

TEST_CASE("every scalar field of a replay result has its CSV column, host timing aside") {
  const sim::TraceOutcome t = outcome_with_a_failure();
  const Json doc = sim::results_json(std::span(&t, 1));
  std::vector<std::string> fields = scalar_fields(doc["results"][0]);
  fields.erase(std::remove(fields.begin(), fields.end(), "wall_seconds"), fields.end());
  CHECK(fields == sim::result_csv_columns());
}

TEST_CASE("replay's CSV cells are the JSON's values, quoted strings, empty nulls") {
  const sim::TraceOutcome t = outcome_with_a_failure();
  const std::string csv = sim::results_csv(std::span(&t, 1));
  CHECK(first_line(csv).starts_with("trace,policy,dart,events,requests,peak_mappings,"));
  CHECK(csv.find("failures_by_reason_slots,failures_by_reason_aperture,") != std::string::npos);
  CHECK(csv.find(",first_failure_event,first_failure_reason,first_failure_line,") != std::string::npos);
  const std::string row = csv.substr(csv.find('\n') + 1);
  CHECK(row.starts_with("\"a \"\"quoted\"\" trace\",\"window:256K\",\"slots=2\",10,0,2,"));
  CHECK(row.find(",7,\"slots\",9,") != std::string::npos);
  CHECK(row.find(",1.5,") != std::string::npos);
}

TEST_CASE("the sweep CSV is replay's with point, pareto and params columns added") {
  const sim::TraceOutcome t = outcome_with_a_failure();
  Json result = sim::results_json(std::span(&t, 1))["results"][0];
  result.erase("wall_seconds");
  Json swept = {{"point", 3}};
  for (const auto& [k, v] : result.items()) {
    swept[k] = v;
    if (k == "dart") swept["params"] = {{"size", "256K"}};
  }
  swept["pareto"] = true;
  const Json doc = {{"results", Json::array({swept})}};
  const std::string sweep = sim::sweep_csv(doc);
  const std::string replay = sim::results_csv(std::span(&t, 1));
  // The header: point,pareto, then replay's, params_size after dart.
  std::string expected_header = "point,pareto," + first_line(replay);
  expected_header.insert(expected_header.find(",dart,") + 5, ",params_size");
  CHECK(first_line(sweep) == expected_header);
  // The row: 3,true, then replay's cells, "256K" after the dart.
  std::string replay_row = replay.substr(replay.find('\n') + 1);
  std::string expected_row = "3,true," + replay_row;
  expected_row.insert(expected_row.find("\"slots=2\"") + 9, ",\"256K\"");
  CHECK(sweep.substr(sweep.find('\n') + 1) == expected_row);
}

TEST_CASE("a sharded sweep's CSV keeps the pareto column, empty") {
  const Json doc = Json::parse(R"({"results": [{"point": 0, "trace": "t", "params": {}, "first_failure": null}]})");
  const std::string csv = sim::sweep_csv(doc);
  CHECK(first_line(csv).starts_with("point,pareto,trace,policy,dart,events,"));
  CHECK(csv.substr(csv.find('\n') + 1).starts_with("0,,\"t\",,,,"));
}

TEST_CASE("refusals are reported under the host's return codes too, old reason names kept", "[host]") {
  sim::TraceOutcome t = outcome_with_a_failure();
  sim::RunResult& r = t.results.front();
  r.failed_maps = 6;
  const auto count = [&r](dartlab::MapError e, std::uint64_t n) { r.failures_by_reason[static_cast<int>(e)] = n; };
  count(dartlab::MapError::Slots, 1);
  count(dartlab::MapError::Aperture, 2);
  count(dartlab::MapError::Duplicate, 3);
  const Json result = sim::results_json(std::span(&t, 1))["results"][0];
  const Json& reasons = result["failures_by_reason"];
  CHECK(reasons.size() == 7);  // every reason but cap (a replay's waits): pool, duplicate, truncated added
  CHECK(reasons["slots"] == 1);
  CHECK(reasons["aperture"] == 2);
  CHECK(reasons["duplicate"] == 3);
  CHECK(reasons["truncated"] == 0);
  CHECK(result["failures_by_host_code"] == Json::parse(R"({"kIOReturnBadArgument": 0, "kIOReturnNoSpace": 1,
                                                            "kIOReturnNotAligned": 0, "kIOReturnStillOpen": 3})"));
  CHECK(result["first_failure"]["host_code"] == "kIOReturnNoSpace");
  r.first_failure.reason = dartlab::MapError::Aperture;  // no code of the host's own
  CHECK(sim::results_json(std::span(&t, 1))["results"][0]["first_failure"]["host_code"].is_null());
  const std::string csv = sim::results_csv(std::span(&t, 1));
  CHECK(csv.find(",failures_by_reason_fragmented,failures_by_reason_pool,failures_by_reason_duplicate,"
                 "failures_by_reason_truncated,failures_by_host_code_kIOReturnBadArgument,failures_by_host_code_kIOReturnNoSpace,") != std::string::npos);
  CHECK(csv.find(",first_failure_line,first_failure_host_code,") != std::string::npos);
}

TEST_CASE("the replay table names the first refusal's host return code beside dartlab's reason", "[host]") {
  sim::TraceOutcome t = outcome_with_a_failure();
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  REQUIRE(out != nullptr);
  sim::print_results_table(out, std::span(&t, 1));
  t.results.front().first_failure.reason = dartlab::MapError::Truncated;
  sim::print_results_table(out, std::span(&t, 1));
  std::fclose(out);
  const std::string table(text, size);
  std::free(text);
  CHECK(table.find("slots at event 7 (kIOReturnNoSpace)") != std::string::npos);
  CHECK(table.find("truncated at event 7\n") != std::string::npos);
}
