#include "files/text_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace nat::host {

std::string read_text_file(const std::filesystem::path &path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw FileError("cannot read " + path.string() + ": it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw FileError("cannot read " + path.string() + ": " + std::strerror(errno));
  }
  std::string contents;
  std::error_code size_error;
  const auto size = std::filesystem::is_regular_file(path, size_error)
                        ? std::filesystem::file_size(path, size_error)
                        : std::uintmax_t{0};
  if (size > 0 && !size_error) {
    // Collections run to hundreds of MB: read into a string of the file's
    // size in one go rather than through a growing stream buffer and a copy.
    contents.resize(static_cast<size_t>(size));
    in.read(contents.data(), static_cast<std::streamsize>(size));
    contents.resize(static_cast<size_t>(in.gcount()));
    if (in.bad()) {
      throw FileError("cannot read " + path.string() + ": " + std::strerror(errno));
    }
    in.clear();
  }
  // Whatever follows (all of a pipe, or a file that grew): read to the end.
  std::ostringstream rest;
  if (in.peek() != std::char_traits<char>::eof()) {
    rest << in.rdbuf();
    contents += rest.str();
  }
  if (in.bad()) {
    throw FileError("cannot read " + path.string() + ": " + std::strerror(errno));
  }
  return contents;
}

void write_text_file(const std::filesystem::path &path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw FileError("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.flush();
  if (!out) {
    throw FileError("cannot write " + path.string() + ": " + std::strerror(errno));
  }
}

}  // namespace nat::host
