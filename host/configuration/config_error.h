// The error of everything that reads a --config file.
#pragma once

#include <stdexcept>

namespace nat::host {

// A config file that cannot be used. The message names the file and, where
// there is one, the key path and the line.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace nat::host
