// Reading the Prometheus text format back: the sum of a metric family's samples, for the
// benchmark and the tests that scrape /metrics. Not a parser of every corner of the
// format: one sample per line, the value last.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace creditwatch::obs {

// The sum of `family`'s samples in `text` whose lines contain every one of `needles`
// (e.g. `rule="OVER_LIMIT"`). A histogram's family name matches its _bucket, _sum and
// _count lines only when given with that suffix.
inline double SumOfFamily(const std::string& text, const std::string& family,
                          const std::vector<std::string>& needles = {}) {
  double total = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(family, 0) != 0) continue;
    const char next = line.size() > family.size() ? line[family.size()] : ' ';
    if (next != '{' && next != ' ') continue;
    bool all = true;
    for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
    if (all) total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

}  // namespace creditwatch::obs
