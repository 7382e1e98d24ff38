// What every part of libslmgen_native shares: no C++ exception crosses the C ABI — a failing call returns -1 and
// slm_last_error() (one message per thread, one instance across the library's files) says why.
#pragma once
#include <exception>
#include <string>

namespace slm {

inline std::string& last_error() {
  static thread_local std::string message;
  return message;
}

template <typename F>
int guarded(F&& body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    last_error() = e.what();
  } catch (...) {
    last_error() = "unknown C++ exception";
  }
  return -1;
}

}  // namespace slm
