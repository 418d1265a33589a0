# StreamLab dead letter: a frame a node gave up on (its retries were
# exhausted, or its circuit breaker was open), with who gave up and why.
# A dead-letter file is a plain stream of these messages, one per frame, in
# standard (unpacked) stream framing, appended as they happen. Print one with:
#   capnp decode messages/dead_letter.capnp DeadLetter < FILE
# Versioning as in frame.capnp: fields are only ever added; `version` changes
# only for an incompatible change, which readers reject.
@0xe3562a63ba40838a;

$import "/capnp/c++.capnp".namespace("streamlab::wire");

using import "frame.capnp".Frame;

struct DeadLetter {
  version @0 :UInt16 = 1;
  pipeline @1 :Text;
  node @2 :Text;       # id of the node that gave up
  port @3 :UInt32;     # its input port the frame arrived on
  reason @4 :Text;     # e.g. "retries_exhausted", "circuit_open"
  error @5 :Text;      # the last error the node reported for this frame
  attempts @6 :UInt32; # times the node tried the frame (0: never tried)
  timeNs @7 :Int64;    # when it was dead-lettered, wall clock, ns since the epoch
  frame @8 :Frame;
}
