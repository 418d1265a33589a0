// streamlab devices: the audio devices each compiled-in API lists, for the
// `api` and `device` fields of audio_capture and audio_playback.

#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "nodes/audio_device.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

namespace {

using nlohmann::json;

std::string rates_text(const std::vector<unsigned>& rates) {
  std::string out;
  for (auto r : rates) out += (out.empty() ? "" : " ") + std::to_string(r);
  return out.empty() ? "-" : out;
}

std::string default_marks(const audio::DeviceInfo& d) {
  std::string out;
  if (d.default_input) out = "input";
  if (d.default_output) out += out.empty() ? "output" : ", output";
  return out;
}

json device_to_json(const audio::DeviceInfo& d) {
  return {{"index", d.index},
          {"name", d.name},
          {"input_channels", d.input_channels},
          {"output_channels", d.output_channels},
          {"sample_rates", d.sample_rates},
          {"preferred_sample_rate", d.preferred_rate},
          {"default_input", d.default_input},
          {"default_output", d.default_output}};
}

void print_table(const audio::ApiDevices& listing) {
  std::cout << audio::display_name(listing.api) << " (--api " << listing.api << ")";
  if (!listing.problem.empty()) {
    std::cout << ": " << printable(listing.problem) << "\n";
    return;
  }
  std::cout << "\n";
  std::size_t width = 4;
  for (const auto& d : listing.devices) width = std::max(width, printable(d.name).size() + 4);
  std::cout << "  " << std::left << std::setw(6) << "index" << std::setw(static_cast<int>(width))
            << "name" << std::setw(4) << "in" << std::setw(5) << "out" << std::setw(24)
            << "sample rates (Hz)"
            << "default\n";
  for (const auto& d : listing.devices) {
    std::cout << "  " << std::left << std::setw(6) << d.index << std::setw(static_cast<int>(width))
              << ("\"" + printable(d.name) + "\"") << std::setw(4) << d.input_channels
              << std::setw(5) << d.output_channels << std::setw(24) << rates_text(d.sample_rates)
              << default_marks(d) << "\n";
  }
}

int list_audio_devices(const std::string& api, bool as_json) {
  std::vector<std::string> apis;
  if (api.empty()) {
    apis = audio::compiled_apis();
  } else {
    apis = {api};
  }
  std::vector<audio::ApiDevices> listings;
  for (const auto& name : apis) {
    try {
      listings.push_back(audio::list_devices(name));
    } catch (const std::exception& e) {
      std::cerr << printable(e.what()) << "\n";
      return kExitInvalidInput;
    }
  }
  if (as_json) {
    json out = json::array();
    for (const auto& l : listings) {
      json devices = json::array();
      for (const auto& d : l.devices) devices.push_back(device_to_json(d));
      json row = {{"api", l.api}, {"name", audio::display_name(l.api)}, {"devices", devices}};
      if (!l.problem.empty()) row["problem"] = l.problem;
      out.push_back(std::move(row));
    }
    std::cout << json{{"apis", out}}.dump(2) << "\n";
  } else {
    if (listings.empty()) std::cout << "no audio API is compiled into RtAudio\n";
    for (std::size_t i = 0; i < listings.size(); ++i) {
      if (i) std::cout << "\n";
      print_table(listings[i]);
    }
  }
  // Asked about one API that cannot be used: say so in the status too.
  if (!api.empty() && !listings.front().problem.empty()) {
    if (as_json) std::cerr << "streamlab devices: " << printable(listings.front().problem) << "\n";
    return kExitInvalidInput;
  }
  return kExitOk;
}

}  // namespace

void add_devices_command(CLI::App& app, Action& action) {
  auto api = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "devices", "List audio input and output devices (for audio_capture and audio_playback)");
  cmd->add_option("--api", *api, "Only this audio API")->check(CLI::IsMember(audio::known_apis()));
  cmd->add_flag("--json", *as_json, "Print the listing as JSON");
  cmd->callback([&action, api, as_json] {
    action = [api, as_json] { return list_audio_devices(*api, *as_json); };
  });
}

}  // namespace streamlab::cli
