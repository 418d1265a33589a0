#pragma once
// CAF 0.17 allocates a mailbox element for every message it sends, and frees
// it on the receiver's thread. The data path's messages (frame batches,
// credits, a node's own "go on") are sent thousands of times a second, so a
// node keeps their elements in pools: CAF gives an element back through
// `request_deletion` once the receiver is done with it (mailbox_element is
// memory_managed for exactly this), and a pooled element then goes back to
// its pool instead of to the heap. In steady state nothing is allocated.
//
// A pool's elements are taken by one actor (its owner, one thread at a time)
// and given back by whichever thread disposes of them. It lives until its
// owner has let go of it and every element taken from it is back, so an
// element may outlive the actor that sent it.

#include <atomic>
#include <cstdint>
#include <tuple>
#include <utility>

#include <caf/abstract_actor.hpp>
#include <caf/detail/tuple_vals.hpp>
#include <caf/local_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/make_message.hpp>
#include <caf/message_id.hpp>

namespace streamlab {

template <class... Ts>
class MessagePool;

// A message's types as they are stored, as CAF's make_message stores them:
// atom constants as caf::atom_value.
template <class... Ts>
class PooledMessage final : public caf::mailbox_element,
                            public caf::detail::tuple_vals_impl<caf::type_erased_tuple, Ts...> {
 public:
  using Values = caf::detail::tuple_vals_impl<caf::type_erased_tuple, Ts...>;

  explicit PooledMessage(MessagePool<Ts...>* pool) : Values(Ts{}...), pool_(pool) {}

  caf::type_erased_tuple& content() override { return *this; }
  const caf::type_erased_tuple& content() const override { return *this; }

  // Used when the receiver is a proxy of an actor in another process.
  caf::message move_content_to_message() override {
    return std::apply([](auto&... xs) { return caf::make_message(std::move(xs)...); },
                      this->data());
  }
  caf::message copy_content_to_message() const override {
    return std::apply([](const auto&... xs) { return caf::make_message(xs...); }, this->data());
  }

  void request_deletion(bool) const noexcept override {
    pool_->give_back(const_cast<PooledMessage*>(this));
  }

 private:
  friend class MessagePool<Ts...>;
  ~PooledMessage() override = default;

  MessagePool<Ts...>* pool_;
  PooledMessage* free_next_ = nullptr;
};

template <class... Ts>
class MessagePool {
 public:
  using Message = PooledMessage<Ts...>;

  MessagePool(const MessagePool&) = delete;
  MessagePool& operator=(const MessagePool&) = delete;

  // The owner's reference: the pool is deleted once it is released and
  // every element is back.
  static MessagePool* create() { return new MessagePool; }
  void release() { unref(); }

  // Sends (xs...) from `self` to `dest` in a pooled element. Owner only.
  template <class... Us>
  void send(caf::local_actor* self, caf::abstract_actor* dest, Us&&... xs) {
    if (dest)
      dest->enqueue(make(caf::strong_actor_ptr{self->ctrl()}, std::forward<Us>(xs)...),
                    self->context());
  }

  // An element holding (xs...), to be delivered later. Owner only.
  template <class... Us>
  caf::mailbox_element_ptr make(caf::strong_actor_ptr sender, Us&&... xs) {
    Message* m = take();
    m->sender = std::move(sender);
    m->mid = caf::make_message_id();
    m->data() = std::forward_as_tuple(std::forward<Us>(xs)...);
    return caf::mailbox_element_ptr{m};
  }

  // Elements created so far: how many were ever out at once.
  std::uint64_t created() const { return created_.load(std::memory_order_relaxed); }

 private:
  MessagePool() = default;
  ~MessagePool() {
    free_list(free_);
    free_list(returned_.load(std::memory_order_acquire));
  }

  static void free_list(Message* m) {
    while (m) delete std::exchange(m, m->free_next_);
  }

  Message* take() {
    if (!free_) free_ = returned_.exchange(nullptr, std::memory_order_acquire);
    Message* m = free_;
    if (m) {
      free_ = m->free_next_;
    } else {
      m = new Message(this);
      created_.fetch_add(1, std::memory_order_relaxed);
    }
    refs_.fetch_add(1, std::memory_order_relaxed);
    return m;
  }

  // Any thread. Pushes onto `returned_`: only the owner ever pops (it takes
  // the whole list at once), so the push cannot suffer from ABA.
  void give_back(Message* m) noexcept {
    m->sender.reset();  // no actor is kept alive by a pooled element
    m->stages.clear();
    m->data() = std::tuple<Ts...>{};  // frames go back to their buffer pool now
    m->free_next_ = returned_.load(std::memory_order_relaxed);
    while (!returned_.compare_exchange_weak(m->free_next_, m, std::memory_order_release,
                                            std::memory_order_relaxed)) {
    }
    unref();
  }

  void unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  friend class PooledMessage<Ts...>;

  Message* free_ = nullptr;                  // owner only
  std::atomic<Message*> returned_{nullptr};  // given back since the owner last looked
  std::atomic<std::uint64_t> refs_{1};       // the owner's, and one per element out
  std::atomic<std::uint64_t> created_{0};
};

// Holds the owner's reference to a pool.
template <class... Ts>
class MessagePoolRef {
 public:
  MessagePoolRef() : pool_(MessagePool<Ts...>::create()) {}
  ~MessagePoolRef() { pool_->release(); }
  MessagePoolRef(const MessagePoolRef&) = delete;
  MessagePoolRef& operator=(const MessagePoolRef&) = delete;

  MessagePool<Ts...>* operator->() const { return pool_; }

 private:
  MessagePool<Ts...>* pool_;
};

}  // namespace streamlab
