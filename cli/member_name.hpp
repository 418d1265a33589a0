#pragma once
// What a cluster member may be called (`node --name`, `capture --name`):
// it appears in placements ("dsp@b"), logs and metrics labels.

#include <cctype>
#include <string>

#include <CLI/CLI.hpp>

namespace streamlab::cli {

inline CLI::Validator member_name_check() {
  return CLI::Validator(
      [](const std::string& name) {
        if (name.empty() || name.size() > 64) return std::string("1 to 64 characters");
        for (char c : name)
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
            return "letters, digits, '-' and '_' only, got '" + name + "'";
        return std::string();
      },
      "NAME");
}

}  // namespace streamlab::cli
