#include "cli/problem_output.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

void print_problems(std::ostream& os, const Problems& problems) {
  for (const auto& p : problems) os << "error: " << printable(p.to_string()) << '\n';
  os << problems.size() << (problems.size() == 1 ? " problem" : " problems") << " found\n";
}

}  // namespace streamlab::cli
