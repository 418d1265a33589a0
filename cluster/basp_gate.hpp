#pragma once
// The front door of every port this program opens. CAF 0.17 believes the
// payload length in every BASP header it reads: one 32-byte header claiming
// 4 GB makes the middleman allocate and zero 4 GB (measured: 2.1 GB RSS and
// a spinning core after a single such packet, and no handshake answered any
// more); its OpenSSL acceptor spins on a socket that never starts the
// handshake; civetweb gives a whole thread to a client that sends nothing.
// So no server of ours faces the world itself: it listens on loopback only,
// and this gate listens on the public address and relays each connection to
// it, with the bounds of input_limits.hpp ("Connections"): a connection
// must prove itself within the handshake timeout (a BASP handshake message,
// a TLS handshake, an HTTP request head), messages have a maximum size, a
// port holds a bounded number of connections, and running out of file
// descriptors refuses connections instead of spinning. A connection that
// breaks a rule is closed before the server sees any of it, and counted.
// What the server sends out is passed through as it is.

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "messages/input_limits.hpp"

namespace streamlab {

// What the bytes coming in must look like.
enum class GateProtocol { basp, tls, http };

// Why the gate could not listen, in the OS's words.
struct GateListenError : std::runtime_error {
  GateListenError(const std::string& where, std::string why)
      : std::runtime_error("cannot listen on " + where + ": " + why), reason(std::move(why)) {}
  std::string reason;
};

class BaspGate {
 public:
  static constexpr std::uint32_t kMaxPayload = limits::kMaxBaspPayload;

  // Listens on host:port (port 0: any free port) and relays to
  // 127.0.0.1:target_port. Throws GateListenError naming HOST:PORT when
  // it cannot listen.
  BaspGate(const std::string& host, std::uint16_t port, std::uint16_t target_port,
           GateProtocol protocol = GateProtocol::basp);
  ~BaspGate();
  BaspGate(const BaspGate&) = delete;
  BaspGate& operator=(const BaspGate&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint64_t refused() const { return refused_.load(); }  // closed as malformed or too slow
  std::uint64_t turned_away() const { return turned_away_.load(); }  // over the limit, no fds
  std::size_t open_connections() const { return open_.load(); }

 private:
  void run();

  int listen_fd_ = -1;
  int spare_fd_ = -1;          // given up to accept-and-close when out of descriptors
  int wake_fd_[2] = {-1, -1};  // the destructor's way to end run()
  std::uint16_t port_ = 0;
  std::uint16_t target_port_ = 0;
  GateProtocol protocol_;
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> turned_away_{0};
  std::atomic<std::size_t> open_{0};
  std::thread thread_;
};

}  // namespace streamlab
