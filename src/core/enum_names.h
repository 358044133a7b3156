// Names of the output enums as the schema spells them, from tables built once. The
// generated *_Name functions search the enum's descriptor on every call, and every
// output id and alert summary names a rule or a decision.
#pragma once

#include <string>

#include "creditwatch/v1/outputs.pb.h"

namespace creditwatch::core {

// "OVER_LIMIT", ...; empty for a value the schema does not define.
const std::string& RuleName(v1::Rule rule);
// "APPROVED", "HELD", "RELEASED"; empty for a value the schema does not define.
const std::string& DecisionName(v1::OrderDecision::Decision decision);

}  // namespace creditwatch::core
