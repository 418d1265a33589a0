// The server is civetweb's C API, used directly. prometheus-cpp's Exposer
// (built on the same civetweb) was the other candidate, but it can only
// serve registered collectables: no custom paths, no 503, no JSON. The C
// API rather than CivetServer because it reports why a start failed
// (mg_start2) instead of throwing a bare "null context".

#include "cluster/http_endpoints.hpp"

#include <civetweb.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "cluster/basp_gate.hpp"
#include "cluster/prometheus_text.hpp"
#include "messages/input_limits.hpp"
#include "runtime/health.hpp"

namespace streamlab {

namespace {

constexpr const char* kEndpointList =
    "not found; this server has:\n"
    "  /metrics        Prometheus text format\n"
    "  /livez          liveness, plain text (?verbose lists the checks)\n"
    "  /readyz         readiness, plain text (?verbose lists the checks)\n"
    "  /health/live    liveness, JSON\n"
    "  /health/ready   readiness, JSON\n";

constexpr const char* kPlainText = "text/plain; charset=utf-8";
constexpr const char* kJson = "application/json";

std::string display_address(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// civetweb's feature bit for IPv6; Debian 12 builds it without.
constexpr unsigned kCivetwebIpv6 = 8;

using AddressList = std::unique_ptr<addrinfo, void (*)(addrinfo*)>;

AddressList resolve(const std::string& host, std::uint16_t port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = mg_check_feature(kCivetwebIpv6) ? AF_UNSPEC : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int status = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (status != 0) {
    error = "cannot resolve the host: " + std::string(gai_strerror(status));
    if (hints.ai_family == AF_INET && host.find(':') != std::string::npos) {
      error = "IPv6 is not available (civetweb was built without it)";
    }
    return AddressList(nullptr, freeaddrinfo);
  }
  return AddressList(found, freeaddrinfo);
}

// civetweb would resolve a name by itself, and reads some malformed
// addresses ("999.1.1.1") as something else. Handing it the numeric form
// of what getaddrinfo found makes the bound address exactly the one named.
std::string numeric_host(const addrinfo& address) {
  char numeric[NI_MAXHOST];
  if (getnameinfo(address.ai_addr, address.ai_addrlen, numeric, sizeof numeric, nullptr, 0,
                  NI_NUMERICHOST) != 0) {
    return {};
  }
  return numeric;
}

// One connection that is closed at once: enough to end a poll() waiting for
// connections on that address.
void poke(const addrinfo& address) {
  const int fd = socket(address.ai_family, SOCK_STREAM, 0);
  if (fd < 0) return;
  timeval timeout{0, 100'000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  (void)connect(fd, address.ai_addr, address.ai_addrlen);
  close(fd);
}

// civetweb keeps process-wide state behind a reference count that is not
// itself thread-safe to start; initializing once, and never tearing down,
// keeps two servers started on two threads from racing on it.
void init_civetweb_once() {
  static const bool initialized = [] {
    mg_init_library(0);
    return true;
  }();
  (void)initialized;
}

// civetweb says why it could not listen ("cannot bind to ...: Address
// already in use") only through its log, while mg_start2's own error is a
// bare "Failed to setup server ports"; the constructor collects the former
// for its exception. Startup runs on the constructing thread.
thread_local std::string* start_log = nullptr;

int log_civetweb(const mg_connection*, const char* message) {
  if (start_log != nullptr && start_log->empty()) *start_log = message;
  // The rest is mostly clients that went away mid-request.
  spdlog::debug("http: {}", message);
  return 1;
}

// Kubernetes accepts "?verbose", "?verbose=1", "?verbose=true".
bool wants_verbose(const char* query) {
  if (query == nullptr) return false;
  std::string_view rest(query);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = item.find('=');
    if (item.substr(0, eq) != "verbose") continue;
    if (eq == std::string_view::npos) return true;
    const auto value = item.substr(eq + 1);
    return value.empty() || value == "1" || value == "true";
  }
  return false;
}

}  // namespace

struct HttpEndpoints::Response {
  int status = 200;
  const char* content_type = kPlainText;
  std::string body;
  bool allow_header = false;
};

HttpEndpoints::HttpEndpoints(std::string host, std::uint16_t port, SnapshotProvider provider)
    : host_(std::move(host)), port_(port), provider_(std::move(provider)) {
  const std::string where = display_address(host_, port);
  if (host_.empty()) {
    throw std::runtime_error("cannot serve HTTP on " + where + ": empty host");
  }
  if (!provider_) {
    throw std::invalid_argument("HTTP endpoints on " + where + " need a snapshot provider");
  }
  std::string error_text;
  const auto resolved = resolve(host_, port, error_text);
  if (!resolved) throw std::runtime_error("cannot serve HTTP on " + where + ": " + error_text);
  numeric_host_ = numeric_host(*resolved);
  if (numeric_host_.empty()) {
    throw std::runtime_error("cannot serve HTTP on " + where + ": unusable address");
  }
  // civetweb gives each connection a thread until it ends: 4 idle sockets
  // starved every probe. So civetweb listens on loopback only, and the
  // world reaches it through the gate (basp_gate.hpp), which holds idle and
  // slow clients itself and hands civetweb only complete request heads.
  const std::string listening = "127.0.0.1:0";
  init_civetweb_once();
  const std::string threads = std::to_string(limits::kHttpServerThreads);
  const std::string request_timeout = std::to_string(limits::kHttpRequestTimeout.count());

  // Each answer ends its connection (see on_request), hence no keep-alive.
  // clang-format off
  const char* options[] = {
      "listening_ports",    listening.c_str(),
      "num_threads",        threads.c_str(),
      "request_timeout_ms", request_timeout.c_str(),
      "enable_keep_alive",  "no",
      nullptr};
  // clang-format on
  mg_callbacks callbacks{};
  callbacks.log_message = log_civetweb;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.configuration_options = options;
  char start_error[256] = "";
  unsigned error_code = 0;
  mg_error_data error{&error_code, start_error, sizeof start_error};

  std::string log;
  start_log = &log;
  context_ = mg_start2(&init, &error);
  start_log = nullptr;
  if (context_ == nullptr) {
    if (log.empty()) log = start_error[0] ? start_error : "civetweb failed to start";
    throw std::runtime_error("cannot serve HTTP on " + where + ": " + log);
  }
  // "/" is a prefix of every path: one handler sees every request, so that
  // unknown paths get the endpoint list rather than civetweb's own 404.
  mg_set_request_handler(context_, "/", &HttpEndpoints::on_request, this);

  mg_server_port bound{};
  if (mg_get_server_ports(context_, 1, &bound) != 1) {
    mg_stop(context_);
    throw std::runtime_error("cannot serve HTTP on " + where + ": no listening port");
  }
  inner_port_ = static_cast<std::uint16_t>(bound.port);
  try {
    gate_ = std::make_unique<BaspGate>(numeric_host_, port, inner_port_, GateProtocol::http);
  } catch (const GateListenError& e) {
    stop_civetweb();
    throw std::runtime_error("cannot serve HTTP on " + where + ": " + e.reason);
  }
  port_ = gate_->port();
  // The caller announces the address; this line is for debugging binds.
  spdlog::debug("http: serving /metrics and health endpoints on http://{}/ (bound to {})",
                display_address(host_, port_), display_address(numeric_host_, port_));
}

HttpEndpoints::~HttpEndpoints() {
  gate_.reset();
  stop_civetweb();
}

void HttpEndpoints::stop_civetweb() {
  // civetweb's accept loop looks at its stop flag only between polls of 2 s,
  // which would hold up every exit by that much. Connecting to it while
  // mg_stop waits ends the poll at once.
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    mg_stop(context_);
    stopped = true;
  });
  std::string ignored;
  const auto wake = resolve("127.0.0.1", inner_port_, ignored);
  while (!stopped) {
    if (wake) poke(*wake);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopper.join();
}

std::optional<MetricsSnapshot> HttpEndpoints::snapshot() {
  // A provider that throws is as good as one that did not answer; the
  // exception must not cross into civetweb's C threads.
  try {
    return provider_();
  } catch (const std::exception& e) {
    spdlog::warn("http: snapshot provider failed: {}", e.what());
  } catch (...) {
    spdlog::warn("http: snapshot provider failed");
  }
  return std::nullopt;
}

HttpEndpoints::Response HttpEndpoints::respond(const std::string& path, const char* query) {
  const bool live = path == "/livez" || path == "/health/live";
  const bool ready = path == "/readyz" || path == "/health/ready";
  if (path == "/metrics") {
    const auto taken = snapshot();
    if (!taken) {
      return {503, kPlainText, "no metrics snapshot: the process did not answer in time\n"};
    }
    return {200, kPrometheusContentType, to_prometheus_text(*taken)};
  }
  if (!live && !ready) return {404, kPlainText, kEndpointList};

  const auto taken = snapshot();
  const HealthReport report = live ? evaluate_liveness(taken) : evaluate_readiness(taken);
  const int status = report.up() ? 200 : 503;
  if (path.compare(0, 8, "/health/") == 0) {
    return {status, kJson,
            to_json(report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
  }
  return {status, kPlainText, to_plain_text(report, wants_verbose(query))};
}

int HttpEndpoints::on_request(mg_connection* connection, void* self) {
  const mg_request_info* request = mg_get_request_info(connection);
  const std::string_view method = request->request_method ? request->request_method : "";
  const bool head = method == "HEAD";

  Response response;
  if (method != "GET" && !head) {
    response = {405, kPlainText, "only GET and HEAD are served\n", true};
  } else {
    try {
      response = static_cast<HttpEndpoints*>(self)->respond(
          request->local_uri ? request->local_uri : "", request->query_string);
    } catch (const std::exception& e) {
      spdlog::error("http: {} failed: {}", request->local_uri ? request->local_uri : "?", e.what());
      response = {500, kPlainText, std::string("internal error: ") + e.what() + "\n"};
    } catch (...) {
      response = {500, kPlainText, "internal error\n"};
    }
  }

  // The head is written by hand, as prometheus-cpp's own handler does:
  // civetweb's mg_response_header_send adds a Date header through gmtime(),
  // which races between its worker threads. Cache-Control because every
  // answer is a fresh reading, and a cached one would hide a failure.
  mg_printf(connection,
            "HTTP/1.1 %d %s\r\n"
            "Content-Type: %s\r\n"
            "Content-Length: %zu\r\n"
            "Cache-Control: no-store\r\n"
            "%s"
            "Connection: close\r\n\r\n",
            response.status, mg_get_response_code_text(connection, response.status),
            response.content_type, response.body.size(),
            response.allow_header ? "Allow: GET, HEAD\r\n" : "");
  if (!head) mg_write(connection, response.body.data(), response.body.size());
  return response.status;
}

}  // namespace streamlab
