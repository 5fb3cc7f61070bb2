// SPDX-License-Identifier: MIT
// The timed platform: GPU copy engine -> PCIe link (Thunderbolt tunnel or native) -> DART -> host
// memory, TLM-2.0 sockets bound once. SystemC elaborates a design once per process, so there is
// one platform per process, built on first use and reconfigured for every run: a run hands a job
// to the platform's thread and simulates until the job returns.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "models/dart/dart.hpp"
#include "models/dart/dart_variant.hpp"
#include "models/dart/tlm/dart_tlm.hpp"
#include "models/thunderbolt/link_config.hpp"
#include "models/thunderbolt/tlm/link_tlm.hpp"
#include "sim/timed/gpu_dma.hpp"
#include "sim/timed/host_memory.hpp"

namespace dartlab::sim::timed {

struct PlatformConfig {
  thunderbolt::LinkConfig link = thunderbolt::kLinkTb4;
  dart::DartTiming dart = dart::kDartT8110.timing;
  HostMemoryConfig memory{};
  GpuConfig gpu{};
  friend bool operator==(const PlatformConfig&, const PlatformConfig&) = default;
};

class Platform {
 public:
  // The process's platform (its modules are made the first time).
  static Platform& instance();

  // Before a run: the models' parameters and the functional DART whose tables are walked (it
  // must outlive the run). Throws std::invalid_argument for a link config LinkTiming refuses.
  void configure(const PlatformConfig& config, const dart::Dart& functional);

  // Runs `job` in the simulation's thread (where the GPU may issue transactions and sync) and
  // returns once it has; an exception the job throws is rethrown here.
  void run(const std::function<void()>& job);

  // On (the default), the modules call the next one directly; off, through the TLM sockets they
  // are bound with. The results are the same (a test holds them to it); direct is faster.
  void set_direct_calls(bool on);

  GpuDma& gpu();
  thunderbolt::LinkTlm& link();
  dart::DartTlm& dart();
  HostMemory& memory();
  const PlatformConfig& config() const { return config_; }

  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

 private:
  Platform();
  struct Top;
  Top* top_;  // lives as long as the process: SystemC does not take modules apart
  PlatformConfig config_{};
};

// A run's start: the functional DART its mappings live in (made from `functional`), with the
// platform configured to walk it; or why a configuration was refused.
std::variant<std::unique_ptr<dart::Dart>, std::string> prepare_run(const PlatformConfig& config,
                                                                    const dart::DartConfig& functional);

}  // namespace dartlab::sim::timed
