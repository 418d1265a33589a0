#pragma once
// The unit that flows through a pipeline: a block of float32 samples,
// planar (all of channel 0, then all of channel 1, ...), plus where it sits
// in its stream. Copying a Frame shares its samples (no sample is copied).

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "messages/sample_buffer.hpp"

namespace streamlab {

using Metadata = std::map<std::string, std::string>;

struct Frame {
  std::uint64_t seq = 0;
  std::int64_t timestamp_ns = 0;  // capture/creation time, wall clock (comparable across processes)
  std::uint32_t sample_rate = 0;
  std::uint32_t channels = 0;
  std::uint32_t frames = 0;  // samples per channel
  BufferRef samples;         // channels * frames floats, immutable
  // Shared and immutable like the samples; null when there is none, so
  // frames without metadata cost no allocation.
  std::shared_ptr<const Metadata> metadata;

  std::size_t sample_count() const { return std::size_t{channels} * frames; }
  const float* channel(std::uint32_t c) const { return samples.data() + std::size_t{c} * frames; }
};

}  // namespace streamlab
