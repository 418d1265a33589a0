#include <fcntl.h>
#include <sndfile.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <spdlog/spdlog.h>

#include "nodes/builtin_types.hpp"
#include "nodes/node_support.hpp"
#include "runtime/path_confinement.hpp"

namespace streamlab {

namespace {

using namespace node_support;

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// Returns the reason when libsndfile cannot read `path`, empty when it can.
// With a `confine_root` (on a member), opened beneath it without following
// symlinks (open_beneath), so a link swapped in after deploy's check fails.
std::string open_for_read(const std::string& path, SndfilePtr& file, SF_INFO& info,
                          const std::string& confine_root = {}) {
  info = SF_INFO{};
  if (confine_root.empty()) {
    file.reset(sf_open(path.c_str(), SFM_READ, &info));
  } else {
    const int fd = open_beneath(confine_root, path, O_RDONLY);
    if (fd < 0) return std::string("beneath ") + confine_root + ": " + std::strerror(errno);
    file.reset(sf_open_fd(fd, SFM_READ, &info, SF_TRUE));
    if (!file) ::close(fd);
  }
  if (!file) return sf_strerror(nullptr);
  if (info.channels <= 0) {
    file.reset();
    return "the file declares no channels";
  }
  // Frames carry at most kMaxFrameChannels: past it a frame could not cross
  // to another member (the decoder's bound), so such a file is refused here,
  // at validation and at start, not lost in transit.
  if (static_cast<unsigned>(info.channels) > limits::kMaxFrameChannels) {
    file.reset();
    return "the file has " + std::to_string(info.channels) + " channels, over the limit of " +
           std::to_string(limits::kMaxFrameChannels) + " channels per frame";
  }
  return {};
}

// The number after `key` (and its padding and colon) on a line of libsndfile's log, or -1.
long long log_number(const std::string& log, const char* key) {
  const auto at = log.find(key);
  if (at == std::string::npos) return -1;
  const char* start = log.c_str() + at + std::strlen(key);
  while (*start == ' ' || *start == ':') ++start;  // "Block Align   : 4"
  char* end = nullptr;
  const long long value = std::strtoll(start, &end, 10);
  return end == start ? -1 : value;
}

// The frames the file's header promises. libsndfile shortens `info.frames`
// to what a truncated file holds and says so only in its log ("data : 96000
// (should be 1956)"), so a WAV's promise is read from there; other formats
// (and a log without those lines) are taken at libsndfile's word.
std::int64_t promised_frames(SNDFILE* file, const SF_INFO& info) {
  char log[4096] = {};
  sf_command(file, SFC_GET_LOG_INFO, log, sizeof log);
  const std::string text(log);
  const long long data_bytes = log_number(text, "\ndata");
  const long long block_align = log_number(text, "Block Align");
  if (data_bytes <= 0 || block_align <= 0) return info.frames;
  return std::max<std::int64_t>(info.frames, data_bytes / block_align);
}

class WavSourceNode final : public Node {
 public:
  // Opening fails here, by throwing, rather than on the first generate():
  // a source whose file cannot be opened can never produce anything, and the
  // actor reports a failed construction as clearly as a failed step. The
  // schema's cross check has normally caught the problem before any actor
  // starts; this covers a file that changed in between.
  WavSourceNode(const json& config, const NodeContext& ctx)
      : pool_(ctx.pool ? ctx.pool : &BufferPool::process_pool()),
        path_(config.at("path").get<std::string>()),
        frame_size_(small_uint_field(config.at("frame_size"))),
        loop_(config.at("loop").get<bool>()) {
    SF_INFO info;
    std::string why = open_for_read(path_, file_, info, ctx.confine_root);
    if (!why.empty()) throw std::runtime_error("wav_source: cannot open \"" + path_ + "\": " + why);
    promised_ = promised_frames(file_.get(), info);
    sample_rate_ = static_cast<std::uint32_t>(info.samplerate);
    channels_ = static_cast<std::uint32_t>(info.channels);
    scratch_.resize(std::size_t{frame_size_} * channels_);
  }

