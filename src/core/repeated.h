// Removal from a state's repeated message fields that keeps the removed messages for
// reuse. RepeatedPtrField::erase() deletes them, and the next add_*() allocates a new
// message and its strings again; a customer's invoices, orders and payments come and go
// on most events. RemoveLast() instead clears the last message and keeps it, so the next
// add_*() gets it back with its strings' capacity: adding an invoice after one was paid
// costs no allocation. What a field keeps is bounded by its largest size so far, and
// only in memory: a serialized state holds none of it.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

namespace creditwatch::core {

// Removes items[index], keeping the order of the others.
template <typename T>
void RemoveAt(google::protobuf::RepeatedPtrField<T>& items, int index) {
  for (int i = index; i + 1 < items.size(); ++i) items.SwapElements(i, i + 1);  // swaps pointers
  items.RemoveLast();
}

// Removes the items that match `pred`, keeping the order of the others.
template <typename T, typename Pred>
void RemoveIf(google::protobuf::RepeatedPtrField<T>& items, Pred pred) {
  const int n = items.size();
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    if (pred(items.Get(i))) continue;
    if (i != kept) items.SwapElements(kept, i);
    ++kept;
  }
  for (int i = kept; i < n; ++i) items.RemoveLast();
}

}  // namespace creditwatch::core
