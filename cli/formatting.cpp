#include "cli/formatting.hpp"

#include <iomanip>
#include <sstream>

namespace streamlab::cli {

std::string format_us(double us) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(us < 10 ? 2 : (us < 1000 ? 1 : 0)) << us;
  return os.str();
}

std::string format_rate(double per_second) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(per_second < 100 ? 1 : 0) << per_second;
  return os.str();
}

std::uint64_t total(const std::array<std::uint64_t, kDropReasonCount>& counts) {
  std::uint64_t sum = 0;
  for (auto n : counts) sum += n;
  return sum;
}

}  // namespace streamlab::cli
