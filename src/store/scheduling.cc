#include "store/scheduling.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace creditwatch::store {
namespace {

// The kernel's struct sched_attr (first version, 48 bytes). <linux/sched/types.h> clashes
// with glibc's <sched.h>, and glibc 2.36 has no wrapper for these calls.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;  // for a fair-class thread since 6.12: its requested slice
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48);

bool GetAttr(SchedAttr* a) {
  *a = SchedAttr{};
  a->size = sizeof(SchedAttr);
  return syscall(SYS_sched_getattr, 0, a, sizeof(SchedAttr), 0) == 0;
}

}  // namespace

bool RunAsBatchWork() {
  sched_param param{};
  param.sched_priority = 0;
  return sched_setscheduler(0, SCHED_BATCH, &param) == 0;
}

bool RunAsLatencyWork() {
  SchedAttr a;
  if (!GetAttr(&a)) return false;
  a.sched_flags = 0;
  a.sched_runtime = kLatencySliceNs;
  if (syscall(SYS_sched_setattr, 0, &a, 0) != 0) return false;
  return CurrentSliceNs() == kLatencySliceNs;  // kernels before 6.12 accept and ignore it
}

uint64_t CurrentSliceNs() {
  SchedAttr a;
  return GetAttr(&a) ? a.sched_runtime : 0;
}

}  // namespace creditwatch::store
