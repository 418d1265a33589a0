#pragma once

#include <ostream>

#include "runtime/problem.hpp"

namespace streamlab::cli {

// One problem per line, then a count; shared by `validate` and `run`.
void print_problems(std::ostream& os, const Problems& problems);

}  // namespace streamlab::cli
