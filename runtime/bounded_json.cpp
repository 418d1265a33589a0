#include "runtime/bounded_json.hpp"

#include <algorithm>
#include <exception>
#include <string_view>
#include <vector>

#include "messages/input_limits.hpp"
#include "runtime/json_text.hpp"

namespace streamlab {

namespace {

using json = nlohmann::json;
using DomParser = nlohmann::detail::json_sax_dom_parser<json>;

// nlohmann reports a 1-based count of bytes read; its own line/column are not
// reliable after a lookahead, so they are recomputed from the text.
std::string line_column(std::string_view text, std::size_t bytes_read) {
  std::size_t offset = std::min(bytes_read > 0 ? bytes_read - 1 : 0, text.size());
  std::size_t line = 1 + std::count(text.begin(), text.begin() + offset, '\n');
  std::size_t line_start = text.rfind('\n', offset == 0 ? std::string_view::npos : offset - 1);
  std::size_t column =
      line_start == std::string_view::npos || offset == 0 ? offset + 1 : offset - line_start;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Drops nlohmann's "[json.exception...] parse error at ...: " prefix, whose
// position is replaced by ours.
std::string parse_error_reason(const std::string& what) {
  auto start = what.find("parse error");
  auto colon = what.find(": ", start == std::string::npos ? 0 : start);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

std::string shorten(std::string text) {
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// Builds the document as nlohmann's own DOM parser does, but refuses an
// array or object one level too deep before entering it (the parser itself
// keeps its state in a vector, not on the stack), and keeps the path to the
// current value so that a failure can say where it is.
class BoundedSax {
 public:
  BoundedSax(json& result, std::size_t max_depth) : dom_(result, false), max_depth_(max_depth) {}

  bool null() { return value(dom_.null()); }
  bool boolean(bool v) { return value(dom_.boolean(v)); }
  bool number_integer(json::number_integer_t v) { return value(dom_.number_integer(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(dom_.number_unsigned(v)); }
  bool number_float(json::number_float_t v, const std::string& s) {
    return value(dom_.number_float(v, s));
  }
  bool string(std::string& v) { return value(dom_.string(v)); }
  bool binary(json::binary_t& v) { return value(dom_.binary(v)); }
  bool start_object(std::size_t n) { return enter(false) && dom_.start_object(n); }
  bool key(std::string& k) {
    path_.back().key = k;
    return dom_.key(k);
  }
  bool end_object() { return leave(dom_.end_object()); }
  bool start_array(std::size_t n) { return enter(true) && dom_.start_array(n); }
  bool end_array() { return leave(dom_.end_array()); }
  bool parse_error(std::size_t byte, const std::string& token,
                   const nlohmann::detail::exception& e) {
    error_byte_ = byte;
    // 406: a number a double cannot hold (1e400); the rest are syntax errors.
    if (e.id == 406) {
      number_overflow_ = token;
      // Where the number starts, not where the parser stopped reading it.
      if (byte > token.size()) error_byte_ = byte - token.size() + 1;
    } else {
      syntax_error_ = parse_error_reason(e.what());
    }
    return false;
  }

  std::string pointer() const {
    std::string out;
    for (const auto& step : path_)
      out += "/" + (step.array ? std::to_string(step.index) : pointer_token(step.key));
    return out;
  }

  bool too_deep = false;
  std::size_t error_byte_ = 0;
  std::optional<std::string> number_overflow_;
  std::optional<std::string> syntax_error_;

 private:
  struct Step {
    bool array;
    std::size_t index = 0;  // of the next element, in an array
    std::string key;        // of the current member, in an object
  };

  bool value(bool ok) {
    if (!path_.empty() && path_.back().array) ++path_.back().index;
    return ok;
  }
  bool enter(bool array) {
    if (path_.size() >= max_depth_) {
      too_deep = true;
      return false;
    }
    path_.push_back(Step{array, 0, {}});
    return true;
  }
  bool leave(bool ok) {
    path_.pop_back();
    return value(ok);
  }

  DomParser dom_;
  std::size_t max_depth_;
  std::vector<Step> path_;
};

}  // namespace

JsonBounds pipeline_json_bounds() {
  return JsonBounds{limits::kMaxPipelineTextBytes, limits::kMaxPipelineNesting};
}

BoundedJson parse_bounded_json(const char* data, std::size_t size, const JsonBounds& bounds) {
  BoundedJson out;
  if (size > bounds.max_bytes) {
    out.failure =
        JsonFailure{"", "",
                    "the text is " + std::to_string(size) + " bytes, more than the limit of " +
                        std::to_string(bounds.max_bytes) + " bytes"};
    return out;
  }
  const std::string_view text(data ? data : "", data ? size : 0);
  json document;
  BoundedSax sax(document, bounds.max_depth);
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &sax);
  } catch (const std::exception& e) {
    // Not expected (the handler reports instead of throwing), but whatever
    // the library throws must end as a failure, never escape.
    out.failure = JsonFailure{"", sax.pointer(), std::string("cannot parse: ") + e.what()};
    return out;
  }
  if (ok) {
    out.document = std::move(document);
    return out;
  }
  if (sax.too_deep) {
    out.failure = JsonFailure{"", sax.pointer(),
                              "arrays and objects nested deeper than the limit of " +
                                  std::to_string(bounds.max_depth) + " levels"};
  } else if (sax.number_overflow_) {
    out.failure =
        JsonFailure{line_column(text, sax.error_byte_), sax.pointer(),
                    "number " + shorten(*sax.number_overflow_) +
                        " is out of range (a double holds magnitudes up to about 1.8e308)"};
  } else {
    out.failure = JsonFailure{line_column(text, sax.error_byte_), "",
                              "malformed JSON: " + sax.syntax_error_.value_or("cannot parse")};
  }
  return out;
}

}  // namespace streamlab
