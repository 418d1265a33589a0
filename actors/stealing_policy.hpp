#pragma once
// CAF's work-stealing scheduler with a worker job queue that does not
// allocate per job (actors/job_queue.hpp).
//
// Everything but the queue is CAF's: work_stealing's polling, sleeping and
// stealing, and its "work-stealing.*" settings. Its member templates reach
// the queue only as `d(self).queue`, where `d(self)` is `self->data()`, the
// worker's `Policy::worker_data`, and `Policy` is the class the coordinator
// is instantiated with, i.e. this one. So `queue` below hides the base's
// queue (which is constructed but never used) in every one of them.

#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/scheduler/coordinator.hpp>

#include "actors/job_queue.hpp"

namespace streamlab {

class StealingPolicy : public caf::policy::work_stealing {
 public:
  using base_worker_data = caf::policy::work_stealing::worker_data;

  struct worker_data : base_worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator* parent) : base_worker_data(parent) {}

    // The coordinator makes one worker_data from its config and copies it
    // into each worker: each copy gets its own (empty) queue.
    worker_data(const worker_data& other) : base_worker_data(other) {}

    JobQueue queue;
  };
};

using StealingScheduler = caf::scheduler::coordinator<StealingPolicy>;

}  // namespace streamlab
