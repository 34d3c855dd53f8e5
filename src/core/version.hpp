// The extension's version, reported by incmodel.version() and the CLI.
#pragma once

namespace incmodel::core {
inline constexpr const char *kVersion = "0.4.0";
}
