// One frame as another process or a dead-letter file hands it over. A bad
// message must be a CodecError, never a crash or an unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "messages/buffer_pool.hpp"
#include "messages/frame_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static streamlab::BufferPool pool;
  try {
    const streamlab::Frame frame = streamlab::decode_frame(data, size, pool);
    // What decodes must encode again: the receiver forwards what it accepts.
    std::vector<std::uint8_t> again;
    streamlab::encode_frame(frame, again);
  } catch (const streamlab::CodecError&) {
  }
  return 0;
}
