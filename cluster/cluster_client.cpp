#include "cluster/cluster_client.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace streamlab {

ClusterClient::ClusterClient(std::string host, std::uint16_t port, const TlsFiles& tls)
    : client_(std::move(host), port, "cluster member", tls) {}

template <class F>
bool ClusterClient::ask(std::chrono::milliseconds timeout, std::string& error,
                        F&& send_and_receive) {
  if (!client_.connect(timeout, error)) return false;
  caf::scoped_actor self{client_.system()};
  caf::error failure;
  send_and_receive(self, [&](caf::error& err) { failure = std::move(err); });
  if (!failure) return true;
  error = "cluster member at " + client_.where() + ": " + client_.describe(failure, timeout);
  client_.reset();
  return false;
}

bool ClusterClient::deploy(const std::string& text, const std::string& file,
                           std::uint64_t max_frames, std::chrono::milliseconds timeout,
                           std::string& summary, std::string& error) {
  bool ok = false;
  std::string answer;
  if (!ask(timeout, error, [&](caf::scoped_actor& self, auto on_error) {
        self->request(client_.actor(), timeout, deploy_atom::value, text, file, max_frames)
            .receive(
                [&](bool accepted, std::string& text_back) {
                  ok = accepted;
                  answer = std::move(text_back);
                },
                on_error);
      }))
    return false;
  (ok ? summary : error) = answer;
  return ok;
}

bool ClusterClient::pipelines(std::chrono::milliseconds timeout, std::vector<PipelineRow>& rows,
                              std::string& error) {
  return ask(timeout, error, [&](caf::scoped_actor& self, auto on_error) {
    self->request(client_.actor(), timeout, pipelines_atom::value)
        .receive([&](std::vector<PipelineRow>& r) { rows = std::move(r); }, on_error);
  });
}

bool ClusterClient::stop(const std::string& name, double drain_s, PipelineRow& row,
                         std::string& error) {
  // The drain, the forced stop after it, and the answers of the members.
  const auto timeout = std::chrono::milliseconds(static_cast<long>(drain_s * 1000) + 15000);
  bool found = false;
  if (!ask(timeout, error, [&](caf::scoped_actor& self, auto on_error) {
        self->request(client_.actor(), timeout, stop_atom::value, name, drain_s)
            .receive(
                [&](bool ok, PipelineRow& r) {
                  found = ok;
                  row = std::move(r);
                },
                on_error);
      }))
    return false;
  if (!found) error = "no pipeline named \"" + name + "\" on the cluster";
  return found;
}

}  // namespace streamlab
