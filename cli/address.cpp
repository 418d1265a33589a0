#include "cli/address.hpp"

#include <stdexcept>

namespace streamlab::cli {

Address parse_address(const std::string& text, PortZero zero) {
  const auto fail = [&](const std::string& what) {
    return std::invalid_argument("expected " + what + ", got '" + text + "'");
  };
  Address address;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw fail("[IPV6]:PORT");
    address.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) throw fail("HOST:PORT");
    address.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (address.host.find(':') != std::string::npos)
      throw fail("an IPv6 host in brackets, [IPV6]:PORT");
  }
  if (address.host.empty()) throw fail("HOST:PORT with a host");
  // Digits only: std::stoul alone would take " 80", "+80" or "80x".
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    throw fail("HOST:PORT with a port from 0 to 65535");
  address.port = static_cast<std::uint16_t>(std::stoul(port));
  if (address.port == 0 && zero == PortZero::refused)
    throw fail("HOST:PORT with a port from 1 to 65535 (0 names no port to connect to)");
  return address;
}

CLI::Validator address_check(PortZero zero) {
  return CLI::Validator(
      [zero](std::string& text) -> std::string {
        try {
          parse_address(text, zero);
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
        return {};
      },
      "HOST:PORT");
}

std::string to_string(const Address& address) {
  const bool ipv6 = address.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

}  // namespace streamlab::cli
