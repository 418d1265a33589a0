#include "actors/node_actor.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <optional>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/pacer.hpp"
#include "actors/pooled_message.hpp"
#include "runtime/input_aligner.hpp"
#include "runtime/node_metrics.hpp"

namespace streamlab {

namespace {

// Steps one actor runs before it lets its mailbox in again, so a fast
// source cannot starve control messages (stop, credits) of its own; and
// the time after which it does so whatever the count, so a slow node that
// was handed a whole batch answers a stop after one step, not sixteen.
constexpr int kStepsPerTurn = 16;
constexpr std::int64_t kMaxTurnNs = 1'000'000;  // read off the coarse clock

// A live source is polled at least this far apart, whatever it asks for
// (its poll interval, or a due time that has already passed).
constexpr std::int64_t kMinPollIntervalNs = 10'000;

// Per-frame timing: busy time and the latency histograms, end-to-end
// latency, backpressure waits. STREAMLAB_NO_FRAME_TIMING compiles it out;
// only the benchmark of its cost sets it (streamlab_nometrics in
// bench/CMakeLists.txt, bench/metrics_overhead.sh); the product always times.
#ifdef STREAMLAB_NO_FRAME_TIMING
constexpr bool kFrameTiming = false;
#else
constexpr bool kFrameTiming = true;
#endif

// Steady clock for timing; 0 when timing is compiled out.
std::int64_t steady_ns() {
  if (!kFrameTiming) return 0;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A clock of a few ms resolution that costs a few ns to read.
std::int64_t coarse_ns() {
#ifdef CLOCK_MONOTONIC_COARSE
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
#else
  return 0;
#endif
}

// Which events (a node's step, a frame's arrival) get timed. A clock read
// costs 20-40 ns, as much as all the work of a cheap node on a small frame,
// so a fast stream is sampled: an event is timed when it follows a timed
// one and the coarse clock has ticked since, or after 16-47 untimed ones (a
// varying stride, so no periodic pattern in the stream is always hit or
// always missed). A slow stream (live audio, a node that takes
// milliseconds) is timed in full, a fast one about 1 event in kStride.
class FrameTiming {
 public:
  static constexpr std::uint32_t kStride = 32;  // a power of two

  bool due() {
    if (!kFrameTiming) return false;
    ++since_;
    // Only the event right after a timed one looks at the clock: in a slow
    // stream, that is every event.
    if (since_ < stride_ && (since_ > 1 || coarse_ns() == last_tick_)) return false;
    weight_ = since_;
    since_ = 0;
    last_tick_ = coarse_ns();
    rng_ ^= rng_ << 13;  // xorshift32
    rng_ ^= rng_ >> 17;
    rng_ ^= rng_ << 5;
    stride_ = kStride / 2 + (rng_ & (kStride - 1));
    return true;
  }
  // The events the timed one stands for: itself and the untimed ones before it.
  std::uint32_t weight() const { return weight_; }

 private:
  std::uint32_t since_ = 0;
  std::uint32_t stride_ = 1;  // the first event is timed
  std::uint32_t weight_ = 1;
  std::uint32_t rng_ = 2463534242u;
  std::int64_t last_tick_ = -1;
};

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
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;
  FrameRing unacked;  // kept for a re-send until the consumer reports them consumed
  FrameBatch outbox;  // sent frames not yet handed to CAF: they go at the end of the turn
  std::uint64_t outbox_first = 0;  // the edge index of the outbox's first frame
  bool eos_sent = false;
  std::uint64_t max_in_flight = 0;
  std::uint64_t buffered_bytes = 0;  // samples of the unacked frames
  // The consumer lives in another process: frames must fit the codec's
  // limits, and the bytes in flight are bounded besides the frame window.
  bool remote = false;
  // Backpressure is the share of time the producer waits for room on this
  // edge (as Flink measures it), not the edge's occupancy as the producer
  // sees it: a busy producer reads its credits late and would see full
  // edges that are not. With hysteresis over windows of kWindowNs: entered
  // at `high` of the time, left at `low`.
  static constexpr std::int64_t kWindowNs = 100'000'000;
  double high;
  double low;
  bool backpressured = false;
  std::uint64_t backpressure_episodes = 0;
  bool waiting = false;            // for room
  FrameTiming wait_timing;         // which waits are timed
  std::int64_t blocked_since = 0;  // a timed wait's start (steady clock); 0: none
  std::int64_t window_start = 0;
  std::int64_t window_blocked = 0;

  Output(const OutputLink& l, double high_fraction, double low_fraction, std::int64_t now)
      : link(l),
        address(caf::actor_cast<caf::strong_actor_ptr>(l.consumer)),
        unacked(l.capacity),
        high(high_fraction),
        low(low_fraction),
        window_start(now) {}
  // Across processes the bytes in flight are bounded too: BASP sends
  // heartbeats and control on the same connection, behind whatever data is
  // queued, and 16 large frames (256 MiB) there cost a member its
  // membership. One frame may always go, however large.
  bool has_room() const {
    if (sent - acked >= link.capacity) return false;
    return !remote || sent == acked || buffered_bytes < limits::kMaxRemoteEdgeBytesInFlight;
  }

  // Waits are timed as FrameTiming samples them (a waiting producer is
  // asked again and again: only a wait's start and end count).
  void blocked() {
    if (waiting) return;
    waiting = true;
    if (wait_timing.due()) blocked_since = steady_ns();
  }
  void unblocked() {
    if (!waiting) return;
    waiting = false;
    if (!blocked_since) return;
    const std::int64_t now = steady_ns();
    window_blocked += (now - blocked_since) * wait_timing.weight();
    blocked_since = 0;
    evaluate(now);
  }
  // Closes the window once it is long enough, counting a wait still going on.
  void evaluate(std::int64_t now) {
    std::int64_t length = now - window_start;
    if (length < kWindowNs) return;
    std::int64_t waited =
        window_blocked + (blocked_since ? (now - blocked_since) * wait_timing.weight() : 0);
    double share = static_cast<double>(waited) / static_cast<double>(length);
    if (!backpressured && share >= high) {
      backpressured = true;
      ++backpressure_episodes;
    } else if (backpressured && share <= low) {
      backpressured = false;
    }
    window_start = now;
    window_blocked = 0;
    if (blocked_since) blocked_since = now;
  }
};

struct Input {
  caf::strong_actor_ptr producer;  // whoever sent the latest frame, or the supervisor's resync
  std::uint32_t batch = 1;         // consumed frames reported at once
  std::uint64_t consumed = 0;      // cumulative
  std::uint64_t reported = 0;      // the consumed count the producer was last told
  // Sample bytes consumed since the last report: a producer across processes
  // waits on bytes as well as frames (Output::has_room), so a report goes
  // out once half that bound is consumed, whatever the frame count.
  std::uint64_t unreported_bytes = 0;
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
      // Half the window: the producer never runs dry while reports travel.
      in.batch = std::max<std::uint32_t>(1, capacity / 2);
      inputs_.push_back(in);
    }
    for (const auto& link : setup_->outputs) {
      outputs_.emplace_back(link, setup_->backpressure_high, setup_->backpressure_low, steady_ns());
      outputs_.back().remote = is_remote(link.consumer);
    }
    produced_.reserve(16);
    metrics_.started_ns = steady_ns();
    if (is_source() && setup_->node) live_ = setup_->node->live();
    if (live_) backlog_ = FrameRing(live_->backlog);
    if (setup_->resume) take_over(*setup_->resume);
  }

