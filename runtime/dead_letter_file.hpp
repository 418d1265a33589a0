#pragma once
// A pipeline's dead-letter file: every frame a node gave up on (retries
// exhausted, circuit breaker open), with who gave up, why and when, so that
// nothing is lost silently and the frames can be inspected and replayed.
//
// The file is a plain stream of messages/dead_letter.capnp DeadLetter
// messages (standard stream framing, not packed), one per frame, appended as
// they happen:
//   capnp decode messages/dead_letter.capnp DeadLetter < FILE
//
// A process may die halfway through an append, so a file can end in a
// truncated record; and a file is input from disk, so it may hold anything.
// Readers therefore hand back every complete record before the bad spot and
// say where it is, instead of all or nothing; every size is checked against
// CodecLimits before anything is allocated.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/buffer_pool.hpp"
#include "messages/frame.hpp"
#include "messages/frame_codec.hpp"

namespace streamlab {

struct DeadLetter {
  std::string pipeline;
  std::string node;        // id of the node that gave up on the frame
  std::uint32_t port = 0;  // its input port the frame arrived on
  std::string reason;      // e.g. "retries_exhausted", "circuit_open"
  std::string error;       // the last error the node reported for the frame
  std::uint32_t attempts = 0;
  std::int64_t time_ns = 0;  // when it was dead-lettered, wall clock
  Frame frame;
};

// The longest text field a record may carry. A writer cuts longer texts
// (in practice only an error message can be that long) rather than write a
// record that readers would refuse.
constexpr std::size_t kMaxDeadLetterTextBytes = 4096;

// The largest record readers accept: the largest frame `limits` allow plus
// the text fields at their maximum.
std::size_t max_dead_letter_bytes(const CodecLimits& limits);

// Appends records to one file, creating it if needed. Each append() is one
// write() of the whole record to a file opened with O_APPEND, so it reaches
// the kernel before append() returns (no fsync: a dead letter survives the
// process, not a power cut). Single owner, not thread-safe: one actor owns it.
class DeadLetterWriter {
 public:
  // Throws std::runtime_error naming the path and the system's reason.
  explicit DeadLetterWriter(std::string path, const CodecLimits& limits = {});
  ~DeadLetterWriter();
  DeadLetterWriter(DeadLetterWriter&& other) noexcept;
  DeadLetterWriter& operator=(DeadLetterWriter&& other) noexcept;
  DeadLetterWriter(const DeadLetterWriter&) = delete;
  DeadLetterWriter& operator=(const DeadLetterWriter&) = delete;

  // Throws std::runtime_error naming the path: for a failed write (with the
  // system's reason), and for a frame that could not be read back (an
  // inconsistent frame, or one beyond the limits). A failed write leaves no
  // partial record behind when the file can be cut back to where it ended.
  void append(const DeadLetter& letter);

  const std::string& path() const { return path_; }

 private:
  void close() noexcept;

  std::string path_;
  CodecLimits limits_;
  int fd_ = -1;
};

// Reads the records of one file in order, one at a time, so a large file is
// never held in memory. It reads the file as it was when opened: records
// appended later (a replay whose pipeline dead-letters into the very file it
// replays) are not seen, so reading always ends.
class DeadLetterReader {
 public:
  // Throws std::runtime_error naming the path when it cannot be opened or is
  // not a regular file.
  DeadLetterReader(std::string path, BufferPool& pool, const CodecLimits& limits = {});
  ~DeadLetterReader();
  DeadLetterReader(const DeadLetterReader&) = delete;
  DeadLetterReader& operator=(const DeadLetterReader&) = delete;

  // The next record into `out` (samples in a buffer from the pool). False at
  // the end of the file, or at a record that is truncated or cannot be
  // decoded: error() then names the file and the record's byte offset, and
  // reading stops there, since after a bad record the framing of whatever
  // follows cannot be trusted.
  bool next(DeadLetter& out);

  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  std::uint64_t offset() const { return offset_; }  // of the next record
  std::uint64_t size() const { return size_; }      // when opened
  std::size_t records_read() const { return records_; }

 private:
  bool stop(const std::string& what);
  bool read_at(std::uint64_t offset, void* dst, std::size_t bytes);

  std::string path_;
  BufferPool* pool_;
  CodecLimits limits_;
  std::size_t max_record_bytes_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint64_t offset_ = 0;
  std::size_t records_ = 0;
  std::string error_;
  std::vector<std::uint64_t> words_;  // the current record, word-aligned for capnp
};

struct DeadLetterFile {
  std::vector<DeadLetter> records;  // every complete, valid record before `error`
  std::string error;                // empty when the whole file was read
  bool ok() const { return error.empty(); }
};

// All records of a file. Throws std::runtime_error when the file cannot be
// opened; a truncated or bad record is reported in `error` instead, after
// the records before it.
DeadLetterFile read_dead_letters(const std::string& path, BufferPool& pool,
                                 const CodecLimits& limits = {});

}  // namespace streamlab
