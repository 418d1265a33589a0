// Dead-letter files: what is appended is read back exactly, and a damaged
// file gives back every record before the damage, then says where it is.

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/dead_letter_file.hpp"

using namespace streamlab;
using Catch::Matchers::Contains;

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<char>;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "streamlab-dlq-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

Frame make_frame(BufferPool& pool, std::uint64_t seq, std::uint32_t channels, std::uint32_t frames,
                 std::shared_ptr<const Metadata> metadata = nullptr) {
  Frame f;
  f.seq = seq;
  f.timestamp_ns = 1'718'000'000'000'000'000LL + static_cast<std::int64_t>(seq);
  f.sample_rate = 48000;
  f.channels = channels;
  f.frames = frames;
  WritableBuffer buf = pool.acquire(f.sample_count());
  for (std::size_t i = 0; i < f.sample_count(); ++i)
    buf.data()[i] = static_cast<float>(seq) + static_cast<float>(i) / 1024.0f;
  f.samples = std::move(buf).freeze();
  f.metadata = std::move(metadata);
  return f;
}

DeadLetter make_letter(BufferPool& pool, const std::string& node, std::uint64_t seq,
                       std::uint32_t channels = 1, std::uint32_t frames = 64) {
  DeadLetter d;
  d.pipeline = "demo";
  d.node = node;
  d.port = static_cast<std::uint32_t>(seq % 2);
  d.reason = seq % 2 ? "circuit_open" : "retries_exhausted";
  d.error = "gain: bad frame " + std::to_string(seq);
  d.attempts = static_cast<std::uint32_t>(3 + seq);
  d.time_ns = 1'718'000'001'000'000'000LL + static_cast<std::int64_t>(seq) * 1'000'000;
  d.frame = make_frame(pool, seq, channels, frames,
                       std::make_shared<const Metadata>(Metadata{{"source", "mic-" + node}}));
  return d;
}

void require_same(const DeadLetter& a, const DeadLetter& b) {
  REQUIRE(a.pipeline == b.pipeline);
  REQUIRE(a.node == b.node);
  REQUIRE(a.port == b.port);
  REQUIRE(a.reason == b.reason);
  REQUIRE(a.error == b.error);
  REQUIRE(a.attempts == b.attempts);
  REQUIRE(a.time_ns == b.time_ns);
  REQUIRE(a.frame.seq == b.frame.seq);
  REQUIRE(a.frame.timestamp_ns == b.frame.timestamp_ns);
  REQUIRE(a.frame.sample_rate == b.frame.sample_rate);
  REQUIRE(a.frame.channels == b.frame.channels);
  REQUIRE(a.frame.frames == b.frame.frames);
  REQUIRE(b.frame.samples.size() == b.frame.sample_count());
  REQUIRE(std::memcmp(a.frame.samples.data(), b.frame.samples.data(),
                      a.frame.sample_count() * sizeof(float)) == 0);
  REQUIRE(bool(a.frame.metadata) == bool(b.frame.metadata));
  if (a.frame.metadata) REQUIRE(*a.frame.metadata == *b.frame.metadata);
}

Bytes slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Writes `letters` and returns the byte offset where each record starts,
// plus the file size at the end.
std::vector<std::uint64_t> write_all(const std::string& path,
                                     const std::vector<DeadLetter>& letters) {
  std::vector<std::uint64_t> offsets;
  DeadLetterWriter writer(path);
  for (const auto& d : letters) {
    std::error_code ec;
    auto size = fs::exists(path) ? fs::file_size(path, ec) : 0;
    offsets.push_back(size);
    writer.append(d);
  }
  offsets.push_back(fs::file_size(path));
  return offsets;
}

}  // namespace