  const char* name() const override { return "streamlab.node"; }

  // Actor handles are strong references, and actors hold each other (a node
  // and its supervisor, a producer and its consumers): once terminated, a
  // node lets go of them, or none of them would ever be freed (a member
  // would keep every pipeline it ever ran; found by LeakSanitizer).
  void on_exit() override {
    outputs_.clear();
    inputs_.clear();
    setup_.reset();
  }

  caf::behavior make_behavior() override {
    // A replacement cannot know which of its predecessor's frames reached
    // consumers that were themselves replaced since: it sends them all again.
    if (setup_->resume)
      for (auto& out : outputs_) resend_unacked(out);
    return {
        [this](data_atom, std::uint32_t port, std::uint64_t first, const FrameBatch& batch) {
          for (std::uint32_t i = 0; i < batch.count; ++i) {
            if (batch.decoded(i))
              receive(port, first + i, batch.frames[i]);
            else
              receive_undecodable(port, first + i, batch.undecodable_reason);
          }
          pump();
        },
        [this](credit_atom, std::uint32_t port, std::uint64_t consumed) {
          on_credit(current_sender(), port, consumed);
        },
        [this](eos_atom, std::uint32_t port) {
          if (port < aligner_.ports()) aligner_.end(port);
          pump();
        },
        [this](rewire_atom, const caf::actor& old_consumer, const caf::actor& replacement,
               std::uint32_t port,
               std::uint64_t consumed) { on_rewire(old_consumer, replacement, port, consumed); },
        [this](resync_atom, std::uint32_t port, const caf::actor& producer) {
          if (port >= inputs_.size()) return;
          inputs_[port].producer = caf::actor_cast<caf::strong_actor_ptr>(producer);
          inputs_[port].reported = 0;  // tell the new producer where we are, now
          report_consumed(port, true);
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
        [this](retry_atom) {
          retry_wait_ = false;
          pump();
        },
        [this](handover_atom) {
          send(setup_->supervisor, handover_atom::value, make_handover(std::string()));
          quit();
        },
        [this](shutdown_atom) { quit(); },
        [this](snapshot_atom) { return make_report(done_ ? final_state_ : "running"); },
    };
  }

 private:
  bool is_source() const { return setup_->input_capacities.empty(); }
  bool is_remote(const caf::actor& a) const { return a && a.node() != home_system().node(); }
  const SupervisionConfig& policy() const { return setup_->supervision; }

  // Continues where the failed (or swapped) instance stopped.
  void take_over(const Handover& h) {
    metrics_ = h.metrics;
    for (std::size_t p = 0; p < inputs_.size() && p < h.consumed.size(); ++p) {
      inputs_[p].consumed = h.consumed[p];
      inputs_[p].received = h.consumed[p];
    }
    for (std::size_t i = 0; i < outputs_.size() && i < h.outputs.size(); ++i) {
      Output& out = outputs_[i];
      const OutputHandover& prev = h.outputs[i];
      out.sent = prev.sent;
      out.acked = prev.acked;
      out.eos_sent = prev.eos_sent;
      out.max_in_flight = prev.max_in_flight;
      for (const auto& f : prev.unacked) {  // still reserved in the memory budget
        out.unacked.push(f);
        out.buffered_bytes += f.sample_count() * sizeof(float);
      }
    }
    failing_ = h.failing;
    if (live_) {
      // What the predecessor held is held again (it was never counted as
      // sent); its sequence numbers also cover what it held or dropped.
      for (const auto& f : h.pending) {
        if (backlog_.size() < backlog_.capacity())
          backlog_.push(f);
        else
          metrics_.drop(DropReason::overflow);
      }
      if (!live_->numbered_by_time)
        seq_offset_ = h.metrics.frames_out + h.pending.size() +
                      h.metrics.dropped[static_cast<std::size_t>(DropReason::overflow)];
    } else {
      produced_ = h.pending;
      if (is_source()) seq_offset_ = h.metrics.frames_out;
    }
    last_error_ = h.error;
  }

  // `index` is the frame's position on its edge: re-sends after a
  // re-wiring may repeat frames this node already has, and are dropped here.
  void receive(std::uint32_t port, std::uint64_t index, const Frame& frame) {
    if (!arrived(port, index)) return;
    if (frame.timestamp_ns > 0 && arrival_timing_.due())
      metrics_.end_to_end.record(wall_ns() - frame.timestamp_ns);
    if (!aligner_.push(port, frame)) {
      // The producer sent more than it was granted: a flow-control bug.
      // Counted, so the loss is never silent.
      metrics_.drop(DropReason::overflow);
      spdlog::error("node \"{}\": input {} overflowed its capacity", setup_->node_id, port);
    }
  }

  // A frame from another member whose bytes arrived but did not decode: it
  // is received, consumed and counted as dropped at once, so the edge's
  // numbering and credits stay whole and the loss is visible.
  void receive_undecodable(std::uint32_t port, std::uint64_t index, const std::string& why) {
    if (!arrived(port, index)) return;
    metrics_.drop(DropReason::undecodable);
    const std::uint64_t n = metrics_.dropped[static_cast<std::size_t>(DropReason::undecodable)];
    last_error_ = "frame " + std::to_string(index) + " on input " + std::to_string(port) +
                  " dropped, undecodable: " + why;
    if (worth_logging(n))
      spdlog::error("node \"{}\": {} ({} so far)", setup_->node_id, last_error_, n);
    ++inputs_[port].consumed;
    report_consumed(port, true);
  }

  // Books a frame's arrival on its edge. False for a frame to ignore: on a
  // port this node does not have, or a duplicate from a re-send.
  bool arrived(std::uint32_t port, std::uint64_t index) {
    if (port >= inputs_.size()) {
      spdlog::error("node \"{}\": frame for input port {} it does not have", setup_->node_id, port);
      return false;
    }
    Input& in = inputs_[port];
    if (in.producer != current_sender()) in.producer = current_sender();
    if (index < in.received) return false;  // a duplicate from a re-send
    if (index > in.received) {
      // Frames that never arrived: only possible if an instance died without
      // a handover (a defect). Counted, never silent.
      spdlog::error("node \"{}\": input {} lost frames {}..{} in transit", setup_->node_id, port,
                    in.received, index - 1);
      metrics_.frames_in += index - in.received;
      metrics_.drop(DropReason::node_failed, index - in.received);
      in.consumed += index - in.received;
      in.received = index;
    }
    ++in.received;
    ++metrics_.frames_in;
    return true;
  }

  void on_credit(const caf::strong_actor_ptr& sender, std::uint32_t port, std::uint64_t consumed) {
    for (auto& out : outputs_) {
      if (out.link.port != port || out.address != sender) continue;
      forget_consumed(out, consumed);
      if (out.has_room()) out.unblocked();
      break;
    }
    pump();
  }

  // A consumer of ours was replaced: everything it had not consumed goes
  // to the replacement, in order, followed by the end of stream if we sent it.
  void on_rewire(const caf::actor& old_consumer, const caf::actor& replacement, std::uint32_t port,
                 std::uint64_t consumed) {
    for (auto& out : outputs_) {
      if (out.link.port != port || out.link.consumer != old_consumer) continue;
      out.link.consumer = replacement;
      out.address = caf::actor_cast<caf::strong_actor_ptr>(replacement);
      out.remote = is_remote(replacement);
      forget_consumed(out, consumed);
      resend_unacked(out);
    }
    pump();
  }

  // The consumer is done with everything up to `consumed`.
  void forget_consumed(Output& out, std::uint64_t consumed) {
    while (out.acked < consumed && !out.unacked.empty()) {
      std::uint64_t bytes = out.unacked.front().sample_count() * sizeof(float);
      out.buffered_bytes -= bytes;
      if (setup_->memory) setup_->memory->release(bytes);
      out.unacked.pop();
      ++out.acked;
    }
  }

  // Idempotent: the consumer drops frames it already has.
  void resend_unacked(Output& out) {
    out.outbox.count = 0;  // what it held is among the unacked
    for (std::size_t i = 0; i < out.unacked.size(); ++i)
      stage(out, out.acked + i, out.unacked.at(i));
    flush(out);
    if (out.eos_sent) send(out.link.consumer, eos_atom::value, out.link.port);
  }

  // Frames of one turn wait in the edge's outbox and leave together;
  // nothing ever waits in an outbox past the end of a turn.
  void stage(Output& out, std::uint64_t index, const Frame& frame) {
    if (!out.outbox.empty() && index != out.outbox_first + out.outbox.count) flush(out);
    if (out.outbox.empty()) out.outbox_first = index;
    out.outbox.push(frame);
    if (out.outbox.full()) flush(out);
  }

  void flush(Output& out) {
    if (out.outbox.empty()) return;
    batch_messages_->send(this, caf::actor_cast<caf::abstract_actor*>(out.link.consumer),
                          data_atom::value, out.link.port, out.outbox_first, std::move(out.outbox));
    out.outbox.count = 0;
  }

  void flush_all() {
    for (auto& out : outputs_) flush(out);
  }

  // A turn of work, after which whatever was sent is on its way.
  void pump() {
    pump_steps();
    flush_all();
  }

  // Does all the work that is possible now: send what waits, then step the
  // node while there is input and room downstream. Returns to the mailbox
  // after a bounded number of steps, or of time.
  void pump_steps() {
    const std::int64_t turn_start = coarse_ns();
    for (int step = 0; step < kStepsPerTurn && !done_; ++step) {
      if (!send_produced()) {  // waiting for room downstream
        wait_started();
        return;
      }
      wait_ended();
      if (finishing_) {
        complete();
        return;
      }
      if (end_of_input_) {
        begin_finish();
        continue;
      }
      if (step > 0 && coarse_ns() - turn_start >= kMaxTurnNs) break;  // what was made is sent
      if (is_source() ? !source_step() : !process_step()) return;
    }
    if (!done_ && !pump_scheduled_) {
      pump_scheduled_ = true;
      pump_messages_->send(this, this, pump_atom::value);
    }
  }

  // False when there is nothing to do until a message arrives.
  bool source_step() {
    bool limit_reached = setup_->max_frames && generated() >= setup_->max_frames;
    // A source that failed for good has nothing to stand in for: it ends.
    if (stop_requested_ || limit_reached || setup_->stand_in != StandIn::none) {
      end_of_input_ = true;
      return true;
    }
    bool end_of_stream = false;
    produced_.clear();
    auto t0 = busy_start();
    Status status = call_node([&] { return setup_->node->generate(produced_, end_of_stream); });
    record_busy(t0);
    if (!status.is_ok()) {
      record_error(status.message());
      produced_.clear();
      if (policy().on_error == ErrorPolicy::propagate) {
        fail(status.message());
        return false;
      }
      // A source has no frame to skip or retry: it ends, as failed.
      end_of_stream = true;
      failed_ = true;
    }
    if (setup_->max_frames) {
      auto left = setup_->max_frames - generated();
      if (produced_.size() > left) produced_.resize(left);
    }
    stamp_produced();
    next_to_send_ = 0;
    if (!live_) {
      metrics_.frames_out += produced_.size();
    } else if (produced_.empty() && !end_of_stream) {
      schedule_poll();  // nothing is ready yet: ask again later, never spin
      return false;
    } else {
      for (auto& frame : produced_) hold(std::move(frame));
      produced_.clear();
    }
    // The frames just produced go out first; finish() comes after them.
    if (end_of_stream) end_of_input_ = true;
    return true;
  }

  // A restarted source starts its numbering afresh; shifted by what its
  // predecessors sent, the sequence continues instead of repeating. This
  // holds for what finish() flushes too (a capture's last partial frame).
  void stamp_produced() {
    for (auto& frame : produced_) {
      frame.seq += seq_offset_;
      if (frame.timestamp_ns == 0) frame.timestamp_ns = wall_ns();
    }
  }

  bool process_step() {
    if (retry_wait_) return false;
    if (!aligner_.next(slots_)) {
      if (aligner_.drained()) {
        end_of_input_ = true;
        return true;
      }
      return false;  // waiting for input
    }
    produced_.clear();
    next_to_send_ = 0;
    if (setup_->stand_in != StandIn::none) {
      stand_in_step();
      return true;
    }
    std::uint32_t earlier_attempts = attempts_from_earlier_instances();
    if (earlier_attempts > policy().retry.attempts) {
      dead_letter_set("retries_exhausted", last_error_, earlier_attempts);
      consume_set();
      return true;
    }
    Inputs in{slots_.data(), slots_.size()};
    auto t0 = busy_start();
    Status status = call_node([&] { return setup_->node->process(in, produced_); });
    record_busy(t0);
    if (status.is_ok()) {
      metrics_.frames_out += produced_.size();
      consume_set();
      if (setup_->report_successes > 0) {
        --setup_->report_successes;
        send(setup_->supervisor, success_atom::value);
      }
      return true;
    }
    produced_.clear();
    return on_error(status.message(), earlier_attempts);
  }

  // The node failed on the current input set: apply its error policy.
  bool on_error(const std::string& message, std::uint32_t earlier_attempts) {
    record_error(message);
    switch (policy().on_error) {
      case ErrorPolicy::skip:
        for (const Frame* f : slots_) metrics_.skipped += f ? 1 : 0;
        consume_set();
        return true;
      case ErrorPolicy::default_frame:
        produced_.push_back(default_frame());
        metrics_.frames_out += 1;
        consume_set();
        return true;
      case ErrorPolicy::retry: {
        auto delay = policy().retry.next_retry_delay_ns(attempts_);
        if (!delay) {
          dead_letter_set("retries_exhausted", message, attempts_ + 1);
          consume_set();
          return true;
        }
        ++attempts_;
        retry_wait_ = true;
        delayed_send(this, std::chrono::nanoseconds(*delay), retry_atom::value);
        return false;
      }
      case ErrorPolicy::propagate:
        fail(message, earlier_attempts + 1);
        return false;
    }
    return false;
  }

  // A stand-in consumes every frame and accounts for it.
  void stand_in_step() {
    for (const Frame* f : slots_) {
      if (!f) continue;
      if (setup_->stand_in == StandIn::drop) metrics_.drop(DropReason::node_failed);
    }
    if (setup_->stand_in == StandIn::dead_letter) dead_letter_set("circuit_open", last_error_, 0);
    consume_set();
  }

  std::uint32_t attempts_from_earlier_instances() const {
    for (const auto& failed : failing_) {
      const Frame* f = failed.port < slots_.size() ? slots_[failed.port] : nullptr;
      if (f && f->seq == failed.seq) return failed.attempts;
    }
    return 0;
  }

  // The current set is finished with: its frames leave the queues and the
  // producers learn (in batches) that there is room again.
  void consume_set() {
    for (std::size_t port = 0; port < slots_.size(); ++port) {
      if (!slots_[port]) continue;
      inputs_[port].unreported_bytes += slots_[port]->sample_count() * sizeof(float);
      aligner_.pop(port);
      ++inputs_[port].consumed;
      report_consumed(port, false);
    }
    attempts_ = 0;
  }

  void report_consumed(std::size_t port, bool now) {
    Input& in = inputs_[port];
    if (!in.producer || in.consumed == in.reported) return;
    if (!now && in.consumed - in.reported < in.batch &&
        in.unreported_bytes < limits::kMaxRemoteEdgeBytesInFlight / 2)
      return;
    credit_messages_->send(this, in.producer->get(), credit_atom::value,
                           static_cast<std::uint32_t>(port), in.consumed);
    in.reported = in.consumed;
    in.unreported_bytes = 0;
  }

  Frame default_frame() {
    const Frame* like = nullptr;
    for (const Frame* f : slots_) like = like ? like : f;
    Frame out;
    out.seq = like->seq;
    out.timestamp_ns = like->timestamp_ns;
    out.sample_rate = like->sample_rate;
    out.channels = like->channels;
    out.frames = like->frames;
    WritableBuffer buffer = BufferPool::process_pool().acquire(like->sample_count());
    std::fill(buffer.data(), buffer.data() + like->sample_count(),
              static_cast<float>(policy().default_value));
    out.samples = std::move(buffer).freeze();
    return out;
  }

  void dead_letter_set(const char* reason, const std::string& error, std::uint32_t attempts) {
    for (std::size_t port = 0; port < slots_.size(); ++port) {
      if (!slots_[port]) continue;
      ++metrics_.dead_lettered;
      if (!setup_->dead_letters) continue;
      DeadLetter letter;
      letter.pipeline = setup_->pipeline;
      letter.node = setup_->node_id;
      letter.port = static_cast<std::uint32_t>(port);
      letter.reason = reason;
      letter.error = error;
      letter.attempts = attempts;
      letter.time_ns = wall_ns();
      letter.frame = *slots_[port];
      send(setup_->dead_letters, dead_letter_atom::value, std::move(letter));
    }
  }

  // Under `propagate`: leave everything a replacement needs with the
  // supervisor, then fail. Frames not consumed yet are re-sent by the
  // producers; the failing set is marked with its attempts.
  void fail(const std::string& message, std::uint32_t attempts = 1) {
    Handover handover = make_handover(message);
    if (!is_source()) {
      for (std::size_t port = 0; port < slots_.size(); ++port)
        if (slots_[port])
          handover.failing.push_back(
              {static_cast<std::uint32_t>(port), slots_[port]->seq, attempts});
    }
    send(setup_->supervisor, failed_atom::value, std::move(handover));
    done_ = true;
    quit(caf::make_error(caf::sec::runtime_error, message));
  }

  Handover make_handover(const std::string& error) const {
    Handover h;
    h.error = error;
    h.metrics = metrics_;
    for (const auto& in : inputs_) {
      h.consumed.push_back(in.consumed);
      // What was received but not consumed comes again from the producers.
      h.metrics.frames_in -= in.received - in.consumed;
    }
    for (const auto& out : outputs_) {
      OutputHandover o;
      o.sent = out.sent;
      o.acked = out.acked;
      o.eos_sent = out.eos_sent;
      o.max_in_flight = out.max_in_flight;
      for (std::size_t i = 0; i < out.unacked.size(); ++i) o.unacked.push_back(out.unacked.at(i));
      h.outputs.push_back(std::move(o));
    }
    for (std::size_t i = next_to_send_; i < produced_.size(); ++i)
      h.pending.push_back(produced_[i]);
    for (std::size_t i = 0; i < backlog_.size(); ++i) h.pending.push_back(backlog_.at(i));
    return h;
  }

  // Sends produced frames while every consumer has room. True when all
  // have been sent. A live source never waits for room while it runs (what
  // has no room is held in its backlog, or dropped); once it ends, it waits
  // for room to send what it still holds.
  bool send_produced() {
    if (live_ && !send_backlog()) return !end_of_input_;
    while (next_to_send_ < produced_.size()) {
      if (!room_downstream() || !reserve_memory(produced_[next_to_send_])) return false;
      send_frame(produced_[next_to_send_++]);
    }
    produced_.clear();
    next_to_send_ = 0;
    return true;
  }

  // Every consumer has room for one more frame (an edge without room is
  // marked as waiting).
  bool room_downstream() {
    bool room = true;
    for (auto& out : outputs_) {
      if (out.has_room()) continue;
      out.blocked();
      room = false;
    }
    return room && !memory_exceeded_;
  }

  // Every consumer gets the same buffer, and each edge keeps it until its
  // consumer is done with it.
  void send_frame(const Frame& frame) {
    // A live source's own end-to-end latency is how late its frames leave:
    // its timer's wake-up, and any wait for room.
    if (live_ && frame.timestamp_ns > 0 && arrival_timing_.due())
      metrics_.end_to_end.record(wall_ns() - frame.timestamp_ns);
    for (auto& out : outputs_) {
      if (out.remote && !fits_the_wire(out, frame)) continue;
      stage(out, out.sent, frame);
      out.unacked.push(frame);
      out.buffered_bytes += frame.sample_count() * sizeof(float);
      ++out.sent;
      out.max_in_flight = std::max(out.max_in_flight, out.sent - out.acked);
    }
  }

  // A frame over the codec's limits would be refused by the member that
  // receives it: it is dropped here, on this edge only, counted and said
  // why, rather than sent to vanish. Validation keeps the built-in nodes
  // within the limits; this catches what only shows at run time.
  bool fits_the_wire(const Output& out, const Frame& frame) {
    if (frame.channels <= limits::kMaxFrameChannels &&
        frame.sample_count() <= limits::kMaxFrameSamples && !frame.metadata)
      return true;
    const std::string why = limit_violation(frame);
    if (why.empty()) return true;
    if (setup_->memory) setup_->memory->release(frame.sample_count() * sizeof(float));
    metrics_.drop(DropReason::too_large);
    const std::uint64_t n = metrics_.dropped[static_cast<std::size_t>(DropReason::too_large)];
    last_error_ = "frame " + std::to_string(frame.seq) + " to \"" + out.link.consumer_id +
                  "\" on another member dropped, too large to cross: " + why;
    if (worth_logging(n))
      spdlog::error("node \"{}\": {} ({} so far)", setup_->node_id, last_error_, n);
    return false;
  }

  // Live sources: frames the node has emitted so far (sent, held, or
  // dropped for overflow); for other sources what was produced is counted
  // as out when it is produced.
  std::uint64_t generated() const {
    if (!live_) return metrics_.frames_out;
    return metrics_.frames_out + backlog_.size() +
           metrics_.dropped[static_cast<std::size_t>(DropReason::overflow)];
  }

  // Live sources: sends held frames, oldest first, while every consumer has
  // room. True when nothing is held any more.
  bool send_backlog() {
    while (!backlog_.empty()) {
      if (!room_downstream() || !reserve_memory(backlog_.front())) return false;
      send_frame(backlog_.front());
      backlog_.pop();
      ++metrics_.frames_out;
    }
    return true;
  }

  // Live sources: a new frame goes out now if nothing older waits and every
  // edge has room; else it is held, up to the backlog, past which the
  // overflow policy drops the oldest held frame or this one. The backlog is
  // a preallocated ring: nothing here allocates.
  void hold(Frame frame) {
    if (send_backlog() && room_downstream() && reserve_memory(frame)) {
      send_frame(frame);
      ++metrics_.frames_out;
      return;
    }
    if (backlog_.size() >= live_->backlog) {
      metrics_.drop(DropReason::overflow);
      if (live_->overflow == Overflow::drop_newest || backlog_.empty()) return;
      backlog_.pop();  // the oldest goes
    }
    backlog_.push(std::move(frame));
  }

  // Live sources: the next poll, when the node says its next frame is due,
  // or after its poll interval if that comes first (or nothing is known).
  // One timer at most: while any pump is scheduled, that one polls. A wake-up
  // that comes early finds nothing ready and lands here again: it waits
  // once more, at least kMinPollIntervalNs, and never spins.
  void schedule_poll() {
    if (pump_scheduled_) return;
    pump_scheduled_ = true;
    using clock = caf::actor_clock;
    const clock::time_point now = system().clock().now();
    clock::time_point wake =
        now + std::chrono::nanoseconds(std::max(live_->poll_interval_ns, kMinPollIntervalNs));
    if (const std::optional<std::int64_t> due = setup_->node->next_due_ns()) {
      const clock::time_point due_at(
          std::chrono::duration_cast<clock::duration_type>(std::chrono::nanoseconds(*due)));
      wake = std::min(wake, std::max(due_at, now + std::chrono::nanoseconds(kMinPollIntervalNs)));
    }
    // No sender: a timer must not keep its actor alive.
    Pacer::process_pacer().schedule(wake, caf::weak_actor_ptr{ctrl()},
                                    pump_messages_->make(nullptr, pump_atom::value));
  }

  // One reservation per edge the frame is about to wait on. Past the
  // pipeline's bound the run fails, naming the edge and the figures.
  bool reserve_memory(const Frame& frame) {
    if (!setup_->memory) return true;
    const std::uint64_t bytes = frame.sample_count() * sizeof(float);
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      if (setup_->memory->reserve(bytes)) continue;
      for (std::size_t k = 0; k < i; ++k) setup_->memory->release(bytes);
      const Output& out = outputs_[i];
      memory_exceeded_ = true;
      send(setup_->supervisor, memory_atom::value,
           "pipeline \"" + setup_->pipeline + "\": edge \"" + setup_->node_id + "\" -> \"" +
               out.link.consumer_id + "\" would bring the buffered sample bytes to " +
               std::to_string(setup_->memory->used() + bytes) + ", over max_memory_bytes " +
               std::to_string(setup_->memory->limit()) + " (the edge holds " +
               std::to_string(out.sent - out.acked) + " frames, " +
               std::to_string(out.buffered_bytes) + " bytes; this frame is " +
               std::to_string(bytes) + " bytes)");
      return false;
    }
    return true;
  }

