// SPDX-License-Identifier: MIT
// Reading a sweep's config (TOML or JSON) into its points, its identity hash and shards. Past 500
// lines on purpose: the document reader, parameter ranges, templates and expansion are one
// grammar whose helpers share the Document (its source and line for every message); split, each
// part would export them only for the next to import.
#include "sim/sweep/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "models/dart/dart_config.hpp"
#include "passthrough/mapper/policy.hpp"
#include "base/size_text.hpp"
#include "base/join.hpp"

namespace dartlab::sim {

namespace {

using Json = nlohmann::ordered_json;

// Config errors travel as this exception inside this file only; parse_sweep_config turns it
// into an error value. A config is read once, so nothing here is on a hot path.
struct ConfigError {
  std::string message;
};

// The parsed document as JSON, whatever the file's format, and the line of each key (TOML only;
// nlohmann keeps no positions), so messages can say "cfg.toml:7: params.keep.mul: ...".
struct Document {
  Json root;
  std::map<std::string, std::uint64_t> lines;
  std::string source;

  std::string where(const std::string& key) const {
    const auto it = lines.find(key);
    if (it != lines.end()) return fmt::format("{}:{}: {}", source, it->second, key);
    return fmt::format("{}: {}", source, key);
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ConfigError{fmt::format("{}: {}", where(key), what)};
  }
};

[[noreturn]] void too_deep(const std::string& where) {
  throw ConfigError{fmt::format("{}: nested more than {} levels deep (a sweep config needs 3: params.NAME.from)", where,
                                kMaxConfigDepth)};
}

[[noreturn]] void too_long(const std::string& where, std::size_t items) {
  throw ConfigError{fmt::format("{}: a list of {} items; at most {}", where, items, kMaxListItems)};
}

// Depth and list length are checked before a level is converted: a hostile file is refused
// having cost no more than its parse.
Json toml_to_json(const toml::node& node, const std::string& key, Document& doc, std::size_t depth = 0) {
  doc.lines.emplace(key, node.source().begin.line);
  const auto where = [&] { return fmt::format("{}:{}: {}", doc.source, node.source().begin.line, key); };
  if ((node.is_table() || node.is_array()) && depth > kMaxConfigDepth) too_deep(where());
  if (const auto* t = node.as_table()) {
    Json out = Json::object();
    for (auto&& [k, v] : *t) {
      const std::string name(k.str());
      out[name] = toml_to_json(v, key.empty() ? name : key + "." + name, doc, depth + 1);
    }
    return out;
  }
  if (const auto* a = node.as_array()) {
    if (a->size() > kMaxListItems) too_long(where(), a->size());
    Json out = Json::array();
    for (std::size_t i = 0; i < a->size(); ++i)
      out.push_back(toml_to_json(*a->get(i), fmt::format("{}[{}]", key, i), doc, depth + 1));
    return out;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* b = node.as_boolean()) return b->get();
  doc.fail(key, "dates and times mean nothing in a sweep");
}

Document parse_document(std::string_view text, SweepFormat format, const std::string& source) {
  Document doc;
  doc.source = source;
  if (format == SweepFormat::Toml) {
    try {
      const toml::table table = toml::parse(text, source);
      doc.root = toml_to_json(table, "", doc);
    } catch (const toml::parse_error& e) {
      throw ConfigError{fmt::format("{}:{}:{}: error: {}", source, e.source().begin.line, e.source().begin.column,
                                    e.description())};
    }
  } else {
    // Depth and list lengths are checked as the parser goes, so a hostile file stops early.
    struct Level {
      bool array;
      std::size_t items;
    };
    std::vector<Level> levels;
    const auto one_more_item = [&] {
      if (!levels.empty() && levels.back().array && ++levels.back().items > kMaxListItems)
        too_long(source, levels.back().items);
    };
    const Json::parser_callback_t bound = [&](int, Json::parse_event_t event, Json&) {
      switch (event) {
        case Json::parse_event_t::object_start:
        case Json::parse_event_t::array_start:
          if (levels.size() > kMaxConfigDepth) too_deep(source);
          levels.push_back({event == Json::parse_event_t::array_start, 0});
          break;
        case Json::parse_event_t::object_end:
        case Json::parse_event_t::array_end:
          levels.pop_back();
          one_more_item();
          break;
        case Json::parse_event_t::value: one_more_item(); break;
        case Json::parse_event_t::key: break;
      }
      return true;
    };
    try {
      doc.root = Json::parse(text, bound);
    } catch (const Json::exception& e) {
      throw ConfigError{fmt::format("{}: error: not JSON: {}", source, e.what())};
    }
    if (!doc.root.is_object()) throw ConfigError{source + ": error: the config must be a JSON object"};
  }
  return doc;
}

// A parameter's value as it goes into a spec string.
std::string value_text(const Json& v, const Document& doc, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  if (v.is_number_float()) return v.dump();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  doc.fail(key, "a value must be a string, a number or a boolean");
}

// A range bound or step: an integer, or a size string such as "64K".
std::uint64_t range_number(const Json& v, const Document& doc, const std::string& key, bool* was_size) {
  std::uint64_t n = 0;
  if (v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    n = v.get<std::uint64_t>();
    if (was_size) *was_size = false;
  } else if (v.is_string() && parse_size(v.get<std::string>(), n)) {
    if (was_size) *was_size = true;
  } else {
    doc.fail(key, fmt::format("'{}' is not a count or a size (a whole number >= 0, or e.g. \"64K\")",
                              v.is_string() ? v.get<std::string>() : v.dump()));
  }
  return n;
}

std::vector<std::string> range_values(const Json& range, const Document& doc, const std::string& key) {
  for (const auto& [k, v] : range.items())
    if (k != "from" && k != "to" && k != "mul" && k != "add")
      doc.fail(key + "." + k, "unknown key in a range (known: from, to, mul, add)");
  if (!range.contains("from") || !range.contains("to"))
    doc.fail(key, "a range needs from and to, and one of mul or add");
  if (range.contains("mul") == range.contains("add")) doc.fail(key, "a range needs exactly one of mul or add");
  bool sizes = false;
  const std::uint64_t from = range_number(range["from"], doc, key + ".from", &sizes);
  const std::uint64_t to = range_number(range["to"], doc, key + ".to", nullptr);
  if (from > to) doc.fail(key, fmt::format("empty range: from {} is past to {}", from, to));
  const bool mul = range.contains("mul");
  const std::string step_key = key + (mul ? ".mul" : ".add");
  const std::uint64_t step = range_number(range[mul ? "mul" : "add"], doc, step_key, nullptr);
  if (mul && step < 2) doc.fail(step_key, "a multiplier must be at least 2");
  if (mul && from == 0) doc.fail(key + ".from", "a multiplied range cannot start at 0");
  if (!mul && step == 0) doc.fail(step_key, "a step must be at least 1");
  std::vector<std::string> values;
  for (std::uint64_t v = from;;) {
    if (values.size() == kMaxRangeValues)
      doc.fail(key, fmt::format("the range has more than {} values", kMaxRangeValues));
    values.push_back(sizes ? format_size(v) : std::to_string(v));
    std::uint64_t next = 0;
    const bool overflow = mul ? __builtin_mul_overflow(v, step, &next) : __builtin_add_overflow(v, step, &next);
    if (overflow || next > to) break;
    v = next;
  }
  return values;
}

std::map<std::string, std::vector<std::string>> parse_params(const Document& doc) {
  std::map<std::string, std::vector<std::string>> params;
  if (!doc.root.contains("params")) return params;
  const Json& table = doc.root["params"];
  if (!table.is_object()) doc.fail("params", "must be a table of name = values");
  for (const auto& [name, v] : table.items()) {
    const std::string key = "params." + name;
    const bool good_name = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (!good_name) doc.fail(key, "a parameter name is letters, digits, '_' and '-'");
    std::vector<std::string> values;
    if (v.is_array()) {
      if (v.empty()) doc.fail(key, "an empty list: a parameter needs at least one value");
      std::set<std::string> seen;
      for (std::size_t i = 0; i < v.size(); ++i) {
        std::string text = value_text(v[i], doc, fmt::format("{}[{}]", key, i));
        if (!seen.insert(text).second) doc.fail(fmt::format("{}[{}]", key, i), fmt::format("'{}' is listed twice", text));
        values.push_back(std::move(text));
      }
    } else if (v.is_object()) {
      values = range_values(v, doc, key);
    } else {
      doc.fail(key, "must be a list of values, or a range { from = A, to = B, mul = M } (or add = D)");
    }
    params.emplace(name, std::move(values));
  }
  return params;
}

// The {name}s a template uses, sorted and unique.
std::vector<std::string> names_in(const std::string& tpl, const Document& doc, const std::string& key) {
  std::set<std::string> names;
  for (std::size_t at = 0; (at = tpl.find_first_of("{}", at)) != std::string::npos;) {
    if (tpl[at] == '}') doc.fail(key, fmt::format("'{}': a '}}' with no '{{' before it", tpl));
    const std::size_t end = tpl.find_first_of("{}", at + 1);
    if (end == std::string::npos || tpl[end] == '{') doc.fail(key, fmt::format("'{}': a '{{' with no '}}' after it", tpl));
    if (end == at + 1) doc.fail(key, fmt::format("'{}': an empty {{}}", tpl));
    names.insert(tpl.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return {names.begin(), names.end()};
}

std::string substitute(const std::string& tpl, const std::map<std::string, std::string>& values) {
  std::string out;
  for (std::size_t at = 0;;) {
    const std::size_t open = tpl.find('{', at);
    if (open == std::string::npos) return out + tpl.substr(at);
    const std::size_t close = tpl.find('}', open);
    out += tpl.substr(at, open - at);
    out += values.at(tpl.substr(open + 1, close - open - 1));
    at = close + 1;
  }
}

std::string describe(const std::map<std::string, std::string>& values) {
  return join(values, ", ", [](const auto& kv) { return kv.first + "=" + kv.second; });
}

// Every combination of the named parameters' values, the last name varying fastest.
std::vector<std::map<std::string, std::string>> combinations(
    const std::vector<std::string>& names, const std::map<std::string, std::vector<std::string>>& params,
    const std::map<std::string, std::string>& fixed) {
  std::vector<std::map<std::string, std::string>> out{fixed};
  for (const std::string& name : names) {
    std::vector<std::map<std::string, std::string>> next;
    for (const auto& partial : out)
      for (const std::string& v : params.at(name)) {
        next.push_back(partial);
        next.back()[name] = v;
      }
    out = std::move(next);
  }
  return out;
}

std::vector<std::string> string_list(const Document& doc, const std::string& key, bool required) {
  std::vector<std::string> out;
  if (!doc.root.contains(key)) {
    if (required) doc.fail(key, "missing: the sweep needs at least one");
    return out;
  }
  const Json& list = doc.root[key];
  if (!list.is_array()) doc.fail(key, "must be a list of strings");
  if (list.empty()) doc.fail(key, "an empty list");
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string()) doc.fail(fmt::format("{}[{}]", key, i), "must be a string");
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

// One (policy, DART) pair of the expansion, before it meets the traces.
struct Combo {
  std::string policy;
  std::string dart;
  std::map<std::string, std::string> params;
  RunConfig config;
  std::string origin;  // "policies[1] 'window:{size}' with size=256K, darts[0] ''"
};

std::vector<Combo> expand(const Document& doc, const std::map<std::string, std::vector<std::string>>& params,
                          std::size_t traces) {
  const std::vector<std::string> policies = string_list(doc, "policies", true);
  std::vector<std::string> darts = string_list(doc, "darts", false);
  if (darts.empty()) darts.push_back("");  // the defaults

  std::set<std::string> used;
  const auto names_checked = [&](const std::string& tpl, const std::string& key) {
    std::vector<std::string> names = names_in(tpl, doc, key);
    for (const std::string& n : names) {
      if (!params.contains(n)) {
        const std::string known = join(params, ", ", [](const auto& kv) -> const std::string& { return kv.first; });
        doc.fail(key, fmt::format("'{}' names {{{}}}, which [params] does not define{}", tpl, n,
                                  known.empty() ? "" : " (it defines: " + known + ")"));
      }
      used.insert(n);
    }
    return names;
  };
  std::vector<std::vector<std::string>> dart_names;
  for (std::size_t d = 0; d < darts.size(); ++d) dart_names.push_back(names_checked(darts[d], fmt::format("darts[{}]", d)));

  std::vector<std::vector<std::string>> policy_names;
  for (std::size_t p = 0; p < policies.size(); ++p)
    policy_names.push_back(names_checked(policies[p], fmt::format("policies[{}]", p)));
  for (const auto& [name, values] : params)
    if (!used.contains(name)) doc.fail("params." + name, fmt::format("no policy or dart names {{{}}}", name));

  // Count before expanding: a product can explode long before the points are built.
  const auto product = [&](const std::vector<std::string>& names, const std::vector<std::string>& skip) {
    double n = 1;
    for (const std::string& name : names)
      if (std::find(skip.begin(), skip.end(), name) == skip.end()) n *= static_cast<double>(params.at(name).size());
    return n;
  };
  double count = 0;
  for (const auto& pnames : policy_names)
    for (const auto& dnames : dart_names) count += product(pnames, {}) * product(dnames, pnames);
  count *= static_cast<double>(traces);
  if (count > static_cast<double>(kMaxSweepPoints))
    throw ConfigError{fmt::format("{}: the sweep expands to {:.0f} points; at most {}", doc.source, count, kMaxSweepPoints)};

  std::vector<Combo> combos;
  std::map<std::pair<std::string, std::string>, std::size_t> seen;
  for (std::size_t p = 0; p < policies.size(); ++p) {
    const std::string pkey = fmt::format("policies[{}]", p);
    const std::vector<std::string>& pnames = policy_names[p];
    for (const auto& pvalues : combinations(pnames, params, {})) {
      const std::string pspec = substitute(policies[p], pvalues);
      const std::string pdesc =
          fmt::format("'{}'{}", policies[p], pvalues.empty() ? "" : " with " + describe(pvalues));
      auto policy = mapper::parse_policy(pspec);
      if (const auto* err = std::get_if<std::string>(&policy)) doc.fail(pkey, fmt::format("{}: {}", pdesc, *err));
      for (std::size_t d = 0; d < darts.size(); ++d) {
        const std::string dkey = fmt::format("darts[{}]", d);
        std::vector<std::string> dnames;
        for (const std::string& n : dart_names[d])
          if (!pvalues.contains(n)) dnames.push_back(n);
        for (const auto& values : combinations(dnames, params, pvalues)) {
          const std::string dspec = substitute(darts[d], values);
          auto dart_config = dart::parse_dart_spec(dspec);
          std::map<std::string, std::string> dvalues;
          for (const std::string& n : dart_names[d]) dvalues[n] = values.at(n);
          const std::string ddesc =
              fmt::format("'{}'{}", darts[d], dvalues.empty() ? "" : " with " + describe(dvalues));
          if (const auto* err = std::get_if<std::string>(&dart_config)) doc.fail(dkey, fmt::format("{}: {}", ddesc, *err));
          Combo c;
          c.config = RunConfig{std::get<mapper::Policy>(policy), std::get<dart::DartConfig>(dart_config)};
          c.policy = c.config.policy.spec();
          c.dart = dart::to_spec(c.config.dart);
          c.params = values;
          c.origin = fmt::format("{} {}, {} {}", pkey, pdesc, dkey, ddesc);
          const auto [it, fresh] = seen.emplace(std::pair{c.policy, c.dart}, combos.size());
          if (!fresh)
            doc.fail(pkey, fmt::format("{} and {} are the same run (policy {}, dart {}): list it once",
                                       combos[it->second].origin, c.origin, c.policy, c.dart));
          combos.push_back(std::move(c));
        }
      }
    }
  }
  return combos;
}

void check_keys(const Document& doc) {
  static constexpr std::string_view kKnown[] = {"name", "traces", "policies", "darts", "params", "lenient", "device"};
  for (const auto& [k, v] : doc.root.items())
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown))
      doc.fail(k, "unknown key (known: name, traces, policies, darts, params, lenient, device)");
}

class Fnv1a {
 public:
  void add(std::string_view s) {
    for (unsigned char c : s) hash_ = (hash_ ^ c) * 0x100000001b3ULL;
  }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::variant<SweepConfig, std::string> parse_sweep_config(std::string_view text, SweepFormat format,
                                                          const std::string& source,
                                                          const std::filesystem::path& base_dir) {
  try {
    const Document doc = parse_document(text, format, source);
    check_keys(doc);
    SweepConfig config;
    config.source = source;
    config.name = std::filesystem::path(source).stem().string();
    if (doc.root.contains("name")) {
      if (!doc.root["name"].is_string()) doc.fail("name", "must be a string");
      config.name = doc.root["name"].get<std::string>();
    }
    if (doc.root.contains("lenient")) {
      if (!doc.root["lenient"].is_boolean()) doc.fail("lenient", "must be true or false");
      config.lenient = doc.root["lenient"].get<bool>();
    }
    if (doc.root.contains("device")) {
      if (!doc.root["device"].is_string()) doc.fail("device", "must be a string (a PCI BDF such as 0000:01:00.0)");
      config.device = doc.root["device"].get<std::string>();
    }
    const std::vector<std::string> traces = string_list(doc, "traces", true);
    for (std::size_t i = 0; i < traces.size(); ++i) {
      const std::string key = fmt::format("traces[{}]", i);
      if (traces[i].empty()) doc.fail(key, "an empty file name");
      if (traces[i] == "-") doc.fail(key, "'-' (standard input) cannot be swept: every shard reads its traces again");
      for (std::size_t j = 0; j < i; ++j)
        if (traces[j] == traces[i]) doc.fail(key, fmt::format("'{}' is listed twice (also traces[{}])", traces[i], j));
      const std::filesystem::path p(traces[i]);
      config.traces.push_back({traces[i], (p.is_absolute() ? p : base_dir / p).lexically_normal().string(), 0});
    }
    const auto params = parse_params(doc);
    const std::vector<Combo> combos = expand(doc, params, config.traces.size());
    std::vector<SweepIdentityPoint> identity;
    for (std::size_t t = 0; t < config.traces.size(); ++t)
      for (const Combo& c : combos)
        config.points.push_back({config.points.size(), t, c.policy, c.dart, c.params, c.config});
    for (const SweepPoint& p : config.points)
      identity.push_back({config.traces[p.trace].name, p.policy, p.dart, &p.params});
    config.hash = sweep_hash(config.name, config.lenient, config.device, identity);
    return config;
  } catch (const ConfigError& e) {
    return e.message;
  }
}

std::string check_sweep_traces(SweepConfig& config) {
  for (std::size_t i = 0; i < config.traces.size(); ++i) {
    SweepTrace& t = config.traces[i];
    const std::string where = fmt::format("{}: traces[{}]: '{}'", config.source, i, t.name);
    struct stat st {};
    if (::stat(t.path.c_str(), &st) != 0) return fmt::format("{}: {} ({})", where, std::strerror(errno), t.path);
    if (!S_ISREG(st.st_mode)) return fmt::format("{}: not a regular file ({}): shards read it again", where, t.path);
    if (::access(t.path.c_str(), R_OK) != 0) return fmt::format("{}: {} ({})", where, std::strerror(errno), t.path);
    t.file_bytes = static_cast<std::uint64_t>(st.st_size);
  }
  return {};
}

std::variant<SweepConfig, std::string> load_sweep_config(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string ext = p.extension().string();
  SweepFormat format;
  if (ext == ".toml") {
    format = SweepFormat::Toml;
  } else if (ext == ".json") {
    format = SweepFormat::Json;
  } else {
    return fmt::format("{}: a sweep config is TOML (.toml) or JSON (.json), told by its extension", path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("{}: cannot open: {}", path, std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fmt::format("{}: cannot read: {}", path, std::strerror(errno));
  auto config = parse_sweep_config(text.str(), format, path, p.parent_path());
  if (auto* c = std::get_if<SweepConfig>(&config)) {
    std::string err = check_sweep_traces(*c);
    if (!err.empty()) return err;
  }
  return config;
}

std::uint64_t sweep_hash(std::string_view name, bool lenient, std::string_view device,
                         std::span<const SweepIdentityPoint> points) {
  Fnv1a h;
  // Fields end in characters no spec, name or value contains unescaped: '\t' and '\n'.
  h.add(fmt::format("dartlab-sweep 1\n{}\n{}\n{}\n", name, lenient ? "lenient" : "strict", device));
  for (const SweepIdentityPoint& p : points) {
    h.add(p.trace);
    h.add("\t");
    h.add(p.policy);
    h.add("\t");
    h.add(p.dart);
    for (const auto& [k, v] : *p.params) h.add(fmt::format("\t{}={}", k, v));
    h.add("\n");
  }
  return h.value();
}

std::string hash_hex(std::uint64_t hash) { return fmt::format("{:016x}", hash); }

std::variant<Shard, std::string> parse_shard(std::string_view text) {
  const std::size_t slash = text.find('/');
  std::uint64_t index = 0;
  std::uint64_t count = 0;
  if (slash == std::string_view::npos || !parse_count(text.substr(0, slash), index) ||
      !parse_count(text.substr(slash + 1), count))
    return fmt::format("'{}' is not I/N (shard I of N, e.g. 2/8)", text);
  if (count < 1 || count > 1000000) return fmt::format("'{}': N must be 1 to 1000000", text);
  if (index < 1 || index > count) return fmt::format("'{}': I must be 1 to N (shards count from 1)", text);
  return Shard{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(count)};
}

}  // namespace dartlab::sim
