// The same header check, compiled as C++ (C++11 and C++17 in meson.build).
#include "header_check.c"