  // Precondition: everything produced before has been sent (or counted).
  void begin_finish() {
    if (finishing_) return;
    finishing_ = true;
    produced_.clear();
    next_to_send_ = 0;
    if (!setup_->node) return;
    Status status = call_node([&] { return setup_->node->finish(produced_); });
    if (!status.is_ok()) {
      record_error(status.message());
      failed_ = true;
    }
    if (is_source()) {
      // --frames N means N, also when finish() flushes more.
      if (setup_->max_frames)
        produced_.resize(std::min<std::size_t>(
            produced_.size(), setup_->max_frames - std::min(setup_->max_frames, generated())));
      stamp_produced();
    }
    metrics_.frames_out += produced_.size();
  }

  // Everything is sent: tell consumers the stream ended and report. The
  // actor stays until the supervisor ends the run, so it can still re-send
  // to a consumer that fails later.
  void complete() {
    for (auto& out : outputs_) {
      flush(out);  // the end of stream comes after every frame
      send(out.link.consumer, eos_atom::value, out.link.port);
      out.eos_sent = true;
    }
    for (std::size_t port = 0; port < inputs_.size(); ++port) report_consumed(port, true);
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
    // A live source's held frames were never counted as out.
    metrics_.drop(DropReason::shutdown, backlog_.size());
    while (!backlog_.empty()) backlog_.pop();
    if (!finishing_) begin_finish();
    std::uint64_t flushed_unsent = produced_.size();
    metrics_.drop(DropReason::shutdown, flushed_unsent);
    metrics_.frames_out -= flushed_unsent;
    produced_.clear();
    complete();
  }

