// Removal from a state's repeated message fields that keeps the removed messages for
// reuse. RepeatedPtrField::erase() deletes them, and the next add_*() allocates a new
// message and its strings again; a customer's invoices, orders and payments come and go
// on most events. RemoveLast() instead clears the last message and keeps it, so the next
// add_*() gets it back with its strings' capacity: adding an invoice after one was paid
// costs no allocation. What a field keeps is bounded by its largest size so far, and
// only in memory: a serialized state holds none of it.
#pragma once

#include <google/protobuf/repeated_field.h>
#include <google/protobuf/repeated_ptr_field.h>

namespace creditwatch::core {
namespace repeated_detail {
template <typename T>
void MoveEntry(google::protobuf::RepeatedPtrField<T>& a, int to, int from) {
  a.SwapElements(to, from);  // swaps pointers: the one removed waits at `from`
}
template <typename T>
void MoveEntry(google::protobuf::RepeatedField<T>& a, int to, int from) {
  a.Set(to, a.Get(from));
}
template <typename T>
void Shrink(google::protobuf::RepeatedPtrField<T>& a, int n) {
  while (a.size() > n) a.RemoveLast();
}
template <typename T>
void Shrink(google::protobuf::RepeatedField<T>& a, int n) {
  a.Truncate(n);
}
}  // namespace repeated_detail

// Keeps entry i (i < n) of every one of `arrays` where keep(i), in order: arrays that
// go index by index (a state's packed index beside its messages) stay in step. keep(i)
// may read entry i of any of them; entries from i on are untouched until it is asked.
template <typename Keep, typename... Arrays>
void KeepEntries(int n, Keep keep, Arrays&... arrays) {
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    if (!keep(i)) continue;
    if (i != kept) (repeated_detail::MoveEntry(arrays, kept, i), ...);
    ++kept;
  }
  (repeated_detail::Shrink(arrays, kept), ...);
}

// Removes items[index], keeping the order of the others.
template <typename T>
void RemoveAt(google::protobuf::RepeatedPtrField<T>& items, int index) {
  for (int i = index; i + 1 < items.size(); ++i) items.SwapElements(i, i + 1);  // swaps pointers
  items.RemoveLast();
}

// Removes the items that match `pred`, keeping the order of the others.
template <typename T, typename Pred>
void RemoveIf(google::protobuf::RepeatedPtrField<T>& items, Pred pred) {
  KeepEntries(
      items.size(), [&](int i) { return !pred(items.Get(i)); }, items);
}

}  // namespace creditwatch::core
