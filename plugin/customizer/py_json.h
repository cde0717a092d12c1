// JSON text exactly as Python's json.dumps writes it with its defaults
// (ensure_ascii=True, separators ", " and ": ", keys in insertion order,
// floats as repr()), which is how NAT's NeMo Customizer adapter writes its
// dataset lines and its log_progress lines. Byte-for-byte equality with
// NAT's files depends on it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace nat::customizer {

// Appends `utf8` (valid UTF-8) as a JSON string: '"' and '\\' escaped, \n \r
// \t \b \f as such, every other byte outside 0x20..0x7e as \uXXXX (lower-case
// hex; code points above U+FFFF as a surrogate pair).
void append_py_string(std::string &out, std::string_view utf8);

// repr() of a finite double: "0.1", "1.0", "5e-05", "1e+16".
std::string py_float_repr(double v);

// json.dumps(value) for a document parsed with nlohmann::ordered_json.
std::string py_dumps(const nlohmann::ordered_json &value);

}  // namespace nat::customizer
