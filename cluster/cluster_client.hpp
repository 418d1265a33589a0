#pragma once
// What the CLI asks a cluster, through any member: deploy a pipeline, list
// the pipelines, stop one. Every call is bounded in time; on failure it
// returns false and `error` says what went wrong and where.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cluster/member.hpp"
#include "cluster/remote_client.hpp"

namespace streamlab {

class ClusterClient {
 public:
  // `tls`: checked with check_tls_files() already.
  ClusterClient(std::string host, std::uint16_t port, const TlsFiles& tls = {});

  // `summary` says what runs where; `error` what is wrong with the pipeline
  // (one problem per line) or with the cluster.
  bool deploy(const std::string& text, const std::string& file, std::uint64_t max_frames,
              std::chrono::milliseconds timeout, std::string& summary, std::string& error);
  bool pipelines(std::chrono::milliseconds timeout, std::vector<PipelineRow>& rows,
                 std::string& error);
  // Drains the pipeline, forcing the stop after `drain_s`; `row` is its
  // final state.
  bool stop(const std::string& name, double drain_s, PipelineRow& row, std::string& error);

 private:
  template <class F>
  bool ask(std::chrono::milliseconds timeout, std::string& error, F&& send_and_receive);
  RemoteClient client_;
};

}  // namespace streamlab
