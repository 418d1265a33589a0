#pragma once
// The node types that ship with StreamLab, one function per type, each
// defined beside its node class. NodeRegistry::builtin() registers them all;
// tests and tools may also pick a single one.

#include "nodes/registry.hpp"

namespace streamlab {

NodeType sine_node_type();
NodeType constant_node_type();
NodeType gain_node_type();
NodeType mix_node_type();
NodeType wav_source_node_type();
NodeType wav_sink_node_type();
NodeType null_sink_node_type();
NodeType print_node_type();
NodeType fault_node_type();
NodeType dead_letter_source_node_type();
NodeType audio_capture_node_type();
NodeType audio_playback_node_type();

}  // namespace streamlab
