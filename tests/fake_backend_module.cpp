// A backend module for the loader's tests, built three ways (see
// CMakeLists.txt): it lets CI check loading, key matching and exceptions
// crossing from a module into the library without a GPU.
#include <memory>
#include <string>

#include "backend_module.hpp"
#include "backprop/error.hpp"

#ifdef FAKE_MODULE_ABI
#undef BACKPROP_MODULE_ABI
#define BACKPROP_MODULE_ABI FAKE_MODULE_ABI
#endif

namespace {

// Trains nothing: every call throws from inside the module, so a test can
// catch backprop::Error on the library's side.
class FakeBackend final : public backprop::Backend {
 public:
  std::string name() const override { return "fake"; }

 protected:
  std::unique_ptr<backprop::TrainingSession> start_impl(const backprop::Dataset&, const backprop::Parameters&,
                                                        backprop::Precision,
                                                        const backprop::Optimizer&,
                                                        const backprop::Batches&) const override {
    throw backprop::Error(backprop::ErrorKind::device, "the fake backend trains nothing");
  }
  std::vector<double> predict_impl(const backprop::Parameters&, const backprop::Dataset&,
                                   backprop::Precision) const override {
    throw backprop::Error(backprop::ErrorKind::device, "the fake backend predicts nothing");
  }
};

[[maybe_unused]] backprop::BackendEntry fake_entry() {
  return {"fake", [] { return std::string(); },
          [](const backprop::BackendConfig&) -> std::unique_ptr<backprop::Backend> {
            return std::make_unique<FakeBackend>();
          }};
}

}  // namespace

#ifndef FAKE_MODULE_NO_EXPORTS
BACKPROP_MODULE_EXPORTS(fake_entry)
#endif
