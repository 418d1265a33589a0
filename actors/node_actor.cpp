#include "actors/node_actor.hpp"

#include <algorithm>
#include <chrono>
#include <exception>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "runtime/input_aligner.hpp"
#include "runtime/node_metrics.hpp"

namespace streamlab {

namespace {

// Steps one actor runs before it lets its mailbox in again, so a fast
// source cannot starve control messages (stop, credits) of its own.
constexpr int kStepsPerTurn = 16;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Errors repeat per frame; log the 1st, 10th, 100th, ... so a failing node
// stays visible without flooding the log.
bool worth_logging(std::uint64_t nth) {
  while (nth >= 10 && nth % 10 == 0) nth /= 10;
  return nth == 1;
}

struct Output {
  OutputLink link;
  caf::strong_actor_ptr address;  // to recognise its credits
  std::uint32_t credit = 0;
  std::uint64_t sent = 0;
  std::uint64_t max_in_flight = 0;
};

struct Input {
  caf::strong_actor_ptr producer;  // learned from its first frame
  std::uint32_t batch = 1;         // credits handed back at once
  std::uint32_t owed = 0;          // consumed frames not yet credited back
  std::uint64_t received = 0;
};

class node_actor : public caf::event_based_actor {
 public:
  node_actor(caf::actor_config& cfg, std::shared_ptr<NodeActorSetup> setup)
      : caf::event_based_actor(cfg),
        setup_(std::move(setup)),
        aligner_(std::vector<std::size_t>(setup_->input_capacities.begin(),
                                          setup_->input_capacities.end())) {
    for (auto capacity : setup_->input_capacities) {
      Input in;
      // Half the window: the producer never runs dry while credits travel.
      in.batch = std::max<std::uint32_t>(1, capacity / 2);
      inputs_.push_back(in);
    }
    for (const auto& link : setup_->outputs) {
      Output out;
      out.link = link;
      out.address = caf::actor_cast<caf::strong_actor_ptr>(link.consumer);
      out.credit = link.capacity;
      outputs_.push_back(std::move(out));
    }
    produced_.reserve(16);
  }

  const char* name() const override { return "streamlab.node"; }

  caf::behavior make_behavior() override {
    return {
        [this](data_atom, std::uint32_t port, const Frame& frame) { on_data(port, frame); },
        [this](credit_atom, std::uint32_t port, std::uint32_t n) { on_credit(port, n); },
        [this](eos_atom, std::uint32_t port) {
          if (port < aligner_.ports()) aligner_.end(port);
          pump();
        },
        [this](start_atom) { pump(); },
        [this](stop_atom) {
          stop_requested_ = true;
          pump();
        },
        [this](kill_atom) { force_stop(); },
        [this](pump_atom) {
          pump_scheduled_ = false;
          pump();
        },
    };
  }

 private:
  bool is_source() const { return setup_->input_capacities.empty(); }

  void on_data(std::uint32_t port, const Frame& frame) {
    if (port >= inputs_.size()) {
      spdlog::error("node \"{}\": frame for input port {} it does not have", setup_->node_id, port);
      return;
    }
    Input& in = inputs_[port];
    if (!in.producer) in.producer = current_sender();
    ++in.received;
    ++metrics_.frames_in;
    if (!aligner_.push(port, frame)) {
      // The producer sent more than it was granted: a flow-control bug.
      // Counted, so the loss is never silent.
      metrics_.drop(DropReason::overflow);
      spdlog::error("node \"{}\": input {} overflowed its capacity", setup_->node_id, port);
    }
    pump();
  }

  void on_credit(std::uint32_t port, std::uint32_t n) {
    const auto& sender = current_sender();
    for (auto& out : outputs_) {
      if (out.link.port == port && out.address == sender) {
        out.credit += n;
        break;
      }
    }
    pump();
  }

  // Does all the work that is possible now: send what waits, then step the
  // node while there is input and credit. Returns to the mailbox after a
  // bounded number of steps.
  void pump() {
    for (int step = 0; step < kStepsPerTurn && !done_; ++step) {
      if (!send_produced()) return;  // waiting for credit
      if (finishing_) {
        complete();
        return;
      }
      if (end_of_input_) {
        begin_finish();
        continue;
      }
      if (is_source() ? !source_step() : !process_step()) return;
    }
    if (!done_ && !pump_scheduled_) {
      pump_scheduled_ = true;
      send(this, pump_atom::value);
    }
  }

  // False when there is nothing to do until a message arrives.
  bool source_step() {
    bool limit_reached = setup_->max_frames && metrics_.frames_out >= setup_->max_frames;
    if (stop_requested_ || limit_reached) {
      end_of_input_ = true;
      return true;
    }
    bool end_of_stream = false;
    produced_.clear();
    auto t0 = steady_ns();
    Status status = call_node([&] { return setup_->node->generate(produced_, end_of_stream); });
    metrics_.latency.record(steady_ns() - t0);
    if (!status.is_ok()) {
      record_error(status.message());
      end_of_stream = true;
      failed_ = true;
    }
    if (setup_->max_frames) {
      auto left = setup_->max_frames - metrics_.frames_out;
      if (produced_.size() > left) produced_.resize(left);
    }
    for (auto& frame : produced_)
      if (frame.timestamp_ns == 0) frame.timestamp_ns = wall_ns();
    metrics_.frames_out += produced_.size();
    next_to_send_ = 0;
    // The frames just produced go out first; finish() comes after them.
    if (end_of_stream) end_of_input_ = true;
    return true;
  }

