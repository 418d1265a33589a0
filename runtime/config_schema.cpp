#include "runtime/config_schema.hpp"

#include "runtime/json_text.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cmath>
#include <fstream>
#include <sstream>

namespace streamlab {

namespace {

std::string format_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

bool type_matches(FieldType type, const json& value) {
  switch (type) {
    case FieldType::number:
      return value.is_number();
    case FieldType::integer:
      return value.is_number_integer() ||
             (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
    case FieldType::boolean:
      return value.is_boolean();
    case FieldType::string:
    case FieldType::choice:
      return value.is_string();
  }
  return false;
}

std::string parent_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string check_path(PathCheck check, const std::string& path) {
  if (path.empty()) return "must not be empty";
  struct stat st {};
  switch (check) {
    case PathCheck::none:
      return {};
    case PathCheck::readable_file:
      if (stat(path.c_str(), &st) != 0) return "file \"" + path + "\" does not exist";
      if (S_ISDIR(st.st_mode)) return "\"" + path + "\" is a directory, not a file";
      if (access(path.c_str(), R_OK) != 0) return "file \"" + path + "\" is not readable";
      return {};
    case PathCheck::writable_file: {
      if (stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return "\"" + path + "\" is a directory, not a file";
        if (access(path.c_str(), W_OK) != 0) return "file \"" + path + "\" is not writable";
        return {};
      }
      std::string dir = parent_dir(path);
      if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return "directory \"" + dir + "\" of \"" + path + "\" does not exist";
      if (access(dir.c_str(), W_OK) != 0) return "directory \"" + dir + "\" is not writable";
      return {};
    }
  }
  return {};
}

const FieldSpec* find_field(const NodeTypeSchema& schema, const std::string& name) {
  for (const auto& field : schema.fields)
    if (field.name == name) return &field;
  return nullptr;
}

}  // namespace

std::string to_string(FieldType type) {
  switch (type) {
    case FieldType::number:
      return "number";
    case FieldType::integer:
      return "integer";
    case FieldType::boolean:
      return "boolean";
    case FieldType::string:
      return "string";
    case FieldType::choice:
      return "string";
  }
  return "?";
}

std::string describe_constraints(const FieldSpec& field) {
  std::string out;
  if (field.type == FieldType::choice) {
    out = "one of";
    for (std::size_t i = 0; i < field.choices.size(); ++i)
      out += (i ? ", \"" : " \"") + field.choices[i] + "\"";
  } else if (field.min && field.max) {
    out = std::string(field.min_exclusive ? "in (" : "in [") + format_number(*field.min) + ", " +
          format_number(*field.max) + "]";
  } else if (field.min) {
    out = (field.min_exclusive ? "> " : ">= ") + format_number(*field.min);
  } else if (field.max) {
    out = "<= " + format_number(*field.max);
  }
  return out;
}

void validate_config(const NodeTypeSchema& schema, const json& config, const Problem& where,
                     Problems& problems) {
  auto report = [&](const std::string& path_suffix, const std::string& message) {
    Problem p = where;
    p.path += path_suffix;
    p.message = message;
    problems.push_back(std::move(p));
  };

  if (!config.is_null() && !config.is_object()) {
    report("", "\"config\" must be an object, got " + shown(config));
    return;
  }
  const json empty = json::object();
  const json& cfg = config.is_null() ? empty : config;
  bool fields_valid = true;

  for (const auto& [key, value] : cfg.items()) {
    if (find_field(schema, key)) continue;
    std::string known;
    for (const auto& field : schema.fields) known += (known.empty() ? "" : ", ") + field.name;
    report("/" + key, "unknown field \"" + key + "\" for node type \"" + schema.type + "\"" +
                          (known.empty() ? " (it takes no config)" : " (known: " + known + ")"));
    fields_valid = false;
  }

  for (const auto& field : schema.fields) {
    const std::string suffix = "/" + field.name;
    auto it = cfg.find(field.name);
    if (it == cfg.end()) {
      if (field.required()) {
        report(suffix, "missing required field \"" + field.name + "\" (" + to_string(field.type) +
                           (field.help.empty() ? "" : ": " + field.help) + ")");
        fields_valid = false;
      }
      continue;
    }
    const json& value = *it;
    if (!type_matches(field.type, value)) {
      report(suffix, "\"" + field.name + "\" must be " +
                         (field.type == FieldType::integer ? "an " : "a ") + to_string(field.type) +
                         ", got " + shown(value));
      fields_valid = false;
      continue;
    }
    if (field.type == FieldType::number || field.type == FieldType::integer) {
      double v = value.get<double>();
      const bool below_min = field.min && (field.min_exclusive ? v <= *field.min : v < *field.min);
      if (!std::isfinite(v) || below_min || (field.max && v > *field.max)) {
        report(suffix, "\"" + field.name + "\" must be " + describe_constraints(field) + ", got " +
                           shown(value));
        fields_valid = false;
      }
    } else if (field.type == FieldType::choice) {
      const auto& s = value.get_ref<const std::string&>();
      bool ok = false;
      for (const auto& c : field.choices) ok = ok || c == s;
      if (!ok) {
        report(suffix, "\"" + field.name + "\" must be " + describe_constraints(field) + ", got " +
                           shown(value));
        fields_valid = false;
      }
    }
    if (field.path_check != PathCheck::none && value.is_string()) {
      std::string why = check_path(field.path_check, value.get<std::string>());
      if (!why.empty()) {
        report(suffix, "\"" + field.name + "\": " + why);
        fields_valid = false;
      }
    }
  }

  if (fields_valid && schema.cross_check) {
    schema.cross_check(with_defaults(schema, cfg),
                       [&](const std::string& field, const std::string& message) {
                         report("/" + field, message);
                       });
  }
}

json with_defaults(const NodeTypeSchema& schema, const json& config) {
  json out = config.is_object() ? config : json::object();
  for (const auto& field : schema.fields)
    if (!out.contains(field.name) && !field.required()) out[field.name] = field.default_value;
  return out;
}

}  // namespace streamlab
