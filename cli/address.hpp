#pragma once
// HOST:PORT as the options that name a network address take it
// (`run --monitor`, `run --http`, `monitor --connect`).

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace streamlab::cli {

struct Address {
  std::string host;
  std::uint16_t port = 0;
};

enum class PortZero { any_free_port, refused };

// "HOST:PORT" or "[IPV6]:PORT"; the host may be a name. Port 0 means any
// free port where something listens, and names nothing to connect to.
// Throws std::invalid_argument saying what was expected and what came,
// e.g. "expected HOST:PORT, got 'abc'".
Address parse_address(const std::string& text, PortZero zero);

// For an option's check(): CLI11 puts the option's name before what
// parse_address() says ("--http: expected HOST:PORT, got 'abc'").
CLI::Validator address_check(PortZero zero);

// The form parse_address() reads, IPv6 hosts in brackets.
std::string to_string(const Address& address);

}  // namespace streamlab::cli
