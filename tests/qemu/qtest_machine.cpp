// SPDX-License-Identifier: MIT
// The qtest client behind tests/qemu; see qtest_machine.hpp.
#include "qemu/qtest_machine.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace dartlab::qtest {

namespace {

// Long enough for a loaded 2-core CI box; only a hang ever reaches it (not a timing assertion).
constexpr int kReplyWaitMs = 60000;

std::string qemu_binary() {
  const char* path = std::getenv("DARTLAB_QEMU");
  if (path == nullptr || *path == '\0') {
    throw std::runtime_error("DARTLAB_QEMU is not set: point it at build/qemu/qemu-system-x86_64 (make test does)");
  }
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string make_temp_dir() {
  char tmpl[] = "/tmp/dartlab-qtest-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  return tmpl;
}

// A 256 KiB firmware image of `hlt` instructions: with -accel qtest no CPU runs it, and Debian's
// source package carries no prebuilt firmware.
std::string write_bios(const std::string& dir) {
  const std::string path = dir + "/bios.bin";
  std::ofstream out(path, std::ios::binary);
  const std::string hlt(256 * 1024, '\xf4');
  out.write(hlt.data(), static_cast<std::streamsize>(hlt.size()));
  return path;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& stdout_path, const std::string& stderr_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  return pid;
}

std::vector<std::string> base_args(const std::string& dir, const std::string& accel) {
  return {qemu_binary(), "-machine", "pc", "-accel", accel, "-nodefaults", "-display", "none", "-m", "256M",
          "-bios", write_bios(dir), "-device", "edu,id=edu0,addr=04.0", "-device", "edu,id=edu1,addr=05.0"};
}

}  // namespace

std::string escape_commas(const std::string& value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

Qemu::Qemu(const QemuOptions& options) : dir_(make_temp_dir()) {
  log_path_ = dir_ + "/qemu.log";
  stderr_path_ = dir_ + "/stderr.txt";
  const std::string socket_path = dir_ + "/qtest.sock";

  const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path.c_str());
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(listener, 1) != 0) {
    throw std::runtime_error("qtest socket " + socket_path + ": " + std::strerror(errno));
  }

  std::vector<std::string> args = base_args(dir_, options.accel);
  args.insert(args.end(), {"-device", "apple-dma-pci,addr=03.0,managed=edu0," + options.apple_dma_props, "-qtest",
                           "unix:" + socket_path, "-d", "guest_errors", "-D", log_path_, "-trace",
                           "apple_dma_map", "-trace", "apple_dma_unmap", "-trace", "apple_dma_reset", "-trace",
                           "apple_dma_fault", "-trace", "apple_dma_doorbell"});
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  pid_ = spawn(args, dir_ + "/stdout.txt", stderr_path_);

  pollfd p{listener, POLLIN, 0};
  if (poll(&p, 1, kReplyWaitMs) != 1) {
    close(listener);
    throw std::runtime_error("QEMU did not connect to the qtest socket; stderr: " + read_file(stderr_path_));
  }
  fd_ = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  close(listener);
  if (fd_ < 0) throw std::runtime_error("accept on the qtest socket failed");
}