  bool process_step() {
    if (!aligner_.next(slots_)) {
      if (aligner_.drained()) {
        end_of_input_ = true;
        return true;
      }
      return false;  // waiting for input
    }
    produced_.clear();
    Inputs in{slots_.data(), slots_.size()};
    auto t0 = steady_ns();
    Status status = call_node([&] { return setup_->node->process(in, produced_); });
    metrics_.latency.record(steady_ns() - t0);
    std::uint64_t consumed = 0;
    for (std::size_t port = 0; port < slots_.size(); ++port) {
      if (!slots_[port]) continue;
      aligner_.pop(port);
      ++consumed;
      give_credit(port);
    }
    if (!status.is_ok()) {
      record_error(status.message());
      metrics_.drop(DropReason::node_error, consumed);
      produced_.clear();
    }
    metrics_.frames_out += produced_.size();
    next_to_send_ = 0;
    return true;
  }

  void give_credit(std::size_t port) {
    Input& in = inputs_[port];
    if (++in.owed < in.batch || !in.producer) return;
    send(caf::actor_cast<caf::actor>(in.producer), credit_atom::value,
         static_cast<std::uint32_t>(port), in.owed);
    in.owed = 0;
  }

  // Sends produced frames while every consumer has credit. True when all
  // have been sent.
  bool send_produced() {
    while (next_to_send_ < produced_.size()) {
      for (const auto& out : outputs_)
        if (out.credit == 0) return false;
      Frame& frame = produced_[next_to_send_++];
      for (std::size_t i = 0; i < outputs_.size(); ++i) {
        Output& out = outputs_[i];
        --out.credit;
        ++out.sent;
        out.max_in_flight =
            std::max<std::uint64_t>(out.max_in_flight, out.link.capacity - out.credit);
        // Every consumer gets the same buffer; the last one takes ours.
        if (i + 1 == outputs_.size())
          send(out.link.consumer, data_atom::value, out.link.port, std::move(frame));
        else
          send(out.link.consumer, data_atom::value, out.link.port, frame);
      }
    }
    produced_.clear();
    next_to_send_ = 0;
    return true;
  }

  // Precondition: everything produced before has been sent (or counted).
  void begin_finish() {
    if (finishing_) return;
    finishing_ = true;
    produced_.clear();
    next_to_send_ = 0;
    Status status = call_node([&] { return setup_->node->finish(produced_); });
    if (!status.is_ok()) {
      record_error(status.message());
      failed_ = true;
    }
    metrics_.frames_out += produced_.size();
  }

  // Everything is sent: tell consumers the stream ended, report, leave.
  void complete() {
    for (const auto& out : outputs_) send(out.link.consumer, eos_atom::value, out.link.port);
    report(failed_ ? "failed" : "finished");
  }

  // A forced stop: what is queued is dropped and counted, but the node
  // still finishes, so a sink leaves a complete, playable file.
  void force_stop() {
    if (done_) return;
    auto dropped = aligner_.clear();
    for (auto n : dropped) metrics_.drop(DropReason::shutdown, n);
    std::uint64_t unsent = produced_.size() - next_to_send_;
    metrics_.drop(DropReason::shutdown, unsent);
    metrics_.frames_out -= unsent;
    produced_.clear();
    next_to_send_ = 0;
    if (!finishing_) begin_finish();
    std::uint64_t flushed_unsent = produced_.size();
    metrics_.drop(DropReason::shutdown, flushed_unsent);
    metrics_.frames_out -= flushed_unsent;
    produced_.clear();
    complete();
  }

  void report(const char* state) {
    done_ = true;
    NodeReport r;
    r.snapshot = make_snapshot(metrics_);
    r.snapshot.pipeline = setup_->pipeline;
    r.snapshot.node = setup_->node_id;
    r.snapshot.type = setup_->type;
    r.snapshot.state = state;
    r.snapshot.last_error = last_error_;
    for (const auto& out : outputs_) {
      r.edges.push_back(EdgeSnapshot{setup_->node_id, out.link.consumer_id, out.link.port,
                                     out.link.capacity, out.sent, out.max_in_flight});
    }
    for (const auto& in : inputs_) r.received.push_back(in.received);
    send(setup_->runner, report_atom::value, std::move(r));
    // The node's resources (open files) go now, not when CAF reclaims the actor.
    setup_->node.reset();
    quit();
  }

  template <class F>
  Status call_node(F&& f) {
    try {
      return f();
    } catch (const std::exception& e) {
      return Status::error(e.what());
    } catch (...) {
      return Status::error("unknown exception");
    }
  }

  void record_error(const std::string& message) {
    ++metrics_.errors;
    last_error_ = message;
    if (worth_logging(metrics_.errors))
      spdlog::warn("node \"{}\": {} (error #{})", setup_->node_id, message, metrics_.errors);
  }

  std::shared_ptr<NodeActorSetup> setup_;
  InputAligner aligner_;
  std::vector<Input> inputs_;
  std::vector<Output> outputs_;
  std::vector<const Frame*> slots_;
  FrameList produced_;
  std::size_t next_to_send_ = 0;
  NodeMetrics metrics_;
  std::string last_error_;
  bool stop_requested_ = false;
  bool end_of_input_ = false;  // no more steps: finish once produced frames are out
  bool finishing_ = false;
  bool failed_ = false;
  bool done_ = false;
  bool pump_scheduled_ = false;
};

}  // namespace

caf::actor spawn_node_actor(caf::actor_system& system, std::shared_ptr<NodeActorSetup> setup) {
  return system.spawn<node_actor>(std::move(setup));
}

}  // namespace streamlab
