#include "runtime/problem.hpp"

namespace streamlab {

std::string Problem::to_string() const {
  std::string out = file.empty() ? std::string("<pipeline>") : file;
  if (!path.empty()) out += ": " + path;
  if (!node_id.empty()) out += " (node \"" + node_id + "\")";
  out += ": " + message;
  return out;
}

}  // namespace streamlab