Qemu::~Qemu() {
  if (fd_ >= 0) close(fd_);
  if (pid_ > 0) {
    int status = 0;
    kill(pid_, SIGTERM);  // as libqtest does: QEMU shuts down cleanly on SIGTERM
    for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(20000);
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  std::string cmd = "rm -rf '" + dir_ + "'";
  if (std::getenv("DARTLAB_QTEST_KEEP") == nullptr) (void)std::system(cmd.c_str());
}

std::string Qemu::command(const std::string& line) {
  const std::string out = line + "\n";
  if (::write(fd_, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
    throw std::runtime_error("qtest: cannot send '" + line + "'; QEMU stderr: " + read_file(stderr_path_));
  }
  for (;;) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string reply = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (reply.rfind("IRQ", 0) == 0) continue;  // asynchronous interrupt notices
      if (reply.rfind("OK", 0) != 0) throw std::runtime_error("qtest: '" + line + "' answered '" + reply + "'");
      return reply;
    }
    pollfd p{fd_, POLLIN, 0};
    char chunk[4096];
    if (poll(&p, 1, kReplyWaitMs) != 1) throw std::runtime_error("qtest: no reply to '" + line + "'");
    const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n <= 0) {
      throw std::runtime_error("qtest: QEMU closed the connection at '" + line + "'; stderr: " + read_file(stderr_path_));
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

void Qemu::outb(std::uint16_t port, std::uint8_t v) { command("outb " + hex(port) + " " + hex(v)); }
void Qemu::outl(std::uint16_t port, std::uint32_t v) { command("outl " + hex(port) + " " + hex(v)); }
std::uint32_t Qemu::inl(std::uint16_t port) {
  return static_cast<std::uint32_t>(std::stoull(command("inl " + hex(port)).substr(3), nullptr, 16));
}
void Qemu::writeb(std::uint64_t a, std::uint8_t v) { command("writeb " + hex(a) + " " + hex(v)); }
void Qemu::writew(std::uint64_t a, std::uint16_t v) { command("writew " + hex(a) + " " + hex(v)); }
void Qemu::writel(std::uint64_t a, std::uint32_t v) { command("writel " + hex(a) + " " + hex(v)); }
void Qemu::writeq(std::uint64_t a, std::uint64_t v) { command("writeq " + hex(a) + " " + hex(v)); }
std::uint32_t Qemu::readl(std::uint64_t a) {
  return static_cast<std::uint32_t>(std::stoull(command("readl " + hex(a)).substr(3), nullptr, 16));
}
std::uint64_t Qemu::readq(std::uint64_t a) { return std::stoull(command("readq " + hex(a)).substr(3), nullptr, 16); }

void Qemu::write(std::uint64_t addr, const std::vector<std::uint8_t>& bytes) {
  std::string data = "0x";
  char b[3];
  for (std::uint8_t c : bytes) {
    std::snprintf(b, sizeof(b), "%02x", c);
    data += b;
  }
  command("write " + hex(addr) + " " + hex(bytes.size()) + " " + data);
}

std::vector<std::uint8_t> Qemu::read(std::uint64_t addr, std::size_t len) {
  const std::string reply = command("read " + hex(addr) + " " + hex(len));
  const std::string data = reply.substr(5);  // "OK 0x"
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < data.size() && out.size() < len; i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(data.substr(i, 2), nullptr, 16)));
  }
  return out;
}

void Qemu::clock_step(std::uint64_t ns) { command("clock_step " + std::to_string(ns)); }

std::uint32_t Qemu::config_read(unsigned slot, unsigned offset) {
  outl(0xcf8, 0x80000000u | slot << 11 | (offset & 0xfcu));
  return inl(0xcfc);
}

void Qemu::config_write(unsigned slot, unsigned offset, std::uint32_t v) {
  outl(0xcf8, 0x80000000u | slot << 11 | (offset & 0xfcu));
  outl(0xcfc, v);
}

void Qemu::enable(unsigned slot, std::uint64_t bar0, bool bus_master) {
  config_write(slot, 0x10, static_cast<std::uint32_t>(bar0));
  config_write(slot, 0x04, bus_master ? 0x6 : 0x2);  // memory space (+ bus master)
}

std::string Qemu::log() const { return read_file(log_path_); }

bool Qemu::alive() {
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != 0) return false;
  try {
    return config_read(kAppleDmaSlot, 0) == 0x00151b36u;
  } catch (const std::exception&) {
    return false;
  }
}

RefusedRun run_expecting_refusal(const std::string& apple_dma_props) {
  const std::string dir = make_temp_dir();
  std::vector<std::string> args = base_args(dir, "qtest");
  args.insert(args.end(), {"-device", "apple-dma-pci,addr=03.0,managed=edu0," + apple_dma_props, "-qtest", "null"});
  const pid_t pid = spawn(args, dir + "/stdout.txt", dir + "/stderr.txt");
  int status = 0;
  // A QEMU that accepted the properties runs on: stop it after the wait and report -1.
  bool exited = false;
  for (int waited_ms = 0; waited_ms < kReplyWaitMs && !exited; waited_ms += 20) {
    exited = waitpid(pid, &status, WNOHANG) == pid;
    if (!exited) usleep(20000);
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  RefusedRun r{exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(dir + "/stderr.txt")};
  const std::string cmd = "rm -rf '" + dir + "'";
  (void)std::system(cmd.c_str());
  return r;
}

}  // namespace dartlab::qtest
