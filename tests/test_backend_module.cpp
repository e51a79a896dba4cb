// The loader of backend modules (core/backend_module.cpp), on the fake
// modules built with the tests, and on the real CUDA module where this build
// has one: found, matched by key, and usable across the library boundary.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "backend_module.hpp"
#include "backprop/backprop.hpp"

namespace backprop {
namespace {

const std::string kModules = BACKPROP_TEST_MODULE_DIR;

BackendEntry fake(std::vector<std::string> dirs, std::string driver = "", std::string backend = "fake") {
  return backend_module_entry({backend, "libbackprop-fake.so", driver}, std::move(dirs));
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(BackendModule, LoadsAModuleWhoseErrorsReachTheCaller) {
  const BackendEntry entry = fake({kModules + "/good"});
  EXPECT_EQ(entry.name, "fake");
  ASSERT_EQ(entry.unusable_reason(), "");
  const auto backend = entry.create({});
  EXPECT_EQ(backend->name(), "fake");
  const Dataset data = Dataset::xor_points(4);
  const Parameters params = init_numpy({2, 4, 1}, 42);
  // Thrown inside the module, caught here by type.
  try {
    backend->start(data, params, Precision::f32);
    FAIL() << "the fake backend started a session";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the fake backend trains nothing");
  }
}

TEST(BackendModule, NamesEveryFolderItLookedIn) {
  const BackendEntry entry = fake({kModules + "/none", kModules + "/nowhere"});
  const std::string reason = entry.unusable_reason();
  EXPECT_TRUE(contains(reason, "libbackprop-fake.so is not in " + kModules + "/none, " + kModules + "/nowhere"))
      << reason;
  EXPECT_TRUE(contains(reason, "BACKPROP_MODULE_PATH")) << reason;
  try {
    entry.create({});
    FAIL() << "created a backend from a module that is not there";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "backend 'fake' cannot be loaded: " + reason)) << e.what();
  }
}

TEST(BackendModule, RefusesAModuleBuiltWithAnotherKey) {
  const std::string reason = fake({kModules + "/stale"}).unusable_reason();
  EXPECT_TRUE(contains(reason, kModules + "/stale/libbackprop-fake.so was built with another version")) << reason;
  EXPECT_TRUE(contains(reason, "0.0.0-stale")) << reason;
  EXPECT_TRUE(contains(reason, BACKPROP_MODULE_ABI)) << reason;
}

TEST(BackendModule, AStaleCopyDoesNotHideAGoodOne) {
  EXPECT_EQ(fake({kModules + "/stale", kModules + "/good"}).unusable_reason(), "");
}

TEST(BackendModule, RefusesALibraryThatIsNoModule) {
  const std::string reason = fake({kModules + "/bare"}).unusable_reason();
  EXPECT_TRUE(contains(reason, "is not a backprop module")) << reason;
}

TEST(BackendModule, RefusesAModuleHoldingAnotherBackend) {
  const std::string reason = fake({kModules + "/good"}, "", "other").unusable_reason();
  EXPECT_TRUE(contains(reason, "holds backend 'fake', not 'other'")) << reason;
}

TEST(BackendModule, AMissingDriverMakesTheBackendUnusable) {
  const std::string reason = fake({kModules + "/good"}, "libbackprop-no-such-driver.so.0").unusable_reason();
  EXPECT_TRUE(contains(reason, "its driver cannot be loaded: libbackprop-no-such-driver.so.0")) << reason;
}

TEST(BackendModule, SearchesTheEnvironmentFirstThenTheProgramAndTheBuild) {
  const char* saved = std::getenv("BACKPROP_MODULE_PATH");
  const std::string restore = saved ? saved : "";
  setenv("BACKPROP_MODULE_PATH", "/first::/second", 1);
  const auto dirs = default_module_dirs();
  saved ? setenv("BACKPROP_MODULE_PATH", restore.c_str(), 1) : unsetenv("BACKPROP_MODULE_PATH");
  ASSERT_GE(dirs.size(), 4u);
  EXPECT_EQ(dirs[0], "/first");
  EXPECT_EQ(dirs[1], "/second");
  EXPECT_EQ(dirs[2] + "/modules", kModules);  // this test program's folder
  EXPECT_EQ(dirs.back(), BACKPROP_MODULE_BUILD_DIR);
}

// The real module loads in this build, even with no driver (the check for
// the driver library is left out here): its answer comes from CUDA itself.
TEST(CudaModule, LoadsAndAnswersWithCudasOwnReason) {
  if (!BACKPROP_TEST_HAVE_CUDA) GTEST_SKIP() << "this build has no cuda backend";
  const BackendEntry entry = backend_module_entry({"cuda", "libbackprop-cuda.so", ""}, default_module_dirs());
  const std::string reason = entry.unusable_reason();
  EXPECT_FALSE(contains(reason, "libbackprop-cuda.so")) << reason;
  if (!reason.empty()) EXPECT_TRUE(contains(reason, "CUDA")) << reason;
}

}  // namespace
}  // namespace backprop
