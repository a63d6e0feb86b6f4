#pragma once
// A minimal assertion harness for the C++ unit tests run by ctest: each test
// binary returns non-zero when any CHECK fails.
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace check {

inline int& failures() {
  static int n = 0;
  return n;
}

inline std::vector<std::pair<std::string, std::function<void()>>>& registry() {
  static std::vector<std::pair<std::string, std::function<void()>>> r;
  return r;
}

struct Register {
  Register(const char* name, std::function<void()> fn) { registry().emplace_back(name, fn); }
};

inline int run_all() {
  int passed = 0, failed = 0;
  for (auto& [name, fn] : registry()) {
    int before = failures();
    try {
      fn();
    } catch (const std::exception& e) {
      std::printf("  %s: unexpected exception: %s\n", name.c_str(), e.what());
      ++failures();
    }
    bool ok = failures() == before;
    std::printf("%s %s\n", ok ? "PASS" : "FAIL", name.c_str());
    (ok ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

}  // namespace check

#define TEST(name)                                          \
  static void name();                                       \
  static check::Register reg_##name(#name, name);           \
  static void name()

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);     \
      ++check::failures();                                                       \
    }                                                                            \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                    \
  do {                                                                           \
    double va_ = (a), vb_ = (b);                                                 \
    if (!(std::fabs(va_ - vb_) <= (tol))) {                                      \
      std::printf("  %s:%d: %s = %g, %s = %g\n", __FILE__, __LINE__, #a, va_, #b, vb_); \
      ++check::failures();                                                       \
    }                                                                            \
  } while (0)

#define CHECK_THROWS(expr, Type)                                                 \
  do {                                                                           \
    bool thrown_ = false;                                                        \
    try {                                                                        \
      (void)(expr);                                                              \
    } catch (const Type&) {                                                      \
      thrown_ = true;                                                            \
    }                                                                            \
    if (!thrown_) {                                                              \
      std::printf("  %s:%d: %s did not throw %s\n", __FILE__, __LINE__, #expr, #Type); \
      ++check::failures();                                                       \
    }                                                                            \
  } while (0)

#define TEST_MAIN() \
  int main() { return check::run_all(); }
