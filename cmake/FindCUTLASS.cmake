# FindCUTLASS: locates the CUTLASS C++ headers (header-only) and defines the imported target
# CUTLASS::cutlass. Searched, in order: CUTLASS_DIR / CUTLASS_ROOT (cmake or environment
# variables: a CUTLASS checkout or the include folder itself), then the project venv, where
# scripts/setup installs the PyPI wheel nvidia-cutlass, whose package cutlass_library carries the
# headers in cutlass_library/source/include.
#   CUTLASS_FOUND, CUTLASS_INCLUDE_DIR, CUTLASS_VERSION
set(_cutlass_hints ${CUTLASS_DIR} $ENV{CUTLASS_DIR} ${CUTLASS_ROOT} $ENV{CUTLASS_ROOT})
file(GLOB _cutlass_venv_includes
  "${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages/cutlass_library/source/include")
find_path(CUTLASS_INCLUDE_DIR cutlass/cutlass.h
  HINTS ${_cutlass_hints}
  PATHS ${_cutlass_venv_includes}
  PATH_SUFFIXES include
  NO_DEFAULT_PATH)
find_path(CUTLASS_INCLUDE_DIR cutlass/cutlass.h)

# No version.h (e.g. a wrong CUTLASS_INCLUDE_DIR): no version, so not found.
unset(CUTLASS_VERSION)
if(CUTLASS_INCLUDE_DIR AND EXISTS "${CUTLASS_INCLUDE_DIR}/cutlass/version.h")
  file(READ "${CUTLASS_INCLUDE_DIR}/cutlass/version.h" _cutlass_version_h)
  string(REGEX MATCH "define CUTLASS_MAJOR ([0-9]+)" _ "${_cutlass_version_h}")
  set(_major ${CMAKE_MATCH_1})
  string(REGEX MATCH "define CUTLASS_MINOR ([0-9]+)" _ "${_cutlass_version_h}")
  set(_minor ${CMAKE_MATCH_1})
  string(REGEX MATCH "define CUTLASS_PATCH ([0-9]+)" _ "${_cutlass_version_h}")
  set(CUTLASS_VERSION "${_major}.${_minor}.${CMAKE_MATCH_1}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CUTLASS
  REQUIRED_VARS CUTLASS_INCLUDE_DIR CUTLASS_VERSION
  VERSION_VAR CUTLASS_VERSION)

if(CUTLASS_FOUND AND NOT TARGET CUTLASS::cutlass)
  add_library(CUTLASS::cutlass INTERFACE IMPORTED)
  # SYSTEM: CUTLASS's own warnings are not ours (-Werror).
  set_target_properties(CUTLASS::cutlass PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${CUTLASS_INCLUDE_DIR}"
                                                    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${CUTLASS_INCLUDE_DIR}")
endif()
mark_as_advanced(CUTLASS_INCLUDE_DIR)
