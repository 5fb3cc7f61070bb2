// SPDX-License-Identifier: MIT
#include "sim/timed/platform.hpp"

#include <exception>
#include <stdexcept>

#include "sim/timed/sc_runtime.hpp"

namespace dartlab::sim::timed {

namespace {
constexpr std::size_t kJobStackBytes = 16 << 20;  // the job reads traces and runs the mapper on this stack
}

struct Platform::Top : sc_core::sc_module {
  SC_HAS_PROCESS(Top);
  explicit Top(const sc_core::sc_module_name& name)
      : sc_core::sc_module(name), gpu("gpu"), link("link"), dart("dart"), memory("memory") {
    gpu.socket.bind(link.device_side);
    link.host_side.bind(dart.device_side);
    dart.memory_side.bind(memory.socket);
    wire_direct(true);
    SC_THREAD(serve);
    set_stack_size(kJobStackBytes);
  }

  // The same wiring as the sockets', called directly on every transaction (DmaTarget says what
  // it saves); off, every transaction goes through the sockets.
  void wire_direct(bool on) {
    gpu.set_direct_link(on ? &link : nullptr);
    link.set_direct_host(on ? &dart : nullptr);
    dart.set_direct_memory(on ? &memory : nullptr);
  }

  // Runs each job handed over; waits for the next once it is done (the simulation then has
  // nothing left to do and sc_start returns).
  void serve() {
    for (;;) {
      while (!pending) wait(job_ready);
      pending = false;
      try {
        (*job)();
      } catch (...) {
        failure = std::current_exception();
      }
    }
  }

  GpuDma gpu;
  thunderbolt::LinkTlm link;
  dart::DartTlm dart;
  HostMemory memory;
  sc_core::sc_event job_ready;
  const std::function<void()>* job = nullptr;
  bool pending = false;
  std::exception_ptr failure;
};

Platform& Platform::instance() {
  static Platform platform;
  return platform;
}

Platform::Platform() {
  prepare_systemc();
  top_ = new Top("dartlab");
}

void Platform::configure(const PlatformConfig& config, const dart::Dart& functional) {
  top_->link.configure(config.link);  // validates the link first: nothing changes if it throws
  config_ = config;
  top_->gpu.configure(config.gpu, config.link);
  top_->dart.configure(functional, config.dart);
  top_->memory.configure(config.memory, &functional.page_table());
}

void Platform::run(const std::function<void()>& job) {
  top_->job = &job;
  top_->pending = true;
  top_->failure = nullptr;
  // The first run starts the kernel, whose thread finds the job pending; later ones wake it.
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION) top_->job_ready.notify(sc_core::SC_ZERO_TIME);
  sc_core::sc_start();
  top_->job = nullptr;
  if (top_->failure) std::rethrow_exception(top_->failure);
}

std::variant<std::unique_ptr<dart::Dart>, std::string> prepare_run(const PlatformConfig& config,
                                                                    const dart::DartConfig& functional) {
  try {
    auto dart = std::make_unique<dart::Dart>(functional);
    Platform::instance().configure(config, *dart);
    return dart;
  } catch (const std::invalid_argument& e) {
    return std::string(e.what());
  }
}

void Platform::set_direct_calls(bool on) { top_->wire_direct(on); }

GpuDma& Platform::gpu() { return top_->gpu; }
thunderbolt::LinkTlm& Platform::link() { return top_->link; }
dart::DartTlm& Platform::dart() { return top_->dart; }
HostMemory& Platform::memory() { return top_->memory; }

}  // namespace dartlab::sim::timed
