#include "runtime/logging.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <utility>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "runtime/printable.hpp"

namespace streamlab {

namespace {

// spdlog::level::from_str maps unknown names to "off", which would silently
// turn logging off on a typo; an explicit table lets us refuse them.
constexpr std::array<std::pair<const char*, spdlog::level::level_enum>, 7> kLevels = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},
    {"critical", spdlog::level::critical},
    {"off", spdlog::level::off},
}};

// The message, through printable(): log lines quote node ids, pipeline and
// member names and peers' error texts, so escaping here covers every one of
// them, whichever layer logs.
class PrintableMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string text = printable(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PrintableMessage>();
  }
};

}  // namespace

bool setup_logging(const std::string& level) {
  const auto* found = std::find_if(kLevels.begin(), kLevels.end(),
                                   [&](const auto& entry) { return level == entry.first; });
  if (found == kLevels.end()) return false;

  // stderr keeps stdout free for data (`print` nodes, JSON output); the sink
  // colours only when stderr is a terminal.
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("streamlab", std::move(sink));
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<PrintableMessage>('*').set_pattern("%Y-%m-%d %H:%M:%S.%e [%^%l%$] [%n] %*");
  logger->set_formatter(std::move(formatter));
  spdlog::set_default_logger(std::move(logger));
  spdlog::set_level(found->second);
  return true;
}

}  // namespace streamlab
