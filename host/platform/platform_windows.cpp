// Windows side of platform.h.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
// windows.h first.
#include <aclapi.h>
#include <io.h>
#include <sddl.h>

#include <cstddef>
#include <vector>

#include "platform/platform.h"

namespace nat::host::platform {
namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string system_message(DWORD code) {
  wchar_t *buffer = nullptr;
  const DWORD length = ::FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
      code, 0, reinterpret_cast<wchar_t *>(&buffer), 0, nullptr);
  std::string text;
  if (length != 0 && buffer != nullptr) {
    text = std::filesystem::path(std::wstring(buffer, length)).string();
    while (!text.empty() &&
           (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '.')) {
      text.pop_back();
    }
  }
  if (buffer != nullptr) ::LocalFree(buffer);
  return text.empty() ? "system error " + std::to_string(code) : text;
}

// Groups every (or any unprivileged) user of the machine belongs to. An
// allow entry giving one of them write access lets another user replace the
// plugin, as group or other write bits do on POSIX.
struct EveryoneGroup {
  WELL_KNOWN_SID_TYPE type;
  const char *name;
};
constexpr EveryoneGroup kEveryoneGroups[] = {
    {WinWorldSid, "Everyone"},          {WinAuthenticatedUserSid, "Authenticated Users"},
    {WinBuiltinUsersSid, "Users"},      {WinBuiltinGuestsSid, "Guests"},
    {WinInteractiveSid, "INTERACTIVE"}, {WinAnonymousSid, "ANONYMOUS LOGON"},
};

// Writing the data, appending, adding files or folders (for a directory),
// deleting its children, changing its ACL or owner, or the generic rights
// that include them.
constexpr ACCESS_MASK kWriteRights = FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_DELETE_CHILD | WRITE_DAC |
                                     WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL;

// Who of kEveryoneGroups may write, by the DACL's allow entries (deny
// entries are not weighed: a file they would protect is refused all the
// same, the safe side), or why the ACL could not be read.
std::optional<std::string> writers_of(const std::filesystem::path &path) {
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD code = ::GetNamedSecurityInfoW(path.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                             nullptr, &dacl, nullptr, &descriptor);
  if (code != ERROR_SUCCESS) {
    return "not checked for other writers (its access control list cannot be read: " + system_message(code) +
           ")";
  }
  std::optional<std::string> writers;
  if (dacl == nullptr) {
    writers = "writable by everyone (it has no access control list)";
  } else {
    // The groups' SIDs, made once; which of them an allow entry lets write.
    constexpr std::size_t kGroups = sizeof kEveryoneGroups / sizeof kEveryoneGroups[0];
    BYTE sids[kGroups][SECURITY_MAX_SID_SIZE];
    bool made[kGroups] = {};
    bool writes[kGroups] = {};
    for (std::size_t g = 0; g < kGroups; ++g) {
      DWORD size = SECURITY_MAX_SID_SIZE;
      made[g] = ::CreateWellKnownSid(kEveryoneGroups[g].type, nullptr, sids[g], &size) != FALSE;
    }
    for (DWORD i = 0; i < dacl->AceCount; ++i) {
      void *entry = nullptr;
      if (!::GetAce(dacl, i, &entry)) continue;
      const auto *header = static_cast<const ACE_HEADER *>(entry);
      if (header->AceType != ACCESS_ALLOWED_ACE_TYPE || (header->AceFlags & INHERIT_ONLY_ACE) != 0) continue;
      const auto *allowed = static_cast<const ACCESS_ALLOWED_ACE *>(entry);
      if ((allowed->Mask & kWriteRights) == 0) continue;
      PSID sid = const_cast<DWORD *>(&allowed->SidStart);
      for (std::size_t g = 0; g < kGroups; ++g) {
        if (made[g] && ::EqualSid(sid, sids[g])) writes[g] = true;
      }
    }
    std::string names;
    for (std::size_t g = 0; g < kGroups; ++g) {
      if (writes[g]) names += (names.empty() ? "" : ", ") + std::string(kEveryoneGroups[g].name);
    }
    if (!names.empty()) writers = "writable by " + names + " (its access control list)";
  }
  ::LocalFree(descriptor);
  return writers;
}

}  // namespace

bool same_name(const std::string &a, const std::string &b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::optional<std::filesystem::path> executable_path() {
  std::vector<wchar_t> buffer(MAX_PATH);
  for (;;) {
    const DWORD length = ::GetModuleFileNameW(nullptr, buffer.data(), static_cast<DWORD>(buffer.size()));
    if (length == 0) return std::nullopt;
    if (length < buffer.size()) return std::filesystem::path(std::wstring(buffer.data(), length));
    if (buffer.size() >= 32768) return std::nullopt;
    buffer.resize(buffer.size() * 2);
  }
}

bool secure_execution() { return false; }

FileStatus file_status(const std::filesystem::path &path) {
  FileStatus result;
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) {
    result.kind = FileStatus::Kind::missing;
    result.error = "No such file or directory";
    return result;
  }
  if (error) {
    result.kind = FileStatus::Kind::unreadable;
    result.error = error.message();
    return result;
  }
  result.kind = status.type() == std::filesystem::file_type::directory ? FileStatus::Kind::directory
                : status.type() == std::filesystem::file_type::regular ? FileStatus::Kind::regular
                                                                       : FileStatus::Kind::other;
  result.writable_by_others = writers_of(path);
  return result;
}

bool may_be_plugin(const std::filesystem::path &file, const char *symbol) {
  // Mapped as an image, but neither initialized (DllMain) nor linked to its
  // imports; unmapped again before the real load, which would otherwise get
  // this uninitialized module back.
  HMODULE module = ::LoadLibraryExW(file.c_str(), nullptr, DONT_RESOLVE_DLL_REFERENCES);
  if (module == nullptr) return true;
  const bool exported = ::GetProcAddress(module, symbol) != nullptr;
  ::FreeLibrary(module);
  return exported;
}

bool is_terminal(std::FILE *stream) { return ::_isatty(::_fileno(stream)) != 0; }

std::tm local_time(std::time_t seconds) {
  std::tm parts{};
  localtime_s(&parts, &seconds);
  return parts;
}

}  // namespace nat::host::platform
