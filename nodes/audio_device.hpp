#pragma once
// Audio devices through RtAudio: which APIs are compiled in, what devices
// each lists, and the choice of one device for a stream, with errors worded
// by us (RtAudio's own are thrown late and say little: a missing device is
// only "input device parameter value is invalid" at openStream).
// Shared by the audio node types and `streamlab devices`. RtAudio itself
// stays out of this header.

#include <memory>
#include <string>
#include <vector>

class RtAudio;

namespace streamlab::audio {

enum class Direction { input, output };

struct DeviceInfo {
  unsigned index = 0;  // RtAudio's device id, valid until the device list changes
  std::string name;
  unsigned input_channels = 0;
  unsigned output_channels = 0;
  std::vector<unsigned> sample_rates;
  unsigned preferred_rate = 0;
  bool default_input = false;
  bool default_output = false;

  unsigned channels(Direction d) const {
    return d == Direction::input ? input_channels : output_channels;
  }
};

struct ApiDevices {
  std::string api;      // "jack", "pulse", "alsa"
  std::string problem;  // why the API cannot be used (server not reachable); empty when it can
  std::vector<DeviceInfo> devices;
};

// The API names pipeline files and `streamlab devices --api` accept.
const std::vector<std::string>& known_apis();
// "JACK", "PulseAudio", "ALSA".
std::string display_name(const std::string& api);
// The known APIs this RtAudio was built with, in RtAudio's order of preference.
std::vector<std::string> compiled_apis();

// An RtAudio instance for `api` (one of known_apis()), warnings off. Throws
// std::runtime_error, prefixed by `who`, when the API is not compiled in.
std::unique_ptr<RtAudio> open_api(const std::string& api, const std::string& who);

// Every device `rt` lists, with `problem` set when there are none because
// the API's server cannot be reached (or, for ALSA, there is no card).
ApiDevices list_devices(RtAudio& rt, const std::string& api);
// The same through an instance of its own; throws as open_api does.
ApiDevices list_devices(const std::string& api);

// `0 "system" (2 ch, 48000 Hz), 1 "tone" (2 ch, 48000 Hz)`: the devices with
// channels in that direction, or "none".
std::string describe_devices(const ApiDevices& listing, Direction direction);

struct DeviceRequest {
  std::string who;  // for messages: `audio_capture "mic"`
  std::string api;
  std::string device;  // a name, an index, or empty for the default device
  Direction direction = Direction::input;
  unsigned channels = 0;     // 0: not checked
  unsigned sample_rate = 0;  // 0: not checked
};

// The device to open for `request` from `listing`, after checking that it
// exists and supports the channel count and rate. Throws std::runtime_error
// with the reason (and what there is instead) otherwise.
DeviceInfo choose_device(const DeviceRequest& request, const ApiDevices& listing);

// Checks only the format, for a device chosen earlier (a sink learns its
// format from its first frame). Returns the problem, empty when none.
std::string check_format(const DeviceRequest& request, const ApiDevices& listing,
                         const DeviceInfo& device);

}  // namespace streamlab::audio
