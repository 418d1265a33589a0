#include <catch2/catch.hpp>

#include <string>

#include "messages/input_limits.hpp"
#include "runtime/bounded_json.hpp"

using namespace streamlab;

namespace {

BoundedJson parse(const std::string& text, JsonBounds bounds = pipeline_json_bounds()) {
  return parse_bounded_json(text.data(), text.size(), bounds);
}

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("bounded JSON: nesting up to the limit parses, one level more is refused",
          "[runtime][bounded_json]") {
  const std::size_t limit = limits::kMaxPipelineNesting;
  CHECK(parse(nested(limit)).document);
  BoundedJson deeper = parse(nested(limit + 1));
  REQUIRE(deeper.failure);
  CHECK_FALSE(deeper.document);
  CHECK_THAT(deeper.failure->message, Catch::Contains("limit of " + std::to_string(limit)));
  // 100,000 levels (a crash before): refused, no recursion over it.
  BoundedJson hostile = parse("{\"nodes\": " + nested(100000) + "}");
  REQUIRE(hostile.failure);
  CHECK_THAT(hostile.failure->pointer, Catch::StartsWith("/nodes/0/0/"));
}

TEST_CASE("bounded JSON: objects count as nesting too, and the path names the keys",
          "[runtime][bounded_json]") {
  const JsonBounds two{1000, 2};
  CHECK(parse(R"({"a": {"b": 1}})", two).document);
  BoundedJson three = parse(R"({"a": [1, {"c/d": {}}]})", two);
  REQUIRE(three.failure);
  CHECK(three.failure->pointer == "/a/1");  // the value that is one level too deep
  BoundedJson four = parse(R"({"a": {"c/d": {"e": {}}}})", JsonBounds{1000, 3});
  REQUIRE(four.failure);
  CHECK(four.failure->pointer == "/a/c~1d/e");
}

TEST_CASE("bounded JSON: a number a double cannot hold is refused with its path and value",
          "[runtime][bounded_json]") {
  BoundedJson big = parse(R"({"nodes": [{"id": "s"}, {"config": {"frequency": 1e400}}]})");
  REQUIRE(big.failure);
  CHECK(big.failure->pointer == "/nodes/1/config/frequency");
  CHECK_THAT(big.failure->message, Catch::Contains("1e400") && Catch::Contains("out of range"));
  CHECK(big.failure->position == "line 1, column 50");
  CHECK(parse(R"({"x": 1e308, "y": -1.7e308})").document);
  BoundedJson negative = parse("[-1e400]");
  REQUIRE(negative.failure);
  CHECK(negative.failure->pointer == "/0");
}

TEST_CASE("bounded JSON: text up to the size limit parses, one byte more is refused",
          "[runtime][bounded_json]") {
  const std::size_t limit = limits::kMaxPipelineTextBytes;
  std::string text = "\"" + std::string(limit - 2, 'x') + "\"";
  REQUIRE(text.size() == limit);
  CHECK(parse(text).document);
  text.insert(1, "x");
  BoundedJson over = parse(text);
  REQUIRE(over.failure);
  CHECK_THAT(over.failure->message,
             Catch::Contains(std::to_string(limit + 1)) && Catch::Contains(std::to_string(limit)));
}

TEST_CASE("bounded JSON: syntax errors keep their line and column; no bytes is an error",
          "[runtime][bounded_json]") {
  BoundedJson bad = parse("{\n  \"a\": ,\n}");
  REQUIRE(bad.failure);
  CHECK(bad.failure->position == "line 2, column 8");
  CHECK_THAT(bad.failure->message, Catch::StartsWith("malformed JSON"));
  CHECK(parse_bounded_json(nullptr, 0, pipeline_json_bounds()).failure);
  const char truncated[] = {'[', '1', ','};
  CHECK(parse_bounded_json(truncated, sizeof truncated, pipeline_json_bounds()).failure);
}
