// Loaded shared libraries that stay loaded until the process ends.
#pragma once

#include <boost/dll/shared_library.hpp>

namespace nat::host {

// Takes ownership of a loaded library and never unloads it. A plugin may
// have started threads, registered atexit handlers or handed out objects
// whose code lives in it; unloading it while any of that is alive crashes,
// and the ABI has no "everything is released" signal. Boost.DLL has no
// RTLD_NODELETE, so the registry itself is never destroyed (which also keeps
// it reachable for leak checkers). Returns the library, valid for the rest of
// the process. Thread-safe.
boost::dll::shared_library &keep_resident(boost::dll::shared_library &&library);

}  // namespace nat::host
