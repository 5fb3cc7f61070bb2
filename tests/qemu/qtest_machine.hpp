// SPDX-License-Identifier: MIT
// A QEMU under test: starts qemu-system-x86_64 (path in $DARTLAB_QEMU) with `-accel qtest`,
// speaks the qtest text protocol over a UNIX socket (QEMU connects to ours, as libqtest does),
// and offers what the apple-dma tests need: port and memory access, PCI config space through
// 0xcf8/0xcfc, BAR programming, the guest-error and trace log (-D).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dartlab::qtest {

// PCI slots the tests place devices in (bus 0).
inline constexpr unsigned kAppleDmaSlot = 3;
inline constexpr unsigned kManagedEduSlot = 4;
inline constexpr unsigned kPlainEduSlot = 5;
// Where the tests program the BARs (inside the pc machine's 32-bit PCI hole).
inline constexpr std::uint64_t kAppleDmaBar = 0xe0000000;
inline constexpr std::uint64_t kManagedEduBar = 0xe0100000;
inline constexpr std::uint64_t kPlainEduBar = 0xe0200000;

// QEMU's option syntax: a comma inside a value is written twice.
std::string escape_commas(const std::string& value);

struct QemuOptions {
  std::string apple_dma_props = "interface=3";  // appended to -device apple-dma-pci,managed=edu0,
  std::vector<std::string> extra_args;
  std::string accel = "qtest";
};

class Qemu {
 public:
  explicit Qemu(const QemuOptions& options = {});
  ~Qemu();
  Qemu(const Qemu&) = delete;
  Qemu& operator=(const Qemu&) = delete;

  // One command, one reply line ("OK ..."); throws with the exchange and QEMU's stderr on
  // anything else, on EOF or after a generous wait.
  std::string command(const std::string& line);

  void outb(std::uint16_t port, std::uint8_t v);
  void outl(std::uint16_t port, std::uint32_t v);
  std::uint32_t inl(std::uint16_t port);
  void writeb(std::uint64_t addr, std::uint8_t v);
  void writew(std::uint64_t addr, std::uint16_t v);
  void writel(std::uint64_t addr, std::uint32_t v);
  void writeq(std::uint64_t addr, std::uint64_t v);
  std::uint32_t readl(std::uint64_t addr);
  std::uint64_t readq(std::uint64_t addr);
  void write(std::uint64_t addr, const std::vector<std::uint8_t>& bytes);
  std::vector<std::uint8_t> read(std::uint64_t addr, std::size_t len);
  void clock_step(std::uint64_t ns);

  std::uint32_t config_read(unsigned slot, unsigned offset);
  void config_write(unsigned slot, unsigned offset, std::uint32_t v);
  // Programs BAR0 and enables memory decoding (and bus mastering when asked).
  void enable(unsigned slot, std::uint64_t bar0, bool bus_master);

  std::string log() const;  // the -D file: guest errors and trace events
  const std::string& log_path() const { return log_path_; }
  const std::string& dir() const { return dir_; }  // a scratch directory removed with the Qemu
  bool alive();             // QEMU still running and answering

  const std::string& stderr_path() const { return stderr_path_; }

 private:
  std::string dir_;
  std::string log_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

// Runs QEMU with the given device properties expecting it to refuse them: returns its exit
// status and stderr text.
struct RefusedRun {
  int exit_code;
  std::string stderr_text;
};
RefusedRun run_expecting_refusal(const std::string& apple_dma_props);

}  // namespace dartlab::qtest
