// How the engine's threads ask the kernel's scheduler for what their work needs. Both
// calls are best effort and need no privileges: a kernel that refuses leaves the thread
// as it was, and the call returns false.
#pragma once

#include <cstdint>

namespace creditwatch::store {

// Marks the calling thread as throughput work (SCHED_BATCH): it keeps its share of the
// CPU, but its own wake-ups do not preempt other threads.
bool RunAsBatchWork();

// The time slice a latency-sensitive thread asks for: the shortest Linux accepts.
inline constexpr uint64_t kLatencySliceNs = 100'000;

// Marks the calling thread as latency work: it asks for a short time slice
// (kLatencySliceNs). Since Linux 6.12 the fair scheduler (EEVDF) gives a waking thread
// with a shorter slice an earlier deadline and lets it preempt the running one, so a
// lookup is answered without waiting for a busy thread's slice to end. Its share of the
// CPU does not change. Older kernels keep the default slice.
bool RunAsLatencyWork();

// The calling thread's requested slice in nanoseconds (0 when the kernel does not say).
uint64_t CurrentSliceNs();

}  // namespace creditwatch::store
