# StreamLab wire format for one frame crossing a process boundary.
# Debug a captured message with:
#   capnp decode messages/frame.capnp Frame < message.bin
# Versioning: fields are only ever added (never renumbered or retyped);
# `version` changes only for an incompatible change, which decoders reject.
@0xb6a3f1c7d2e94a15;

$import "/capnp/c++.capnp".namespace("streamlab::wire");

struct Frame {
  version @0 :UInt16 = 1;
  seq @1 :UInt64;
  timestampNs @2 :Int64;      # wall clock, nanoseconds since the epoch
  sampleRate @3 :UInt32;      # Hz
  channels @4 :UInt32;
  frames @5 :UInt32;          # samples per channel
  samples @6 :List(Float32);  # planar: channels * frames values
  metadata @7 :List(Entry);

  struct Entry {
    key @0 :Text;
    value @1 :Text;
  }
}
