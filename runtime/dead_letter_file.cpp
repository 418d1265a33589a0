#include "runtime/dead_letter_file.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <kj/exception.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "messages/dead_letter.capnp.h"
#include "messages/frame_wire.hpp"

namespace streamlab {

namespace {

constexpr std::uint16_t kDeadLetterWireVersion = 1;

// capnp's own ceiling for a message's segment count; a table claiming more
// is garbage, and refusing it first bounds the table read.
constexpr std::uint64_t kMaxSegments = 512;
// As in the frame codec: a well-formed record is traversed once, so the
// words read never exceed the words in it; the margin covers capnp's
// accounting for zero-sized structs.
constexpr std::uint64_t kTraversalMarginWords = 64;
// DeadLetter -> Frame -> metadata list -> Entry -> Text is the deepest path.
constexpr int kNestingLimit = 8;

constexpr std::size_t text_words(std::size_t bytes) { return (bytes + 1 + 7) / 8; }

std::string quoted(const std::string& path) { return "\"" + path + "\""; }

std::string system_error(const std::string& path, const std::string& what) {
  return "dead-letter file " + quoted(path) + ": " + what + ": " + std::strerror(errno);
}

// Cuts at a UTF-8 character boundary so the text stays valid for JSON output.
std::string clipped(const std::string& text) {
  if (text.size() <= kMaxDeadLetterTextBytes) return text;
  const std::string marker = "...";
  std::size_t cut = kMaxDeadLetterTextBytes - marker.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + marker;
}

capnp::Text::Reader as_text(const std::string& s) {
  return capnp::Text::Reader(s.data(), s.size());
}

std::uint32_t load_u32_le(const unsigned char* at) {
  return std::uint32_t{at[0]} | std::uint32_t{at[1]} << 8 | std::uint32_t{at[2]} << 16 |
         std::uint32_t{at[3]} << 24;
}

}  // namespace

std::size_t max_dead_letter_bytes(const CodecLimits& limits) {
  // The frame's limit already includes its own segment table and slack; add
  // the DeadLetter struct, its pointer and four texts at their maximum.
  return limits.max_message_bytes +
         (1 + capnp::sizeInWords<wire::DeadLetter>() + 4 * text_words(kMaxDeadLetterTextBytes)) *
             sizeof(capnp::word);
}

// --- writer ---------------------------------------------------------------

DeadLetterWriter::DeadLetterWriter(std::string path, const CodecLimits& limits)
    : path_(std::move(path)), limits_(limits) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(system_error(path_, "cannot open for appending"));
}

DeadLetterWriter::~DeadLetterWriter() { close(); }

DeadLetterWriter::DeadLetterWriter(DeadLetterWriter&& other) noexcept
    : path_(std::move(other.path_)), limits_(other.limits_), fd_(std::exchange(other.fd_, -1)) {}

DeadLetterWriter& DeadLetterWriter::operator=(DeadLetterWriter&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    limits_ = other.limits_;
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void DeadLetterWriter::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void DeadLetterWriter::append(const DeadLetter& letter) {
  if (fd_ < 0) throw std::runtime_error("dead-letter file " + quoted(path_) + ": not open");
  const std::string pipeline = clipped(letter.pipeline);
  const std::string node = clipped(letter.node);
  const std::string reason = clipped(letter.reason);
  const std::string error = clipped(letter.error);

  kj::Array<capnp::word> record;
  try {
    check_encodable(letter.frame);
    check_within_limits(letter.frame, limits_);
    // One segment that fits exactly, as the frame codec does.
    const std::size_t words = 1 + capnp::sizeInWords<wire::DeadLetter>() +
                              text_words(pipeline.size()) + text_words(node.size()) +
                              text_words(reason.size()) + text_words(error.size()) +
                              frame_words(letter.frame);
    capnp::MallocMessageBuilder message(static_cast<capnp::uint>(words),
                                        capnp::AllocationStrategy::FIXED_SIZE);
    auto root = message.initRoot<wire::DeadLetter>();
    root.setVersion(kDeadLetterWireVersion);
    root.setPipeline(as_text(pipeline));
    root.setNode(as_text(node));
    root.setPort(letter.port);
    root.setReason(as_text(reason));
    root.setError(as_text(error));
    root.setAttempts(letter.attempts);
    root.setTimeNs(letter.time_ns);
    write_frame(letter.frame, root.initFrame());
    record = capnp::messageToFlatArray(message);
  } catch (const CodecError& e) {
    throw std::runtime_error("dead-letter file " + quoted(path_) +
                             ": cannot write the dead letter of node " + quoted(node) +
                             " (frame seq " + std::to_string(letter.frame.seq) + "): " + e.what());
  } catch (const kj::Exception& e) {
    throw std::runtime_error("dead-letter file " + quoted(path_) +
                             ": cannot encode the dead letter of node " + quoted(node) + ": " +
                             e.getDescription().cStr());
  }

  struct stat before {};
  const bool know_end = ::fstat(fd_, &before) == 0;
  auto bytes = record.asBytes();
  std::size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.begin() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      std::string why = system_error(path_, "write failed");
      // A partial record would hide every record appended after it from
      // readers, which stop at the first bad one.
      if (written > 0 && (!know_end || ::ftruncate(fd_, before.st_size) != 0))
        why += " (a partial record remains at the end of the file)";
      throw std::runtime_error(why);
    }
    written += static_cast<std::size_t>(n);
  }
}

// --- reader ---------------------------------------------------------------