  void report(const char* state) {
    done_ = true;
    final_state_ = state;
    send(setup_->supervisor, report_atom::value, make_report(state));
    // The node's resources (open files) go now, not when the run ends.
    setup_->node.reset();
  }

  NodeReport make_report(const std::string& state) {
    const std::int64_t now = steady_ns();
    for (auto& out : outputs_) out.evaluate(now);
    NodeReport r;
    r.snapshot = make_snapshot(metrics_, now);
    r.snapshot.pipeline = setup_->pipeline;
    r.snapshot.node = setup_->node_id;
    r.snapshot.type = setup_->type;
    r.snapshot.state = state;
    r.snapshot.last_error = last_error_;
    if (setup_->node) setup_->node->figures(r.snapshot.figures);  // the node type's own
    for (const auto& out : outputs_) {
      EdgeSnapshot e{setup_->node_id, out.link.consumer_id, out.link.port, out.link.capacity,
                     out.sent,        out.max_in_flight};
      e.pipeline = setup_->pipeline;
      e.occupancy = out.sent - out.acked;
      e.buffered_bytes = out.buffered_bytes;
      e.backpressured = out.backpressured;
      e.backpressure_episodes = out.backpressure_episodes;
      r.edges.push_back(std::move(e));
    }
    for (const auto& in : inputs_) r.received.push_back(in.received);
    return r;
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

  // Waits for room downstream are timed as FrameTiming samples them.
  void wait_started() {
    if (waiting_) return;
    waiting_ = true;
    if (wait_timing_.due()) blocked_since_ = steady_ns();
  }
  void wait_ended() {
    if (!waiting_) return;
    waiting_ = false;
    if (!blocked_since_) return;
    metrics_.backpressured_ns += (steady_ns() - blocked_since_) * wait_timing_.weight();
    blocked_since_ = 0;
  }

  // Steps are timed as FrameTiming samples them: 0 for a step not timed.
  std::int64_t busy_start() { return step_timing_.due() ? steady_ns() : 0; }

  // A timed step: its latency, and busy time for the steps it stands for.
  void record_busy(std::int64_t t0) {
    if (t0 == 0) return;
    const std::int64_t ns = steady_ns() - t0;
    metrics_.latency.record(ns);
    metrics_.busy_ns += ns * step_timing_.weight();
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
  FrameTiming step_timing_;     // generate/process steps: latency, busy time
  FrameTiming arrival_timing_;  // received frames: end-to-end latency
  FrameTiming wait_timing_;     // waits for room downstream: backpressured time
  bool waiting_ = false;        // for room downstream
  std::string last_error_;
  std::vector<FailedFrame> failing_;  // from earlier instances
  std::uint32_t attempts_ = 0;        // retries of the current set (retry policy)
  std::uint64_t seq_offset_ = 0;      // sources: frames sent by earlier instances
  bool retry_wait_ = false;
  bool stop_requested_ = false;
  bool end_of_input_ = false;  // no more steps: finish once produced frames are out
  bool finishing_ = false;
  bool failed_ = false;
  bool done_ = false;
  bool pump_scheduled_ = false;
  std::string final_state_;
  std::int64_t blocked_since_ = 0;  // a timed wait's start (steady clock); 0: none
  bool memory_exceeded_ = false;
  std::optional<LivePacing> live_;  // live sources only: how the node wants to be paced
  FrameRing backlog_{0};            // live sources: frames waiting for room, oldest first
  // The data path's messages, in elements reused once their receivers are
  // done with them (stored types: atoms as caf::atom_value).
  MessagePoolRef<caf::atom_value, std::uint32_t, std::uint64_t, FrameBatch> batch_messages_;
  MessagePoolRef<caf::atom_value, std::uint32_t, std::uint64_t> credit_messages_;
  MessagePoolRef<caf::atom_value> pump_messages_;
};

}  // namespace

caf::actor spawn_node_actor(caf::actor_system& system, std::shared_ptr<NodeActorSetup> setup) {
  return system.spawn<node_actor>(std::move(setup));
}

void describe_node(const PipelineSpec& spec, std::size_t i, NodeActorSetup& setup) {
  describe_node(spec, PipelineGraph(spec), i, setup);
}

void describe_node(const PipelineSpec& spec, const PipelineGraph& graph, std::size_t i,
                   NodeActorSetup& setup) {
  const NodeSpec& n = spec.nodes[i];
  setup.pipeline = spec.name;
  setup.node_id = n.id;
  setup.type = n.type;
  setup.supervision = n.supervision_config;
  setup.backpressure_high = spec.config.backpressure_high;
  setup.backpressure_low = spec.config.backpressure_low;
  setup.input_capacities.clear();
  for (std::size_t c : graph.inputs(i))
    setup.input_capacities.push_back(static_cast<std::uint32_t>(spec.connections[c].capacity));
}

}  // namespace streamlab
