#include "nodes/node.hpp"

namespace streamlab {

Status Node::generate(FrameList&, bool& end_of_stream) {
  end_of_stream = true;
  return Status::error("this node type is not a source");
}

Status Node::process(const Inputs&, FrameList&) {
  return Status::error("this node type takes no input");
}

Status Node::finish(FrameList&) { return Status::ok(); }

}  // namespace streamlab
