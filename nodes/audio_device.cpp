#include "nodes/audio_device.hpp"

#include "nodes/audio_stream.hpp"

#include <alsa/asoundlib.h>
#include <rtaudio/RtAudio.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace streamlab::audio {

namespace {

struct ApiName {
  const char* name;
  const char* display;
  RtAudio::Api api;
};

constexpr ApiName kApis[] = {
    {"jack", "JACK", RtAudio::UNIX_JACK},
    {"pulse", "PulseAudio", RtAudio::LINUX_PULSE},
    {"alsa", "ALSA", RtAudio::LINUX_ALSA},
};

const ApiName* find_api(const std::string& name) {
  for (const auto& a : kApis)
    if (name == a.name) return &a;
  return nullptr;
}

// alsa-lib prints its own complaints to stderr (no card 0, ...) while
// RtAudio probes; what matters is said in our errors.
void quiet_alsa(const char*, int, const char*, int, const char*, ...) {}

void silence_alsa_once() {
  static const bool done = [] {
    snd_lib_error_set_handler(&quiet_alsa);
    return true;
  }();
  (void)done;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

// Why an API with no devices cannot be used: for the two servers, the
// server is not there (with the name the client looks for); for ALSA,
// there is no card.
std::string no_devices_reason(const std::string& api) {
  if (api == "jack") {
    const char* server = std::getenv("JACK_DEFAULT_SERVER");
    return std::string("cannot reach a JACK server (") +
           (server && *server ? "JACK_DEFAULT_SERVER=\"" + std::string(server) + "\""
                              : std::string("the default server; JACK_DEFAULT_SERVER is not set")) +
           "): is jackd running?";
  }
  if (api == "pulse") {
    const char* server = std::getenv("PULSE_SERVER");
    return std::string("cannot reach a PulseAudio server (") +
           (server && *server ? "PULSE_SERVER=\"" + std::string(server) + "\""
                              : std::string("the default server; PULSE_SERVER is not set")) +
           "): is it running?";
  }
  return "ALSA lists no devices: is there a sound card (/dev/snd)?";
}

std::string rates_text(const std::vector<unsigned>& rates) {
  std::vector<std::string> items;
  for (auto r : rates) items.push_back(std::to_string(r) + " Hz");
  return join(items);
}

const char* direction_word(Direction d) { return d == Direction::input ? "input" : "output"; }

}  // namespace

const std::vector<std::string>& known_apis() {
  static const std::vector<std::string> names = {"jack", "pulse", "alsa"};
  return names;
}

std::string display_name(const std::string& api) {
  const ApiName* a = find_api(api);
  return a ? a->display : api;
}

std::vector<std::string> compiled_apis() {
  std::vector<RtAudio::Api> apis;
  RtAudio::getCompiledApi(apis);
  std::vector<std::string> out;
  for (auto api : apis)
    for (const auto& a : kApis)
      if (a.api == api) out.push_back(a.name);
  return out;
}

std::unique_ptr<RtAudio> open_api(const std::string& api, const std::string& who) {
  const ApiName* a = find_api(api);
  const auto compiled = compiled_apis();
  if (!a || std::find(compiled.begin(), compiled.end(), api) == compiled.end())
    throw std::runtime_error(who + ": audio API \"" + api +
                             "\" is not compiled into this RtAudio (compiled: " + join(compiled) +
                             ")");
  if (a->api == RtAudio::LINUX_ALSA) silence_alsa_once();
  auto rt = std::make_unique<RtAudio>(a->api);
  rt->showWarnings(false);
  return rt;
}

ApiDevices list_devices(RtAudio& rt, const std::string& api) {
  ApiDevices out;
  out.api = api;
  const unsigned count = rt.getDeviceCount();
  for (unsigned i = 0; i < count; ++i) {
    // RtAudio probes a JACK device through a client of its own, which a
    // busy server may refuse for a moment: asked again, before giving up.
    RtAudio::DeviceInfo info;
    info.probed = false;  // RtAudio leaves it uninitialised
    for (int attempt = 0; attempt < 5 && !info.probed; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
      try {
        info = rt.getDeviceInfo(i);
      } catch (const RtAudioError&) {
        break;  // gone between the count and the question (JACK clients come and go)
      }
    }
    if (!info.probed) continue;
    DeviceInfo d;
    d.index = i;
    d.name = info.name;
    d.input_channels = info.inputChannels;
    d.output_channels = info.outputChannels;
    d.sample_rates = info.sampleRates;
    d.preferred_rate = info.preferredSampleRate;
    d.default_input = info.isDefaultInput;
    d.default_output = info.isDefaultOutput;
    out.devices.push_back(std::move(d));
  }
  if (out.devices.empty()) out.problem = no_devices_reason(api);
  return out;
}

ApiDevices list_devices(const std::string& api) {
  auto rt = open_api(api, "streamlab");
  return list_devices(*rt, api);
}

std::string describe_devices(const ApiDevices& listing, Direction direction) {
  std::vector<std::string> items;
  for (const auto& d : listing.devices) {
    const unsigned ch = d.channels(direction);
    if (ch == 0) continue;
    items.push_back(std::to_string(d.index) + " \"" + d.name + "\" (" + std::to_string(ch) +
                    " ch, " + rates_text(d.sample_rates) + ")");
  }
  return join(items);
}

std::string check_format(const DeviceRequest& request, const ApiDevices& listing,
                         const DeviceInfo& device) {
  const std::string where = std::string(direction_word(request.direction)) + " device \"" +
                            device.name + "\" on " + display_name(listing.api);
  const unsigned has = device.channels(request.direction);
  if (request.channels && request.channels > has)
    return where + " has " + std::to_string(has) + " " + direction_word(request.direction) +
           " channel" + (has == 1 ? "" : "s") + ", " + std::to_string(request.channels) +
           " asked for";
  const auto& rates = device.sample_rates;
  if (request.sample_rate &&
      std::find(rates.begin(), rates.end(), request.sample_rate) == rates.end())
    return where + " does not support " + std::to_string(request.sample_rate) +
           " Hz; it supports " + rates_text(rates);
  return {};
}

DeviceInfo choose_device(const DeviceRequest& request, const ApiDevices& listing) {
  if (!listing.problem.empty()) throw std::runtime_error(request.who + ": " + listing.problem);
  const char* dir = direction_word(request.direction);
  const DeviceInfo* chosen = nullptr;
  if (request.device.empty()) {
    // RtAudio's default device may have no channels this way (and with no
    // device at all it still answers 0), so the default mark decides, then
    // the first device that has channels in this direction.
    for (const auto& d : listing.devices) {
      const bool is_default =
          request.direction == Direction::input ? d.default_input : d.default_output;
      if (is_default && d.channels(request.direction) > 0) chosen = &d;
    }
    for (const auto& d : listing.devices)
      if (!chosen && d.channels(request.direction) > 0) chosen = &d;
    if (!chosen)
      throw std::runtime_error(request.who + ": " + display_name(listing.api) + " has no " + dir +
                               " device");
  } else {
    for (const auto& d : listing.devices)
      if (d.name == request.device && d.channels(request.direction) > 0) chosen = &d;
    const bool digits = std::all_of(request.device.begin(), request.device.end(),
                                    [](char c) { return c >= '0' && c <= '9'; }) &&
                        request.device.size() < 9;
    if (!chosen && digits) {
      const auto index = static_cast<unsigned>(std::stoul(request.device));
      for (const auto& d : listing.devices)
        if (d.index == index && d.channels(request.direction) > 0) chosen = &d;
    }
    if (!chosen)
      throw std::runtime_error(request.who + ": no " + dir + " device \"" + request.device +
                               "\" on " + display_name(listing.api) + "; " + dir +
                               " devices: " + describe_devices(listing, request.direction));
  }
  std::string problem = check_format(request, listing, *chosen);
  if (!problem.empty()) throw std::runtime_error(request.who + ": " + problem);
  return *chosen;
}

std::atomic<std::uint64_t>& stream_error_count() {
  static std::atomic<std::uint64_t> count{0};
  return count;
}

void count_stream_error(RtAudioError::Type, const std::string&) {
  stream_error_count().fetch_add(1, std::memory_order_relaxed);
}

void close_stream(RtAudio& rt) {
  try {
    if (rt.isStreamRunning()) rt.abortStream();
  } catch (...) {
  }
  try {
    if (rt.isStreamOpen()) rt.closeStream();
  } catch (...) {
  }
}

void close_dead_stream(RtAudio& rt, int bound_ms) {
  // RtAudio starts that thread only for a running stream, which stays
  // running until the thread's close is done.
  if (rt.getCurrentApi() == RtAudio::UNIX_JACK)
    for (int waited = 0; waited < bound_ms && rt.isStreamOpen() && rt.isStreamRunning();
         waited += 5)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  close_stream(rt);
}

std::int64_t stall_limit_ns(unsigned period_frames, unsigned sample_rate) {
  const std::int64_t period_ns =
      sample_rate ? std::int64_t{1'000'000'000} * period_frames / sample_rate : 0;
  return std::max<std::int64_t>(1'000'000'000, 50 * period_ns);
}

}  // namespace streamlab::audio