DeadLetterReader::DeadLetterReader(std::string path, BufferPool& pool, const CodecLimits& limits)
    : path_(std::move(path)),
      pool_(&pool),
      limits_(limits),
      max_record_bytes_(max_dead_letter_bytes(limits)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(system_error(path_, "cannot open"));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const std::string why = system_error(path_, "cannot stat");
    ::close(fd_);
    throw std::runtime_error(why);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw std::runtime_error("dead-letter file " + quoted(path_) + ": not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

DeadLetterReader::~DeadLetterReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool DeadLetterReader::stop(const std::string& what) {
  error_ = "dead-letter file " + quoted(path_) + ": record " + std::to_string(records_ + 1) +
           " at byte offset " + std::to_string(offset_) + ": " + what;
  return false;
}

// False (with error_ set) on a read error or when the file ended early: it
// shrank since it was opened.
bool DeadLetterReader::read_at(std::uint64_t offset, void* dst, std::size_t bytes) {
  auto* at = static_cast<unsigned char*>(dst);
  std::size_t done = 0;
  while (done < bytes) {
    ssize_t n = ::pread(fd_, at + done, bytes - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return stop(std::string("read failed: ") + std::strerror(errno));
    if (n == 0) return stop("truncated: the file ended while reading it");
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool DeadLetterReader::next(DeadLetter& out) {
  if (!error_.empty() || offset_ >= size_) return false;
  const std::uint64_t remaining = size_ - offset_;
  auto truncated = [&](std::uint64_t needed) {
    return stop("truncated record: " + std::to_string(needed) + " bytes needed, only " +
                std::to_string(remaining) + " left in the file");
  };

  // The segment table: segment count - 1, each segment's size in words,
  // padded to a whole word. Sizes are checked before the body is read.
  // words_ holds the whole record once read; the table is read into its
  // start first, and the body after it once its size has been checked.
  constexpr std::uint64_t kWord = sizeof(capnp::word);
  auto bytes = [this] { return reinterpret_cast<unsigned char*>(words_.data()); };
  if (remaining < kWord) return truncated(kWord);
  words_.resize(1);
  if (!read_at(offset_, bytes(), kWord)) return false;
  const std::uint64_t segments = std::uint64_t{load_u32_le(bytes())} + 1;
  if (segments > kMaxSegments) {
    return stop("not a dead letter: segment table claims " + std::to_string(segments) +
                " segments (at most " + std::to_string(kMaxSegments) + ")");
  }
  const std::uint64_t table_bytes = (segments / 2 + 1) * kWord;
  if (remaining < table_bytes) return truncated(table_bytes);
  words_.resize(static_cast<std::size_t>(table_bytes / kWord));
  if (!read_at(offset_ + kWord, bytes() + kWord, static_cast<std::size_t>(table_bytes - kWord)))
    return false;
  std::uint64_t body_words = 0;
  for (std::uint64_t s = 0; s < segments; ++s) body_words += load_u32_le(bytes() + 4 + 4 * s);
  const std::uint64_t record_bytes = table_bytes + body_words * kWord;
  if (record_bytes > max_record_bytes_) {
    return stop("record size " + std::to_string(record_bytes) + " bytes exceeds the limit of " +
                std::to_string(max_record_bytes_) + " bytes");
  }
  if (record_bytes > remaining) return truncated(record_bytes);

  const std::size_t record_words = static_cast<std::size_t>(record_bytes / kWord);
  words_.resize(record_words);
  if (!read_at(offset_ + table_bytes, bytes() + table_bytes,
               static_cast<std::size_t>(record_bytes - table_bytes)))
    return false;

  capnp::ReaderOptions options;
  options.traversalLimitInWords = record_words + kTraversalMarginWords;
  options.nestingLimit = kNestingLimit;
  DeadLetter letter;
  try {
    capnp::FlatArrayMessageReader reader(
        kj::arrayPtr(reinterpret_cast<const capnp::word*>(words_.data()), record_words), options);
    auto root = reader.getRoot<wire::DeadLetter>();
    if (root.getVersion() != kDeadLetterWireVersion) {
      return stop("version = " + std::to_string(root.getVersion()) +
                  " is not supported (only version " + std::to_string(kDeadLetterWireVersion) +
                  ")");
    }
    std::string bad_text;
    auto text = [&](capnp::Text::Reader t, const char* field) {
      if (t.size() > kMaxDeadLetterTextBytes && bad_text.empty()) {
        bad_text = std::string(field) + " is " + std::to_string(t.size()) +
                   " bytes, over the limit of " + std::to_string(kMaxDeadLetterTextBytes);
      }
      return std::string(t.begin(), t.size());
    };
    letter.pipeline = text(root.getPipeline(), "pipeline");
    letter.node = text(root.getNode(), "node");
    letter.reason = text(root.getReason(), "reason");
    letter.error = text(root.getError(), "error");
    if (!bad_text.empty()) return stop(bad_text);
    letter.port = root.getPort();
    letter.attempts = root.getAttempts();
    letter.time_ns = root.getTimeNs();
    if (!root.hasFrame()) return stop("the record holds no frame");
    letter.frame = read_frame(root.getFrame(), *pool_, limits_);
  } catch (const CodecError& e) {
    return stop(e.what());
  } catch (const kj::Exception& e) {
    return stop(std::string("malformed record: ") + e.getDescription().cStr());
  }
  out = std::move(letter);
  offset_ += record_bytes;
  ++records_;
  return true;
}

DeadLetterFile read_dead_letters(const std::string& path, BufferPool& pool,
                                 const CodecLimits& limits) {
  DeadLetterReader reader(path, pool, limits);
  DeadLetterFile file;
  DeadLetter letter;
  while (reader.next(letter)) file.records.push_back(std::move(letter));
  file.error = reader.error();
  return file;
}

}  // namespace streamlab
