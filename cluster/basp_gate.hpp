#pragma once
// The front door of a cluster member. CAF 0.17 believes the payload length
// in every BASP header it reads: one 32-byte header claiming 4 GB makes the
// middleman allocate and zero 4 GB (measured: 2.1 GB RSS and a spinning
// core after a single such packet, and no handshake answered any more).
// So a member never exposes CAF's port: CAF listens on loopback only, and
// this gate listens on the member's address and relays each connection to
// it, reading the bytes that come in as BASP frames. A connection that
// does not open with a client handshake, names an unknown operation, or
// announces a payload over the limit is closed before CAF sees any of it,
// and counted. What CAF sends out is passed through as it is.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace streamlab {

class BaspGate {
 public:
  // Bigger than any message members exchange (a frame is ~4 KB, a
  // failed node's handover a few MB), far below what hurts.
  static constexpr std::uint32_t kMaxPayload = 64u << 20;

  // Listens on host:port (port 0: any free port) and relays to
  // 127.0.0.1:target_port. Throws std::runtime_error naming HOST:PORT when
  // it cannot listen.
  BaspGate(const std::string& host, std::uint16_t port, std::uint16_t target_port);
  ~BaspGate();
  BaspGate(const BaspGate&) = delete;
  BaspGate& operator=(const BaspGate&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint64_t refused() const { return refused_.load(); }  // connections closed as malformed

 private:
  void run();

  int listen_fd_ = -1;
  int wake_fd_[2] = {-1, -1};  // the destructor's way to end run()
  std::uint16_t port_ = 0;
  std::uint16_t target_port_ = 0;
  std::atomic<std::uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace streamlab
