#include <catch2/catch.hpp>

#include "runtime/printable.hpp"

using streamlab::printable;

TEST_CASE("printable leaves ordinary text and valid UTF-8 alone", "[printable]") {
  CHECK(printable("tone-1 (gain)") == "tone-1 (gain)");
  CHECK(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb5") ==
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb5");
  CHECK(printable("") == "");
}

TEST_CASE("printable escapes every control character", "[printable]") {
  CHECK(printable("a\x1b[2Jb") == "a\\x1b[2Jb");
  CHECK(printable("line\nforged: ok\r\t") == "line\\nforged: ok\\r\\t");
  CHECK(printable(std::string("nul\0end", 7)) == "nul\\x00end");
  CHECK(printable("del\x7f") == "del\\x7f");
  // U+009B is CSI on terminals that honour C1 controls.
  CHECK(printable("c1\xc2\x9b"
                  "31m") == "c1\\u009b31m");
  CHECK(printable("\xc2\xa0") == "\xc2\xa0");  // U+00A0 is printable
}

TEST_CASE("printable shows bytes that are not UTF-8 as hex", "[printable]") {
  CHECK(printable("\x9b"
                  "31m") == "\\x9b31m");
  CHECK(printable("\xc3") == "\\xc3");                             // truncated sequence
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");                    // overlong '/'
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");           // surrogate
  CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
}
