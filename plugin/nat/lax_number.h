// Numbers as pydantic's lax mode reads them from strings (what Python's
// float() and pydantic's int parser accept), for the places where NAT's
// models coerce a JSON string into a number.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nat {

// Decimal with optional exponent, underscores between digits (PEP 515),
// surrounding whitespace, or inf / infinity / nan in any case.
bool is_float_string(std::string_view decoded);
// An integer, optionally followed by a fraction of zeros ("61", "+5", "1_0", "61.0").
bool is_int_string(std::string_view decoded);
// The value of a float string, or nullopt.
std::optional<double> lax_float_value(std::string_view decoded);
// The shortest text that reads back as `v`.
std::string shortest_repr(double v);

}  // namespace nat
