#pragma once
// How user input is quoted in problem messages and JSON paths, the same way
// everywhere.

#include <string>

#include <nlohmann/json.hpp>

namespace streamlab {

// The value as written, shortened so a huge value cannot flood the terminal.
inline std::string shown(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

inline std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

// RFC 6901: a key containing '/' or '~' must not be mistaken for two path steps.
inline std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

}  // namespace streamlab
