#include <fcntl.h>
#include <sndfile.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <vector>

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

enum class Container { wav, flac };

// Leaves room below 2^32 for the RIFF, fmt and fact chunk headers.
constexpr std::uint64_t kWavDataLimit = 0xFFFFFFFFull - 4096;

std::optional<Container> container_for(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return std::nullopt;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (ext == "wav") return Container::wav;
  if (ext == "flac") return Container::flac;
  return std::nullopt;
}

// Scaled by 32768, the factor libsndfile (and sox) use when reading 16-bit
// PCM back as float, so k/32768 survives a round trip exactly. libsndfile's
// own float->short write scales by 32767 and wraps on overload unless told
// to clip; converting here gives both symmetry and clipping.
void to_pcm16(const float* __restrict src, std::int16_t* __restrict dst, std::size_t n,
              std::size_t stride) {
  for (std::size_t i = 0; i < n; ++i) {
    float v = src[i] * 32768.0f;
    v = v < -32768.0f ? -32768.0f : (v > 32767.0f ? 32767.0f : v);
    dst[i * stride] = static_cast<std::int16_t>(std::lrintf(v));
  }
}

void interleave(const float* __restrict src, float* __restrict dst, std::size_t n,
                std::size_t stride) {
  for (std::size_t i = 0; i < n; ++i) dst[i * stride] = src[i];
}

class WavSinkNode final : public Node {
 public:
  WavSinkNode(const json& config, const NodeContext& ctx)
      : path_(config.at("path").get<std::string>()),
        confine_root_(ctx.confine_root),
        pcm16_(config.at("format").get<std::string>() == "pcm16"),
        container_(container_for(path_).value_or(Container::wav)) {
    // The schema's cross check rejects these; a factory called with an
    // unvalidated config must not quietly write WAV data into "x.mp3".
    if (!container_for(path_))
      throw std::invalid_argument("wav_sink: \"" + path_ + "\" is neither .wav nor .flac");
    if (container_ == Container::flac && !pcm16_)
      throw std::invalid_argument("wav_sink: FLAC (\"" + path_ + "\") needs format \"pcm16\"");
  }

  Status process(const Inputs& in, FrameList&) override {
    const Frame* frame = in.count > 0 ? in[0] : nullptr;
    if (!frame) return Status::error("wav_sink: called without an input frame");
    const std::size_t n = frame->sample_count();
    if (n == 0) return Status::ok();  // nothing to write, and no format worth fixing yet
    if (frame->samples.size() < n)
      return Status::error("wav_sink \"" + path_ + "\": frame seq " + std::to_string(frame->seq) +
                           " declares " + std::to_string(n) + " samples but carries " +
                           std::to_string(frame->samples.size()));
    if (!file_) {
      if (closed_)
        return Status::error("wav_sink \"" + path_ + "\": frame seq " + std::to_string(frame->seq) +
                             " arrived after the file was closed");
      Status opened = open(*frame);
      if (!opened.is_ok()) return opened;
    } else if (frame->sample_rate != sample_rate_ || frame->channels != channels_) {
      return Status::error("wav_sink \"" + path_ + "\": frame seq " + std::to_string(frame->seq) +
                           " is " + std::to_string(frame->sample_rate) + " Hz, " +
                           std::to_string(frame->channels) + " ch but the file was opened at " +
                           std::to_string(sample_rate_) + " Hz, " + std::to_string(channels_) +
                           " ch");
    }

    const std::size_t frames = frame->frames;
    if (container_ == Container::wav) {
      // RIFF sizes are 32-bit; past them libsndfile would leave a header
      // that lies about the length. Stopping with an error keeps the file valid.
      const std::uint64_t bytes = std::uint64_t{frames} * channels_ * (pcm16_ ? 2 : 4);
      if (data_bytes_ + bytes > kWavDataLimit)
        return Status::error(
            "wav_sink: \"" + path_ + "\" would pass the 4 GiB limit of WAV at frame seq " +
            std::to_string(frame->seq) + "; split the recording (or write .flac as pcm16)");
      data_bytes_ += bytes;
    }
    sf_count_t written = 0;
    if (pcm16_) {
      if (pcm_scratch_.size() < n) pcm_scratch_.resize(n);
      for (std::uint32_t c = 0; c < channels_; ++c)
        to_pcm16(frame->channel(c), pcm_scratch_.data() + c, frames, channels_);
      written = sf_writef_short(file_.get(), pcm_scratch_.data(), static_cast<sf_count_t>(frames));
    } else if (channels_ == 1) {
      // Planar and interleaved are the same layout for one channel.
      written = sf_writef_float(file_.get(), frame->channel(0), static_cast<sf_count_t>(frames));
    } else {
      if (float_scratch_.size() < n) float_scratch_.resize(n);
      for (std::uint32_t c = 0; c < channels_; ++c)
        interleave(frame->channel(c), float_scratch_.data() + c, frames, channels_);
      written =
          sf_writef_float(file_.get(), float_scratch_.data(), static_cast<sf_count_t>(frames));
    }
    if (written != static_cast<sf_count_t>(frames))
      return Status::error("wav_sink: writing \"" + path_ +
                           "\" failed: " + sf_strerror(file_.get()));
    return Status::ok();
  }

