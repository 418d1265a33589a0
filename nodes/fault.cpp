#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>

#include "nodes/builtin_types.hpp"
#include "nodes/node_support.hpp"

namespace streamlab {

namespace {

using namespace node_support;

class FaultNode final : public Node {
 public:
  FaultNode(const json& config, const NodeContext&)
      : fail_every_(count_field(config.at("fail_every"))),
        poison_every_(count_field(config.at("poison_every"))),
        fail_probability_(config.at("fail_probability").get<double>()),
        delay_(config.at("delay_ms").get<double>()),
        throw_(config.at("action").get<std::string>() == "throw"),
        rng_(count_field(config.at("seed"))) {}

  Status process(const Inputs& in, FrameList& out) override {
    const Frame* frame = in.count > 0 ? in[0] : nullptr;
    if (!frame) return Status::error("fault: called without an input frame");
    ++count_;
    if (delay_.count() > 0.0) std::this_thread::sleep_for(delay_);

    bool fail = fail_every_ > 0 && count_ % fail_every_ == 0;
    // By sequence number, not by call count: the same frames fail on every
    // attempt, in every restarted instance and in a replay, as a frame that
    // a bug rejects would.
    fail = fail || (poison_every_ > 0 && (frame->seq + 1) % poison_every_ == 0);
    if (fail_probability_ > 0.0) {
      // One draw per frame whatever fail_every says, so the random part of
      // the schedule depends only on the seed and the frame count. The draw
      // is built from raw bits because std::uniform_real_distribution's
      // output differs between standard libraries.
      const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
      fail = fail || u < fail_probability_;
    }
    if (fail) {
      std::string message = "injected fault at seq " + std::to_string(frame->seq);
      if (throw_) throw std::runtime_error(message);
      return Status::error(std::move(message));
    }
    out.push_back(*frame);  // same buffer: a pass-through copies no samples
    return Status::ok();
  }

 private:
  std::uint64_t fail_every_;
  std::uint64_t poison_every_;
  double fail_probability_;
  std::chrono::duration<double, std::milli> delay_;
  bool throw_;
  std::mt19937_64 rng_;
  std::uint64_t count_ = 0;  // frames seen, the first is 1
};

}  // namespace

NodeType fault_node_type() {
  NodeTypeSchema schema;
  schema.type = "fault";
  schema.summary = "passes frames through and injects failures (for testing supervision)";
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.fields = {
      integer_field("fail_every",
                    "fail on every Nth call, counting from 1; a restarted instance counts afresh, "
                    "so a retried frame passes (0 = never)",
                    0, 0.0),
      integer_field("poison_every",
                    "poison frames: fail every frame whose seq + 1 is a multiple of N (seq 9, 19, "
                    "... for 10), on every attempt and in every restarted instance (0 = never)",
                    0, 0.0),
      number_field("fail_probability", "chance that any frame fails", 0.0, 0.0, 1.0),
      integer_field("seed", "random seed: the same seed gives the same failures", 1, 0.0),
      number_field("delay_ms", "sleep this long on every frame, simulating a slow node", 0.0, 0.0,
                   60000.0),
      choice_field("action", "how to fail: throw an exception or return an error status", "throw",
                   {"throw", "error"}),
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<FaultNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
