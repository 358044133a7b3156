// TempStore: a real RocksDB-backed CreditStore in a fresh temporary directory, removed
// when the test ends.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/credit_store.h"

namespace creditwatch::testing {

struct TempStore {
  TempStore() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cw-store-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
    options.data_dir = dir;
    options.block_cache_bytes = 8 << 20;
    REQUIRE(store::CreditStore::Open(options, &db).ok());
  }
  ~TempStore() {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  std::string dir;
  store::StoreOptions options;
  std::unique_ptr<store::CreditStore> db;
};

}  // namespace creditwatch::testing
