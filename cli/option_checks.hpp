#pragma once
// Checks of numeric options that say what is allowed in words
// ("--frames: must be a whole number of at least 1, got \"0\""), where
// CLI11's own print the range of a double to 300 digits.

#include <CLI/CLI.hpp>

namespace streamlab::cli {

// A number of seconds (or any amount) greater than 0, finite.
CLI::Validator positive_number();

// A whole number of at least 1 (counts: frames, attempts).
CLI::Validator positive_count();

// What to say for an argument that is not a subcommand: its name and the
// known ones ("unknown subcommand \"frobnicate\"; known: run, validate, ...").
// `first_word` is empty when none was given.
std::string subcommand_problem(const CLI::App& app, const std::string& first_word);

// The first argument that is neither an option nor an option's value: what
// the user meant as the subcommand. Empty when there is none.
std::string first_word(const CLI::App& app, int argc, const char* const* argv);

}  // namespace streamlab::cli
