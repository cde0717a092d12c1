#include "nat/lax_number.h"

#include <locale.h>

#include <cctype>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <string>

namespace nat {

namespace {

// The digits of a number as Python reads them: digits with single
// underscores between them (PEP 515).
bool digits_with_underscores(std::string_view s, size_t &i) {
  size_t start = i;
  bool last_digit = false;
  while (i < s.size()) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      last_digit = true;
    } else if (c == '_' && last_digit && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
      last_digit = false;
    } else {
      break;
    }
    ++i;
  }
  return i > start;
}

std::string_view strip(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(b, e - b + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  return true;
}

// strtod in the "C" locale: a host process may have set one whose decimal
// point is not '.'.
double c_strtod(const std::string &s) {
#ifdef _WIN32
  // msvcrt's strtod reads no "inf", "infinity" or "nan".
  std::string_view rest(s);
  const bool negative = !rest.empty() && rest[0] == '-';
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) rest.remove_prefix(1);
  if (iequals(rest, "inf") || iequals(rest, "infinity")) return negative ? -HUGE_VAL : HUGE_VAL;
  if (iequals(rest, "nan")) return negative ? -std::nan("") : std::nan("");
  static const _locale_t c_locale = ::_create_locale(LC_ALL, "C");
  return c_locale ? ::_strtod_l(s.c_str(), nullptr, c_locale) : std::strtod(s.c_str(), nullptr);
#else
  static const locale_t c_locale = ::newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return c_locale ? ::strtod_l(s.c_str(), nullptr, c_locale) : std::strtod(s.c_str(), nullptr);
#endif
}

// A string pydantic's lax mode turns into a float: what Python's float()
// accepts (decimal, underscores between digits, inf, infinity, nan).
}  // namespace

bool is_float_string(std::string_view decoded) {
  std::string_view s = strip(decoded);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::string_view rest = s.substr(i);
  if (iequals(rest, "inf") || iequals(rest, "infinity") || iequals(rest, "nan")) return true;
  bool int_part = digits_with_underscores(s, i);
  bool frac_part = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    frac_part = digits_with_underscores(s, i);
  }
  if (!int_part && !frac_part) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits_with_underscores(s, i)) return false;
  }
  return i == s.size();
}

// A string pydantic's lax mode turns into an int: an integer, optionally
// followed by a fraction of zeros ("61", "+5", "1_0", "61.0").
bool is_int_string(std::string_view decoded) {
  std::string_view s = strip(decoded);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (!digits_with_underscores(s, i)) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i == s.size() || s[i] != '0') return false;  // pydantic refuses "5." and "5.5"
    while (i < s.size() && s[i] == '0') ++i;
  }
  return i == s.size();
}

std::optional<double> lax_float_value(std::string_view decoded) {
  if (!is_float_string(decoded)) return std::nullopt;
  std::string s;
  for (char c : strip(decoded))
    if (c != '_') s.push_back(c);
  return c_strtod(s);
}

std::optional<double> lax_float(const nlohmann::json &value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
  if (value.is_string()) return lax_float_value(value.get_ref<const std::string &>());
  return std::nullopt;
}

std::optional<double> lax_integer(const nlohmann::json &value) {
  if (value.is_number_integer()) return value.get<double>();
  if (value.is_number()) {
    double v = value.get<double>();
    if (std::isfinite(v) && v == std::floor(v)) return v;
    return std::nullopt;
  }
  if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
  if (value.is_string() && is_int_string(value.get_ref<const std::string &>())) {
    std::string s;
    for (char c : strip(value.get_ref<const std::string &>()))
      if (c != '_') s.push_back(c);
    return std::trunc(c_strtod(s));  // "61.0" -> 61
  }
  return std::nullopt;
}

std::optional<bool> lax_bool(const nlohmann::json &value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number()) {
    double v = value.get<double>();
    if (v == 1.0) return true;
    if (v == 0.0) return false;
    return std::nullopt;
  }
  if (value.is_string()) {
    const std::string &s = value.get_ref<const std::string &>();
    for (const char *word : {"1", "on", "t", "true", "y", "yes"})
      if (iequals(s, word)) return true;
    for (const char *word : {"0", "off", "f", "false", "n", "no"})
      if (iequals(s, word)) return false;
  }
  return std::nullopt;
}

std::string shortest_repr(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace nat
