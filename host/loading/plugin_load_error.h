// Why a file is not a usable plugin.
#pragma once

#include <stdexcept>

namespace nat::host {

// One line, without the file name (the caller knows it).
class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace nat::host