  // A sink that saw no frame creates no file and logs nothing: it never
  // learned a sample rate or channel count, so an "empty" file would state
  // a format nobody asked for, and an absent file is the honest result.
  Status finish(FrameList&) override {
    if (!file_) return Status::ok();
    // sf_close writes the final header (sizes); its failure means a broken file.
    const int rc = sf_close(file_.release());
    closed_ = true;
    if (rc != 0)
      return Status::error("wav_sink: closing \"" + path_ + "\" failed: " + sf_error_number(rc));
    return Status::ok();
  }

 private:
  Status open(const Frame& first) {
    SF_INFO info{};
    info.samplerate = static_cast<int>(first.sample_rate);
    info.channels = static_cast<int>(first.channels);
    const int subtype = pcm16_ ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT;
    // Classic WAV rather than RF64-with-downgrade: the latter writes a
    // WAVE_FORMAT_EXTENSIBLE header behind a JUNK chunk, which simple
    // readers (Python's wave before 3.12) reject. The 4 GiB limit that buys
    // is enforced in process().
    info.format = (container_ == Container::flac ? SF_FORMAT_FLAC : SF_FORMAT_WAV) | subtype;
    if (!sf_format_check(&info))
      return Status::error("wav_sink: cannot write \"" + path_ + "\" at " +
                           std::to_string(first.sample_rate) + " Hz, " +
                           std::to_string(first.channels) + " ch in this format");
    if (confine_root_.empty()) {
      file_.reset(sf_open(path_.c_str(), SFM_WRITE, &info));
    } else {
      const int fd = open_beneath(confine_root_, path_, O_WRONLY | O_CREAT | O_TRUNC);
      if (fd < 0)
        return Status::error("wav_sink: cannot open \"" + path_ + "\" for writing beneath " +
                             confine_root_ + ": " + std::strerror(errno));
      file_.reset(sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE));
      if (!file_) ::close(fd);
    }
    if (!file_)
      return Status::error("wav_sink: cannot open \"" + path_ +
                           "\" for writing: " + sf_strerror(nullptr));
    sample_rate_ = first.sample_rate;
    channels_ = first.channels;
    const std::size_t n = first.sample_count();
    if (pcm16_)
      pcm_scratch_.resize(n);
    else if (channels_ > 1)
      float_scratch_.resize(n);
    return Status::ok();
  }

  std::string path_;
  std::string confine_root_;  // a member's data directory; empty: open as given
  bool pcm16_;
  Container container_;
  SndfilePtr file_;
  bool closed_ = false;
  std::uint64_t data_bytes_ = 0;  // sample bytes written, for the WAV size limit
  std::uint32_t sample_rate_ = 0;
  std::uint32_t channels_ = 0;
  // Interleaved staging for libsndfile; grows only when a frame is larger
  // than every one before it.
  std::vector<float> float_scratch_;
  std::vector<std::int16_t> pcm_scratch_;
};

}  // namespace

NodeType wav_sink_node_type() {
  NodeTypeSchema schema;
  schema.type = "wav_sink";
  schema.summary = "writes its input to a .wav or .flac file (sink)";
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.has_output = false;
  schema.fields = {
      path_field("path", "file to write (.wav or .flac; replaced if it exists)",
                 PathCheck::writable_file),
      choice_field("format", "sample format: 32-bit float or 16-bit integer", "float",
                   {"float", "pcm16"}),
  };
  schema.cross_check = [](const json& config, const auto& report) {
    const std::string path = config.at("path").get<std::string>();
    const std::string format = config.at("format").get<std::string>();
    const auto container = container_for(path);
    if (!container) {
      report("path", "\"" + path + "\": unknown file extension, use .wav or .flac");
    } else if (*container == Container::flac && format != "pcm16") {
      report("format", "\"format\" \"" + format + "\" cannot be stored in FLAC (\"" + path +
                           "\"): use \"pcm16\" or a .wav path");
    }
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<WavSinkNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
