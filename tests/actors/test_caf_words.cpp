#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "actors/caf_words.hpp"

using streamlab::plain_words;

TEST_CASE("CAF's exit reasons and errors are said in words", "[actors][caf_words]") {
  CHECK(plain_words(caf::make_error(caf::exit_reason::remote_link_unreachable)) ==
        "the connection to its process was lost");
  CHECK(plain_words(caf::make_error(caf::exit_reason::kill)) == "it was killed");
  CHECK(plain_words(caf::make_error(caf::sec::request_timeout)) == "no answer in time");
  CHECK(plain_words(caf::make_error(caf::sec::request_receiver_down)) ==
        "the actor asked is gone (its process stopped or the connection was lost)");
  CHECK(plain_words(caf::error{}) == "no error");
  for (auto reason : {caf::exit_reason::normal, caf::exit_reason::unhandled_exception,
                      caf::exit_reason::unknown, caf::exit_reason::out_of_workers,
                      caf::exit_reason::user_shutdown, caf::exit_reason::unreachable}) {
    const std::string words = plain_words(caf::make_error(reason));
    INFO(words);
    CHECK(words.find("exit_reason") == std::string::npos);
  }
  // A code without words keeps CAF's name, after a lead-in.
  CHECK(plain_words(caf::make_error(caf::sec::bad_function_call)).rfind("internal error ", 0) == 0);
}
