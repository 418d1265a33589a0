// Writes the seed corpus of the fuzz targets into DIR/<target>/: valid
// inputs of each format, so that a fuzz run starts from what a real peer or
// file sends instead of guessing the framing from nothing.
//   fuzz_make_seeds DIR
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "actors/message_types.hpp"
#include "actors/messages.hpp"
#include "messages/buffer_pool.hpp"
#include "messages/frame_codec.hpp"
#include "runtime/dead_letter_file.hpp"

namespace fs = std::filesystem;
using namespace streamlab;

namespace {

struct SeedConfig : caf::actor_system_config {
  SeedConfig() {
    register_message_types(*this);
    set("scheduler.max-threads", 1);
  }
};

void write(const fs::path& file, const std::vector<std::uint8_t>& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

Frame make_frame(BufferPool& pool, std::uint32_t channels, std::uint32_t frames, bool metadata) {
  Frame f;
  f.seq = 7;
  f.timestamp_ns = 1'000'000;
  f.sample_rate = 48000;
  f.channels = channels;
  f.frames = frames;
  auto buffer = pool.acquire(std::size_t{channels} * frames);
  for (std::size_t i = 0; i < buffer.size(); ++i) buffer.data()[i] = static_cast<float>(i) / 64.0f;
  f.samples = std::move(buffer).freeze();
  if (metadata)
    f.metadata = std::make_shared<const Metadata>(Metadata{{"source", "seed"}, {"note", "a"}});
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_seeds DIR\n";
    return 2;
  }
  const fs::path dir = argv[1];
  BufferPool pool;
  const std::vector<Frame> frames = {make_frame(pool, 1, 8, false), make_frame(pool, 2, 16, true),
                                     make_frame(pool, 4, 1, true)};
  for (std::size_t i = 0; i < frames.size(); ++i)
    write(dir / "fuzz_frame_decode" / ("frame" + std::to_string(i)), encode_frame(frames[i]));

  const fs::path dlq = dir / "dead_letters.tmp";
  {
    DeadLetterWriter writer(dlq.string());
    for (std::size_t i = 0; i < frames.size(); ++i)
      writer.append(DeadLetter{"seed", "amp", 0, "retries_exhausted", "an error", 3,
                               static_cast<std::int64_t>(1000 + i), frames[i]});
  }
  {
    std::ifstream in(dlq, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    write(dir / "fuzz_dead_letters" / "three_records", bytes);
  }
  fs::remove(dlq);

  SeedConfig cfg;
  caf::actor_system system{cfg};
  auto save = [&](const std::string& name, const caf::message& msg) {
    std::vector<char> buf;
    caf::binary_serializer sink{system, buf};
    if (auto err = sink(const_cast<caf::message&>(msg))) {
      std::cerr << name << ": " << system.render(err) << "\n";
      return;
    }
    write(dir / "fuzz_member_message" / name, std::vector<std::uint8_t>(buf.begin(), buf.end()));
  };
  FrameBatch batch;
  batch.count = 2;
  batch.frames[0] = frames[0];
  batch.frames[1] = frames[1];
  save("frame_batch", caf::make_message(batch));
  save("frame", caf::make_message(frames[2]));
  save("dead_letter",
       caf::make_message(DeadLetter{"seed", "amp", 1, "circuit_open", "why", 1, 5, frames[0]}));
  std::cout << "seeds written to " << dir << "\n";
  return 0;
}