  Status generate(FrameList& out, bool& end_of_stream) override {
    end_of_stream = false;
    if (!file_) {
      end_of_stream = true;
      return Status::ok();
    }
    std::size_t got = 0;
    bool at_end = false;
    bool just_rewound = false;
    while (got < frame_size_) {
      const sf_count_t want = static_cast<sf_count_t>(frame_size_ - got);
      const sf_count_t read = sf_readf_float(file_.get(), scratch_.data() + got * channels_, want);
      if (read > 0) {
        got += static_cast<std::size_t>(read);
        if (!first_pass_done_) read_ += static_cast<std::uint64_t>(read);
        just_rewound = false;
      }
      if (read == want) break;
      if (sf_error(file_.get()) != SF_ERR_NO_ERROR)
        return Status::error("wav_source: reading \"" + path_ +
                             "\" failed: " + sf_strerror(file_.get()));
      if (!first_pass_done_) end_of_first_pass();
      // End of file. Looping wraps inside the frame so looped audio stays
      // gapless and every frame keeps its full size; an empty file would
      // wrap forever, hence the check that the last rewind yielded samples.
      if (!loop_ || just_rewound) {
        at_end = true;
        break;
      }
      if (sf_seek(file_.get(), 0, SEEK_SET) < 0)
        return Status::error("wav_source: cannot rewind \"" + path_ +
                             "\" to loop: " + sf_strerror(file_.get()));
      just_rewound = true;
    }

    if (got > 0) emit(got, out);
    if (at_end) {
      end_of_stream = true;
      file_.reset();
    }
    return Status::ok();
  }

  Status finish(FrameList&) override {
    file_.reset();
    return Status::ok();
  }

  void figures(std::vector<NamedFigure>& out) const override {
    out.push_back({"file_frames_promised", static_cast<double>(promised_)});
    out.push_back({"file_frames_read", static_cast<double>(read_)});
    out.push_back({"file_frames_missing", static_cast<double>(missing_)});
  }

 private:
  // Once per run, at the first end of file: a file shorter than its header
  // says (a copy cut short, a recording whose writer died) is read to where
  // it ends, and the shortfall is said and counted rather than passed over.
  void end_of_first_pass() {
    first_pass_done_ = true;
    if (promised_ <= 0 || read_ >= static_cast<std::uint64_t>(promised_)) return;
    missing_ = static_cast<std::uint64_t>(promised_) - read_;
    spdlog::warn(
        "wav_source: \"{}\" is truncated: its header promises {} frames (samples per channel), "
        "{} were read, {} are missing",
        path_, promised_, read_, missing_);
  }

  void emit(std::size_t frames, FrameList& out) {
    WritableBuffer buffer = pool_->acquire(frames * channels_);
    float* __restrict dst = buffer.data();
    const float* __restrict src = scratch_.data();
    if (channels_ == 1) {
      std::memcpy(dst, src, frames * sizeof(float));
    } else {
      for (std::size_t c = 0; c < channels_; ++c) {
        float* __restrict plane = dst + c * frames;
        for (std::size_t i = 0; i < frames; ++i) plane[i] = src[i * channels_ + c];
      }
    }
    Frame frame;
    frame.seq = seq_++;
    frame.timestamp_ns = wall_clock_ns();
    frame.sample_rate = sample_rate_;
    frame.channels = channels_;
    frame.frames = static_cast<std::uint32_t>(frames);
    frame.samples = std::move(buffer).freeze();
    out.push_back(std::move(frame));
  }

  BufferPool* pool_;
  std::string path_;
  std::uint32_t frame_size_;
  bool loop_;
  SndfilePtr file_;
  std::uint32_t sample_rate_ = 0;
  std::uint32_t channels_ = 0;
  std::vector<float> scratch_;  // interleaved, as libsndfile delivers it
  std::uint64_t seq_ = 0;
  std::int64_t promised_ = 0;  // frames the header declares
  std::uint64_t read_ = 0;     // frames read before the first end of file
  std::uint64_t missing_ = 0;  // promised_ - read_ when the file is short
  bool first_pass_done_ = false;
};

}  // namespace

NodeType wav_source_node_type() {
  NodeTypeSchema schema;
  schema.type = "wav_source";
  schema.summary = "reads an audio file (WAV, FLAC, ... anything libsndfile reads) (source)";
  schema.min_inputs = 0;
  schema.max_inputs = 0;
  schema.fields = {
      path_field("path", "audio file to read", PathCheck::readable_file),
      integer_field("frame_size", "samples per channel in each frame (the last may be shorter)",
                    1024, 1.0, limits::kMaxFrameSize),
      boolean_field("loop", "start over at the end of the file instead of ending", false),
  };
  // Existence and permissions are field checks; whether the contents are
  // audio libsndfile understands is only known by opening it, and saying so
  // at validation beats failing when the pipeline starts.
  schema.cross_check = [](const json& config, const auto& report) {
    SndfilePtr file;
    SF_INFO info;
    const std::string path = config.at("path").get<std::string>();
    std::string why = open_for_read(path, file, info);
    if (!why.empty()) report("path", "cannot read \"" + path + "\" as audio: " + why);
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<WavSourceNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
