#include "cli/option_checks.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "runtime/printable.hpp"

namespace streamlab::cli {

namespace {

std::string got(const std::string& text) { return ", got \"" + printable(text) + "\""; }

}  // namespace

CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE ||
            !std::isfinite(value) || !(value > 0))
          return "must be a number greater than 0" + got(text);
        return {};
      },
      "NUMBER > 0", "positive number");
}

CLI::Validator positive_count() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const bool digits_only =
            !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        char* end = nullptr;
        errno = 0;
        const unsigned long long value = digits_only ? std::strtoull(text.c_str(), &end, 10) : 0;
        if (!digits_only || errno == ERANGE || value < 1)
          return "must be a whole number from 1 to 18446744073709551615" + got(text);
        return {};
      },
      "INTEGER >= 1", "positive count");
}

std::string subcommand_problem(const CLI::App& app, const std::string& word) {
  std::string known;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    known += (known.empty() ? "" : ", ") + sub->get_name();
  if (word.empty()) return "a subcommand is required; known: " + known;
  return "unknown subcommand \"" + printable(word) + "\"; known: " + known;
}

std::string first_word(const CLI::App& app, int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.empty() || arg[0] != '-') return arg;
    if (arg.find('=') != std::string::npos) continue;
    // An option of the main app that takes a value takes the next argument.
    try {
      const CLI::Option* option = app.get_option(arg);
      if (option->get_type_size() != 0 && i + 1 < argc) ++i;
    } catch (const CLI::OptionNotFound&) {
    }
  }
  return {};
}

}  // namespace streamlab::cli
