// Numbers as pydantic's lax mode reads them from strings (what Python's
// float() and pydantic's int parser accept), for the places where NAT's
// models coerce a JSON string into a number.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace nat {

// Decimal with optional exponent, underscores between digits (PEP 515),
// surrounding whitespace, or inf / infinity / nan in any case.
bool is_float_string(std::string_view decoded);
// An integer, optionally followed by a fraction of at least one zero ("61",
// "+5", "1_0", "61.0"; not "61.").
bool is_int_string(std::string_view decoded);
// The value of a float string, or nullopt.
std::optional<double> lax_float_value(std::string_view decoded);
// A JSON value as pydantic v2 (lax mode, validate_python) reads it into a
// field of NAT's models, or nullopt where pydantic refuses it:
// - float: a number, a boolean (1.0 / 0.0) or a float string ("1e-5", " 5 ",
//   "inf", "1_000"), as PyYAML gives `1e-5` to NAT: a string;
// - int: an integer, a number with an integral value (5.0), a boolean, or an
//   integer string ("5", " 5 ", "5.0"); the value is returned as a double,
//   exact up to 2^53 (callers check their range on it);
// - bool: true/false, the numbers 0 and 1, or (in any case, no spaces) one of
//   "0" "off" "f" "false" "n" "no" / "1" "on" "t" "true" "y" "yes".
// Stricter than pydantic in corners: Unicode spaces around a number and an
// underscore next to the decimal point ("5_.0") are refused.
std::optional<double> lax_float(const nlohmann::json &value);
std::optional<double> lax_integer(const nlohmann::json &value);
std::optional<bool> lax_bool(const nlohmann::json &value);

// The shortest text that reads back as `v`.
std::string shortest_repr(double v);

}  // namespace nat
