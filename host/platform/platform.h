// What the host does differently on POSIX and on Windows, in one place:
// path lists, plugin file names, the running executable, and who may write a
// plugin file. platform_posix.cpp and platform_windows.cpp implement it; the
// rest of the host has no #ifdef.
#pragma once

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

namespace nat::host::platform {

#ifdef _WIN32
// %NAT_TRAINER_ADAPTER_PATH% is a list like %PATH%: ';' between entries
// (':' is part of a drive letter).
inline constexpr char kPathListSeparator = ';';
inline constexpr const char *kSharedLibrarySuffix = ".dll";
#else
inline constexpr char kPathListSeparator = ':';
inline constexpr const char *kSharedLibrarySuffix = ".so";
#endif

// Plugin names and file suffixes as users of the platform expect them:
// exact on POSIX, ASCII case-insensitive on Windows ("OpenPipe_ART" names
// openpipe_art; "x.DLL" is a DLL).
bool same_name(const std::string &a, const std::string &b);

// The running executable's path, if the system says.
std::optional<std::filesystem::path> executable_path();

// True when the process runs with privileges its caller does not have
// (AT_SECURE: set-user-ID and the like); never on Windows.
bool secure_execution();

// A plugin directory or file as discovery needs to know it.
struct FileStatus {
  enum class Kind { missing, unreadable, directory, regular, other };
  Kind kind = Kind::missing;
  // Why it could not be examined (missing, unreadable).
  std::string error;
  // Set when someone other than its owner (and the system's administrators)
  // may change it, as a phrase that follows "is": by the file's mode on
  // POSIX ("writable by group or others (mode 0666)"), by its access control
  // list on Windows ("writable by Everyone (its access control list)").
  std::optional<std::string> writable_by_others;
};

// Follows symbolic links.
FileStatus file_status(const std::filesystem::path &path);

// Whether a library file may be a plugin, decided without running any of
// its code. Windows: a plugin folder also holds the DLLs plugins depend on
// (libcurl beside the plugin, and its own dependencies), so a DLL is mapped
// without its DllMain or imports and a DLL that does not export `symbol` is
// not one; a DLL that cannot even be mapped is (its load will say why).
// POSIX: every file is (a .so that is not a plugin is refused by name).
bool may_be_plugin(const std::filesystem::path &file, const char *symbol);

bool is_terminal(std::FILE *stream);

// localtime_r (POSIX), localtime_s (Windows).
std::tm local_time(std::time_t seconds);

}  // namespace nat::host::platform
