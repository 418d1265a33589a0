#include "cluster/monitor_service.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "cluster/member.hpp"

namespace streamlab {

MonitorClient::MonitorClient(std::string host, std::uint16_t port, const TlsFiles& tls)
    : client_(std::move(host), port, "monitor", tls) {}

std::optional<MetricsSnapshot> MonitorClient::query(std::chrono::milliseconds timeout,
                                                    std::string& error) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!client_.connect(timeout, error)) return std::nullopt;
  const auto left =
      std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 deadline - std::chrono::steady_clock::now()));
  std::optional<MetricsSnapshot> out;
  caf::scoped_actor self{client_.system()};
  self->request(client_.actor(), left, snapshot_atom::value)
      .receive([&](MetricsSnapshot& snapshot) { out = std::move(snapshot); },
               [&](caf::error& err) {
                 error = "cannot reach a StreamLab monitor at " + client_.where() + ": " +
                         client_.describe(err, timeout);
               });
  if (!out) {
    client_.reset();  // the next query starts from a fresh connection
    return std::nullopt;
  }
  error.clear();
  return out;
}

std::optional<MetricsSnapshot> query_member_snapshot(caf::actor_system& system,
                                                     const caf::actor& member,
                                                     std::chrono::milliseconds timeout) {
  caf::scoped_actor self{system};
  std::optional<MetricsSnapshot> out;
  self->request(member, timeout, snapshot_atom::value, local_atom::value)
      .receive([&](MetricsSnapshot& snapshot) { out = std::move(snapshot); }, [](caf::error&) {});
  return out;
}

std::optional<MetricsSnapshot> query_remote_monitor(const std::string& host, std::uint16_t port,
                                                    std::chrono::milliseconds timeout,
                                                    std::string& error) {
  MonitorClient client(host, port);
  return client.query(timeout, error);
}

}  // namespace streamlab
