// Environment parsing: every variable cuda_shim reads, with good and bad values.
#include "support/Config.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace cushim;

static std::map<std::string, std::string> Env;
static const char *fakeGetEnv(const char *Name) {
  auto It = Env.find(Name);
  return It == Env.end() ? nullptr : It->second.c_str();
}

TEST_CASE("defaults when nothing is set") {
  Env = {{"HOME", "/home/u"}};
  Config C = parseConfig(fakeGetEnv);
  CHECK(C.LogLevel == "warn");
  CHECK(C.CcMajor == 8);
  CHECK(C.CcMinor == 0);
  CHECK(C.Devices == 1);
  CHECK(C.CachePath == "/home/u/.cache/cuda_shim");
  CHECK_FALSE(C.VisibleDevices.has_value());
  CHECK(C.Problems.empty());
}

TEST_CASE("compute capability in both spellings") {
  Env = {{"CUSHIM_CC", "8.6"}};
  CHECK(parseConfig(fakeGetEnv).CcMinor == 6);
  Env = {{"CUSHIM_CC", "90"}};
  Config C = parseConfig(fakeGetEnv);
  CHECK(C.CcMajor == 9);
  CHECK(C.CcMinor == 0);
  Env = {{"CUSHIM_CC", "banana"}};
  C = parseConfig(fakeGetEnv);
  CHECK(C.CcMajor == 8);
  CHECK(C.Problems.size() == 1);
}

TEST_CASE("CUDA_VISIBLE_DEVICES stops at the first invalid entry") {
  Env = {{"CUDA_VISIBLE_DEVICES", "1,0,x,2"}};
  Config C = parseConfig(fakeGetEnv);
  REQUIRE(C.VisibleDevices.has_value());
  CHECK(*C.VisibleDevices == std::vector<int>{1, 0});
  Env = {{"CUDA_VISIBLE_DEVICES", ""}};
  CHECK(parseConfig(fakeGetEnv).VisibleDevices->empty());
}

TEST_CASE("CUDA_VISIBLE_DEVICES entries are kept as written for UUID matching") {
  Env = {{"CUDA_VISIBLE_DEVICES", "GPU-ab12,1,,2"}};
  Config C = parseConfig(fakeGetEnv);
  REQUIRE(C.VisibleDeviceEntries.has_value());
  CHECK(*C.VisibleDeviceEntries == std::vector<std::string>{"GPU-ab12", "1"});
  CHECK(C.VisibleDevices->empty());
  Env = {};
  CHECK_FALSE(parseConfig(fakeGetEnv).VisibleDeviceEntries.has_value());
}

TEST_CASE("bad engine and device counts are reported, not taken") {
  Env = {{"CUSHIM_ENGINE", "t9"}, {"CUSHIM_DEVICES", "0"}, {"CUSHIM_TRACE", "1"}};
  Config C = parseConfig(fakeGetEnv);
  CHECK(C.Engine.empty());
  CHECK(C.Devices == 1);
  CHECK(C.Trace);
  CHECK(C.Problems.size() == 2);
}

TEST_CASE("fiber stack size with unit suffixes") {
  Env = {{"CUSHIM_STACK_SIZE", "512K"}};
  CHECK(parseConfig(fakeGetEnv).StackSize == 512 * 1024);
  Env = {{"CUSHIM_STACK_SIZE", "2M"}};
  CHECK(parseConfig(fakeGetEnv).StackSize == 2 * 1024 * 1024);
  Env = {{"CUSHIM_STACK_SIZE", "100"}};
  Config C = parseConfig(fakeGetEnv);
  CHECK(C.StackSize == 256 * 1024);
  CHECK(C.Problems.size() == 1);
}

TEST_CASE("engine tiers are taken as given") {
  Env = {{"CUSHIM_ENGINE", "t1"}};
  Config C = parseConfig(fakeGetEnv);
  CHECK(C.Engine == "t1");
  CHECK(C.Problems.empty());
  Env = {{"CUSHIM_ENGINE", "t2"}};
  CHECK(parseConfig(fakeGetEnv).Engine == "t2");
  Env = {{"CUSHIM_ENGINE", "t0"}};
  CHECK(parseConfig(fakeGetEnv).Engine == "t0");
}

TEST_CASE("streaming stores: auto by default, always or never on request") {
  Env = {};
  CHECK(parseConfig(fakeGetEnv).StreamStores == "auto");
  Env = {{"CUSHIM_STREAM_STORES", "never"}};
  CHECK(parseConfig(fakeGetEnv).StreamStores == "never");
  Env = {{"CUSHIM_STREAM_STORES", "always"}};
  CHECK(parseConfig(fakeGetEnv).StreamStores == "always");
  Env = {{"CUSHIM_STREAM_STORES", "1"}};
  Config C = parseConfig(fakeGetEnv);
  CHECK(C.StreamStores == "auto");
  CHECK(C.Problems.size() == 1);
}
