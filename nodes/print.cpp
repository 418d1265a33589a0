#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

#include "nodes/builtin_types.hpp"
#include "nodes/node_support.hpp"

namespace streamlab {

namespace {

using namespace node_support;

class PrintNode final : public Node {
 public:
  PrintNode(const json& config, const NodeContext& ctx)
      : out_(ctx.text_out ? ctx.text_out : &std::cout),
        every_(std::max<std::uint64_t>(1, count_field(config.at("every")))) {}

  Status process(const Inputs& in, FrameList&) override {
    const Frame* frame = in.count > 0 ? in[0] : nullptr;
    if (!frame) return Status::error("print: called without an input frame");
    // Counts frames received rather than seq, so gaps upstream do not change
    // the rhythm; the first frame is always shown.
    const bool show = received_ % every_ == 0;
    ++received_;
    if (!show) return Status::ok();
    // A closed output (stdout piped into `head`, SIGPIPE ignored: EPIPE) is
    // nobody's fault and no restart brings it back: the node stops printing
    // and counts what it could not print, and the pipeline's other sinks go
    // on. Failing the node instead would restart it on every frame.
    if (!*out_) {
      ++not_printed_;
      return Status::ok();
    }

    const std::size_t n = std::min(frame->sample_count(), frame->samples.size());
    const float* s = frame->samples.data();
    double sum_sq = 0.0;
    float peak = 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
      sum_sq += static_cast<double>(s[i]) * s[i];
      peak = std::max(peak, std::fabs(s[i]));
    }
    const double rms = n ? std::sqrt(sum_sq / static_cast<double>(n)) : 0.0;

    // Formatted into one buffer and written with one call: no allocation,
    // independent of the stream's precision flags, and lines from several
    // print nodes sharing std::cout do not interleave mid-line.
    char line[96];
    const int len = std::snprintf(line, sizeof line, "seq=%" PRIu64 " rms=%.6g peak=%.6g\n",
                                  frame->seq, rms, static_cast<double>(peak));
    out_->write(line, std::min<std::streamsize>(len, sizeof line - 1));
    if (!*out_) ++not_printed_;  // this line may be lost in a buffer the stream failed to write
    return Status::ok();
  }

  void figures(std::vector<NamedFigure>& out) const override {
    out.push_back({"output_closed", *out_ ? 0.0 : 1.0});
    out.push_back({"frames_not_printed", static_cast<double>(not_printed_)});
  }

 private:
  std::ostream* out_;
  std::uint64_t every_;
  std::uint64_t received_ = 0;
  std::uint64_t not_printed_ = 0;  // frames due to be shown after the output failed
};

}  // namespace

NodeType print_node_type() {
  NodeTypeSchema schema;
  schema.type = "print";
  schema.summary = "prints seq, RMS and peak of frames as text lines (sink)";
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.has_output = false;
  schema.fields = {
      integer_field("every", "print one frame in every N (1 prints all)", 1, 1.0),
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<PrintNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
