#pragma once
// One thing wrong with user input, with where it is: the file, the JSON
// path inside it (or line/column for syntax errors), and the node it concerns.

#include <string>
#include <vector>

namespace streamlab {

struct Problem {
  std::string file;     // may be empty (spec given as a string)
  std::string path;     // JSON pointer, e.g. "/nodes/2/config/frequency"; or "line 3, column 7"
  std::string node_id;  // empty when the problem is not about one node
  std::string message;  // what is wrong, naming the offending value

  // "pipe.json: /nodes/2/config/frequency (node "osc"): must be <= 24000, got 30000"
  std::string to_string() const;
};

using Problems = std::vector<Problem>;

}  // namespace streamlab
