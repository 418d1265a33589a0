// streamlab capture --join HOST:PORT --name NAME --device DEVICE: a cluster
// member on the machine that has the audio hardware. It checks that the
// device is there before it joins, then runs like `streamlab node`; a
// pipeline deployed to the cluster reads the device with an `audio_capture`
// node pinned to it ("on": NAME).

#include <iostream>
#include <memory>

#include "cli/address.hpp"
#include "cli/commands.hpp"
#include "cli/member_name.hpp"
#include "cli/run_support.hpp"
#include "cli/tls_options.hpp"
#include "cluster/node_daemon.hpp"
#include "nodes/audio_device.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

namespace {

struct CaptureArgs {
  std::string name;
  std::string join;
  std::string listen = "127.0.0.1:0";
  std::string api = "jack";
  std::string device;
  std::string http;
  TlsFiles tls;
};

int capture(const CaptureArgs& args) {
  if (!tls_files_usable(args.tls)) return kExitInvalidInput;
  try {
    audio::DeviceRequest request;
    request.who = "capture --device";
    request.api = args.api;
    request.device = args.device;
    request.direction = audio::Direction::input;
    const auto chosen = audio::choose_device(request, audio::list_devices(args.api));
    std::cerr << "member \"" << printable(args.name) << "\" offers "
              << audio::display_name(args.api) << " input device " << chosen.index << " \""
              << printable(chosen.name) << "\" (" << chosen.input_channels
              << " ch): pipelines read it with "
              << R"({"type":"audio_capture","on":")" << printable(args.name)
              << R"(","config":{"api":")" << printable(args.api) << R"(","device":")"
              << printable(chosen.name) << "\"}}\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << printable(e.what()) << '\n';
    return kExitInvalidInput;
  }
  MemberOptions o;
  o.name = args.name;
  o.tls = args.tls;
  const Address listen = parse_address(args.listen, PortZero::any_free_port);
  o.listen_host = listen.host;
  o.listen_port = listen.port;
  const Address seed = parse_address(args.join, PortZero::refused);
  o.join_host = seed.host;
  o.join_port = seed.port;
  if (!args.http.empty()) {
    const Address http = parse_address(args.http, PortZero::any_free_port);
    o.http_host = http.host;
    o.http_port = http.port;
  }
  o.interrupts = &install_interrupt_handlers();
  return run_member(o);
}

}  // namespace

void add_capture_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<CaptureArgs>();
  auto* cmd = app.add_subcommand(
      "capture",
      "Join a cluster from the machine that has the audio device, offering it to pipelines");
  cmd->add_option("--name", args->name, "Member name, unique in the cluster")
      ->required()
      ->check(member_name_check());
  cmd->add_option("--join", args->join, "Any member of the cluster (HOST:PORT)")
      ->required()
      ->check(address_check(PortZero::refused));
  cmd->add_option("--device", args->device, "Input device, by name or index (see `devices`)")
      ->required();
  cmd->add_option("--api", args->api, "Audio API: jack, pulse or alsa")
      ->capture_default_str()
      ->check(CLI::IsMember(audio::known_apis()));
  cmd->add_option("--listen", args->listen,
                  "Where the cluster reaches this member (HOST:PORT; port 0: any free port)")
      ->capture_default_str()
      ->check(address_check(PortZero::any_free_port));
  cmd->add_option("--http", args->http, "Serve /metrics and the health endpoints on HOST:PORT")
      ->check(address_check(PortZero::any_free_port));
  add_tls_options(cmd, args->tls);
  cmd->callback([&action, args] { action = [args] { return capture(*args); }; });
}

}  // namespace streamlab::cli
