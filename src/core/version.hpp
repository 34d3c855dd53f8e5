// The extension's version, reported by incmodel.version() and the CLI. It is written once, as
// incmodel.control's default_version: the Makefile (PGXS and the CLI) and CMakeLists.txt read it
// there and pass it as INCMODEL_VERSION.
#pragma once

#ifndef INCMODEL_VERSION
#error "INCMODEL_VERSION is not defined: build with the Makefile or CMakeLists.txt (they read incmodel.control)"
#endif

namespace incmodel::core {
inline constexpr const char *kVersion = INCMODEL_VERSION;
}
