// The running kernel's version, for tests of features that depend on it.
#pragma once

#include <sys/utsname.h>

#include <cstdio>

namespace cwtest {

// True when the running Linux is at least major.minor.
inline bool KernelAtLeast(int major, int minor) {
  utsname u{};
  if (uname(&u) != 0) return false;
  int ma = 0;
  int mi = 0;
  if (std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

// Since Linux 6.12 a fair-class thread may ask for its own time slice.
inline bool KernelHasCustomSlices() { return KernelAtLeast(6, 12); }

}  // namespace cwtest
