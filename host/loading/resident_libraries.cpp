#include "loading/resident_libraries.h"

#include <memory>
#include <mutex>
#include <vector>

namespace nat::host {

boost::dll::shared_library &keep_resident(boost::dll::shared_library &&library) {
  static std::mutex *const mutex = new std::mutex;
  static auto *const libraries = new std::vector<std::unique_ptr<boost::dll::shared_library>>;
  std::lock_guard<std::mutex> lock(*mutex);
  libraries->push_back(std::make_unique<boost::dll::shared_library>(std::move(library)));
  return *libraries->back();
}

}  // namespace nat::host
