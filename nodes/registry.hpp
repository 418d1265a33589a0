#pragma once
// Every node type, by the name pipeline files use. Adding a node type means
// adding one entry in registry.cpp: its schema and its factory.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nodes/node.hpp"
#include "runtime/config_schema.hpp"

namespace streamlab {

// `config` has been validated against the schema and has defaults filled in.
using NodeFactory =
    std::function<std::unique_ptr<Node>(const json& config, const NodeContext& ctx)>;

struct NodeType {
  NodeTypeSchema schema;
  NodeFactory make;
};

class NodeRegistry {
 public:
  // The registry with every built-in node type.
  static const NodeRegistry& builtin();

  void add(NodeType type);
  const NodeType* find(const std::string& name) const;
  // Sorted by name.
  std::vector<const NodeTypeSchema*> schemas() const;

 private:
  std::vector<NodeType> types_;
};

}  // namespace streamlab