TEST_CASE("dead letters round-trip through a file, in order", "[dead_letter]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = dir.file("demo.deadletters");
  std::vector<DeadLetter> letters = {make_letter(pool, "amp", 0, 2, 480),
                                     make_letter(pool, "mixer", 1), make_letter(pool, "amp", 2)};
  letters[1].frame.metadata = nullptr;
  letters[2].error = "";
  {
    DeadLetterWriter writer(path);  // creates the file
    writer.append(letters[0]);
    writer.append(letters[1]);
  }
  {
    DeadLetterWriter writer(path);  // appends, never truncates
    writer.append(letters[2]);
  }
  DeadLetterFile file = read_dead_letters(path, pool);
  INFO(file.error);
  REQUIRE(file.ok());
  REQUIRE(file.records.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) require_same(letters[i], file.records[i]);
  CHECK_FALSE(file.records[1].frame.metadata);

  SECTION("the reader reports offsets and counts") {
    DeadLetterReader reader(path, pool);
    CHECK(reader.size() == fs::file_size(path));
    DeadLetter d;
    std::size_t n = 0;
    while (reader.next(d)) ++n;
    CHECK(n == 3);
    CHECK(reader.records_read() == 3);
    CHECK(reader.offset() == reader.size());
    CHECK(reader.error().empty());
    CHECK_FALSE(reader.next(d));  // stays at the end
  }
}

TEST_CASE("an empty dead-letter file has no records and no error", "[dead_letter]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = dir.file("empty");
  { DeadLetterWriter writer(path); }
  REQUIRE(fs::exists(path));
  DeadLetterFile file = read_dead_letters(path, pool);
  CHECK(file.ok());
  CHECK(file.records.empty());
}

TEST_CASE("dead-letter files that cannot be opened are errors naming path and reason",
          "[dead_letter]") {
  TempDir dir;
  BufferPool pool;
  const std::string missing_dir = dir.file("no/such/dir/x.deadletters");
  CHECK_THROWS_WITH(DeadLetterWriter(missing_dir),
                    Contains(missing_dir) && Contains("No such file or directory"));
  CHECK_THROWS_WITH(read_dead_letters(dir.file("absent"), pool),
                    Contains(dir.file("absent")) && Contains("No such file or directory"));
  CHECK_THROWS_WITH(read_dead_letters(dir.file(""), pool), Contains("not a regular file"));
}

TEST_CASE("every truncation keeps the complete records and names the offset",
          "[dead_letter][truncation]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = dir.file("full");
  std::vector<DeadLetter> letters = {make_letter(pool, "a", 0), make_letter(pool, "b", 1, 2, 8),
                                     make_letter(pool, "c", 2, 1, 3)};
  const auto offsets = write_all(path, letters);
  const Bytes bytes = slurp(path);
  REQUIRE(bytes.size() == offsets.back());

  const std::string cut = dir.file("cut");
  for (std::size_t len = 0; len <= bytes.size(); ++len) {
    spit(cut, Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len)));
    DeadLetterFile file = read_dead_letters(cut, pool);
    std::size_t complete = 0;
    while (complete < letters.size() && offsets[complete + 1] <= len) ++complete;
    INFO("length " << len << ": " << file.error);
    REQUIRE(file.records.size() == complete);
    for (std::size_t i = 0; i < complete; ++i) require_same(letters[i], file.records[i]);
    if (len == offsets[complete]) {
      REQUIRE(file.ok());  // cut exactly between records: a shorter, valid file
    } else {
      REQUIRE_THAT(file.error, Contains(cut) && Contains("truncated") &&
                                   Contains("byte offset " + std::to_string(offsets[complete])) &&
                                   Contains("record " + std::to_string(complete + 1)));
    }
  }
  // Nothing leaked on any of the error paths.
  PoolStats stats = pool.stats();
  CHECK(stats.hits + stats.misses ==
        stats.recycled + letters.size() /* still held */);
}

