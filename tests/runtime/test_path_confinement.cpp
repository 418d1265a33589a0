// What a deployed pipeline may name on a member: relative paths inside the
// data directory, nothing absolute, no "..", no symlink leading out.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "runtime/path_confinement.hpp"

using namespace streamlab;
namespace fs = std::filesystem;

namespace {

struct Dirs {
  fs::path top;
  fs::path data;
  fs::path outside;
  Dirs() {
    char templ[] = "/tmp/streamlab-confine-XXXXXX";
    top = fs::canonical(mkdtemp(templ));
    data = top / "data";
    outside = top / "outside";
    fs::create_directories(data / "sub");
    fs::create_directories(outside);
  }
  ~Dirs() {
    std::error_code ec;
    fs::remove_all(top, ec);
  }
};

}  // namespace

TEST_CASE("relative paths resolve inside the data directory", "[runtime][confine]") {
  Dirs d;
  ConfinedPath c = confine_path(d.data.string(), "out.wav");
  REQUIRE(c.error.empty());
  CHECK(c.path == (d.data / "out.wav").string());
  c = confine_path(d.data.string(), "sub/./x.dead-letters");
  REQUIRE(c.error.empty());
  CHECK(c.path == (d.data / "sub" / "x.dead-letters").string());
  // A symlink that stays inside is fine.
  fs::create_symlink(d.data / "sub", d.data / "alias");
  c = confine_path(d.data.string(), "alias/y.wav");
  REQUIRE(c.error.empty());
  CHECK(c.path == (d.data / "sub" / "y.wav").string());
}

TEST_CASE("absolute paths, .. and empty paths are refused", "[runtime][confine]") {
  Dirs d;
  CHECK_THAT(confine_path(d.data.string(), (d.data / "x.wav").string()).error,
             Catch::Contains("absolute"));
  CHECK_THAT(confine_path(d.data.string(), "/root/.ssh/authorized_keys").error,
             Catch::Contains("absolute"));
  CHECK_THAT(confine_path(d.data.string(), "../outside/x").error, Catch::Contains(".."));
  CHECK_THAT(confine_path(d.data.string(), "sub/../../x").error, Catch::Contains(".."));
  CHECK_THAT(confine_path(d.data.string(), "sub/..").error, Catch::Contains(".."));
  CHECK_THAT(confine_path(d.data.string(), "").error, Catch::Contains("empty"));
  CHECK(confine_path(d.data.string(), "../x").path.empty());
}

TEST_CASE("symlinks leading out are refused, at any component", "[runtime][confine]") {
  Dirs d;
  fs::create_symlink(d.outside, d.data / "escape");
  CHECK_THAT(confine_path(d.data.string(), "escape/keys").error,
             Catch::Contains("outside the data directory"));
  std::ofstream(d.outside / "keys") << "secret\n";
  fs::create_symlink(d.outside / "keys", d.data / "keys.wav");  // the file itself
  CHECK_THAT(confine_path(d.data.string(), "keys.wav").error,
             Catch::Contains("outside the data directory"));
  fs::create_symlink("/etc/passwd", d.data / "sub" / "p");
  CHECK_FALSE(confine_path(d.data.string(), "sub/p").error.empty());
  // A link to the data directory itself names no file in it.
  fs::create_symlink(d.data, d.data / "self");
  CHECK_FALSE(confine_path(d.data.string(), "self").error.empty());
}

TEST_CASE("every path field a schema marks is confined, others are left alone",
          "[runtime][confine]") {
  Dirs d;
  NodeTypeSchema schema;
  FieldSpec path;
  path.name = "path";
  path.type = FieldType::string;
  path.path_check = PathCheck::writable_file;
  FieldSpec label;
  label.name = "label";
  label.type = FieldType::string;
  schema.fields = {path, label};
  json config = {{"path", "a.wav"}, {"label", "/not/a/path"}};
  CHECK(confine_config_paths(schema, config, d.data.string()).empty());
  CHECK(config["path"] == (d.data / "a.wav").string());
  CHECK(config["label"] == "/not/a/path");
  json bad = {{"path", "/etc/passwd"}};
  CHECK_THAT(confine_config_paths(schema, bad, d.data.string()),
             Catch::Contains("field \"path\"") && Catch::Contains("\"/etc/passwd\"") &&
                 Catch::Contains("absolute"));
}

TEST_CASE("opening beneath the root follows no symlink, so a swap after the check fails",
          "[runtime][confine]") {
  Dirs d;
  ConfinedPath c = confine_path(d.data.string(), "sub/x.wav");
  REQUIRE(c.error.empty());
  int fd = open_beneath(d.data.string(), c.path, O_WRONLY | O_CREAT | O_TRUNC);
  REQUIRE(fd >= 0);
  ::close(fd);
  CHECK(fs::exists(d.data / "sub" / "x.wav"));
  // Checked, then "sub" becomes a link out: the open is refused.
  fs::remove_all(d.data / "sub");
  fs::create_symlink(d.outside, d.data / "sub");
  CHECK(open_beneath(d.data.string(), c.path, O_WRONLY | O_CREAT | O_TRUNC) < 0);
  CHECK_FALSE(fs::exists(d.outside / "x.wav"));
  // The file itself swapped for a link out.
  std::ofstream(d.outside / "keys") << "secret\n";
  fs::create_symlink(d.outside / "keys", d.data / "y.wav");
  CHECK(open_beneath(d.data.string(), (d.data / "y.wav").string(), O_WRONLY | O_APPEND) < 0);
  // Paths outside the root are refused outright.
  CHECK(open_beneath(d.data.string(), (d.outside / "keys").string(), O_RDONLY) < 0);
}
