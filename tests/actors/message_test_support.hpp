#pragma once
// Shared by the tests of pooled messages and the pacer: a payload that is
// shared as a frame's samples are, and a bounded wait for what another
// thread does.

#include <chrono>
#include <memory>
#include <thread>

#include <caf/meta/type_name.hpp>

namespace streamlab::test {

struct Shared {
  std::shared_ptr<const int> p;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Shared&) {
  return f(caf::meta::type_name("shared"));
}

// True once `condition` holds; false if it still does not after 5 s.
template <class Condition>
bool eventually(Condition condition) {
  for (int i = 0; i < 5000 && !condition(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return condition();
}

}  // namespace streamlab::test