TEST_CASE("garbage after valid records is reported after them", "[dead_letter]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = dir.file("garbage");
  const auto offsets = write_all(path, {make_letter(pool, "a", 0), make_letter(pool, "a", 1)});

  SECTION("text appended to the file") {
    std::ofstream(path, std::ios::app) << "this is not a dead letter, just text";
    DeadLetterFile file = read_dead_letters(path, pool);
    CHECK(file.records.size() == 2);
    CHECK_THAT(file.error, Contains("byte offset " + std::to_string(offsets[2])));
  }
  SECTION("a huge size in a segment table is refused before anything is read") {
    Bytes bytes = slurp(path);
    const unsigned char table[8] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f};
    bytes.insert(bytes.end(), table, table + 8);
    spit(path, bytes);
    DeadLetterFile file = read_dead_letters(path, pool);
    CHECK(file.records.size() == 2);
    CHECK_THAT(file.error, Contains("exceeds the limit"));
  }
  SECTION("a segment count beyond capnp's own limit") {
    Bytes bytes = slurp(path);
    const unsigned char table[8] = {0xff, 0xff, 0, 0, 1, 0, 0, 0};
    bytes.insert(bytes.end(), table, table + 8);
    spit(path, bytes);
    DeadLetterFile file = read_dead_letters(path, pool);
    CHECK(file.records.size() == 2);
    CHECK_THAT(file.error, Contains("65536 segments"));
  }
  SECTION("a record of a later, incompatible version") {
    Bytes bytes = slurp(path);
    // Version is the first field of the root struct's data section: after
    // the 8-byte segment table and the root pointer. capnp stores a field
    // XOR its default (1), so 6 on the wire reads as version 7.
    Bytes second(bytes.begin() + static_cast<std::ptrdiff_t>(offsets[1]), bytes.end());
    second[16] = 6;
    second[17] = 0;
    bytes.insert(bytes.end(), second.begin(), second.end());
    spit(path, bytes);
    DeadLetterFile file = read_dead_letters(path, pool);
    CHECK(file.records.size() == 2);
    CHECK_THAT(file.error, Contains("version = 7") && Contains("record 3"));
  }
}

TEST_CASE("random damage never crashes the reader", "[dead_letter][fuzz]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = dir.file("fuzz");
  write_all(path, {make_letter(pool, "a", 0, 1, 16), make_letter(pool, "b", 1, 2, 4)});
  const Bytes valid = slurp(path);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::size_t> position(0, valid.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int iteration = 0; iteration < 500; ++iteration) {
    Bytes corrupt = valid;
    for (int flips = 0; flips < 1 + iteration % 4; ++flips)
      corrupt[position(rng)] = static_cast<char>(byte(rng));
    spit(path, corrupt);
    DeadLetterFile file = read_dead_letters(path, pool);
    CHECK(file.records.size() <= 2);
    for (const auto& d : file.records) {
      CHECK(d.frame.samples.size() == d.frame.sample_count());
      CHECK(d.error.size() <= kMaxDeadLetterTextBytes);
    }
  }
}

TEST_CASE("the writer never writes a record the reader would refuse", "[dead_letter]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = dir.file("limits");
  DeadLetterWriter writer(path);

  SECTION("an inconsistent frame is refused, naming file and node; nothing is written") {
    DeadLetter d = make_letter(pool, "amp", 0);
    d.frame.frames += 1;
    CHECK_THROWS_WITH(writer.append(d), Contains(path) && Contains("\"amp\""));
    CHECK(fs::file_size(path) == 0);
  }
  SECTION("a frame beyond the limits is refused") {
    CodecLimits limits;
    limits.max_channels = 1;
    DeadLetterWriter strict(dir.file("strict"), limits);
    CHECK_THROWS_WITH(strict.append(make_letter(pool, "amp", 0, 2, 4)),
                      Contains("max_channels = 1"));
    CHECK(fs::file_size(dir.file("strict")) == 0);
  }
  SECTION("an overlong error message is cut, at a character boundary") {
    DeadLetter d = make_letter(pool, "amp", 0);
    d.error = std::string(kMaxDeadLetterTextBytes - 4, 'x') + "\xc3\xa9\xc3\xa9\xc3\xa9";
    writer.append(d);
    DeadLetterFile file = read_dead_letters(path, pool);
    REQUIRE(file.ok());
    REQUIRE(file.records.size() == 1);
    const std::string& error = file.records[0].error;
    CHECK(error.size() <= kMaxDeadLetterTextBytes);
    CHECK(error.substr(error.size() - 3) == "...");
    CHECK(error.substr(error.size() - 5, 2) == std::string(2, 'x'));  // no half character
  }
}

TEST_CASE("a reader does not see records appended after it opened the file", "[dead_letter]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = dir.file("growing");
  DeadLetterWriter writer(path);
  writer.append(make_letter(pool, "amp", 0));
  DeadLetterReader reader(path, pool);
  DeadLetter d;
  REQUIRE(reader.next(d));
  // As a replay that dead-letters into the file it reads would: it must end.
  writer.append(d);
  CHECK_FALSE(reader.next(d));
  CHECK(reader.error().empty());
  CHECK(read_dead_letters(path, pool).records.size() == 2);
}
