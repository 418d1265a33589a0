#include "cli/run_support.hpp"

#include <csignal>
#include <iostream>

#include "cli/problem_output.hpp"
#include "nodes/registry.hpp"

namespace streamlab::cli {

namespace {
std::atomic<int> g_interrupts{0};
extern "C" void on_interrupt(int) { g_interrupts.fetch_add(1); }
}  // namespace

std::optional<PipelineSpec> load_or_report(const std::string& path, std::string* text) {
  std::string read;
  ParseResult parsed;
  if (auto why = read_pipeline_text(path, read))
    parsed.problems.push_back(std::move(*why));
  else
    parsed = parse_pipeline(read, path, NodeRegistry::builtin().schemas());
  if (parsed.problems.empty()) {
    if (text) *text = std::move(read);
    return std::move(parsed.spec);
  }
  print_problems(std::cerr, parsed.problems);
  std::cerr << "nothing was started\n";
  return std::nullopt;
}

const std::atomic<int>& install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return g_interrupts;
}

}  // namespace streamlab::cli
