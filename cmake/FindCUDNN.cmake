# FindCUDNN: locates cuDNN (header cudnn.h and libcudnn) and defines the imported target
# CUDNN::cudnn. Hints: CUDNN_PATH / CUDNN_ROOT (cmake or environment variables), the CUDA toolkit.
#   CUDNN_FOUND, CUDNN_INCLUDE_DIR, CUDNN_LIBRARY, CUDNN_VERSION (the header's),
#   CUDNN_LIBRARY_VERSION (what the library's cudnnGetVersion() says; empty when cross-compiling)
#
# The library is looked for next to the header first: a pip-installed cuDNN (nvidia-cudnn-cu12)
# ships only libcudnn.so.9, no libcudnn.so, and searching for "cudnn" alone would pair its header
# with another cuDNN found later on the search path. Header and library must then be the same
# version: the library is asked at configure time (cudnnGetVersion needs no GPU).
set(_cudnn_hints ${CUDNN_PATH} $ENV{CUDNN_PATH} ${CUDNN_ROOT} $ENV{CUDNN_ROOT})
if(CUDAToolkit_LIBRARY_ROOT)
  list(APPEND _cudnn_hints ${CUDAToolkit_LIBRARY_ROOT})
endif()
find_path(CUDNN_INCLUDE_DIR cudnn.h
  HINTS ${_cudnn_hints} ${CUDAToolkit_INCLUDE_DIRS}
  PATH_SUFFIXES include)

set(_cudnn_names cudnn libcudnn.so.9)
set(_cudnn_lib_suffixes lib64 lib lib/x86_64-linux-gnu)
if(CUDNN_INCLUDE_DIR)
  get_filename_component(_cudnn_header_root "${CUDNN_INCLUDE_DIR}" DIRECTORY)
  find_library(CUDNN_LIBRARY NAMES ${_cudnn_names} NAMES_PER_DIR
    PATHS "${_cudnn_header_root}" PATH_SUFFIXES ${_cudnn_lib_suffixes} NO_DEFAULT_PATH)
endif()
find_library(CUDNN_LIBRARY NAMES ${_cudnn_names} NAMES_PER_DIR
  HINTS ${_cudnn_hints} ${CUDAToolkit_LIBRARY_DIR}
  PATH_SUFFIXES ${_cudnn_lib_suffixes})

unset(CUDNN_VERSION)
if(CUDNN_INCLUDE_DIR AND EXISTS "${CUDNN_INCLUDE_DIR}/cudnn_version.h")
  file(READ "${CUDNN_INCLUDE_DIR}/cudnn_version.h" _cudnn_version_h)
  string(REGEX MATCH "define CUDNN_MAJOR +([0-9]+)" _ "${_cudnn_version_h}")
  set(_major ${CMAKE_MATCH_1})
  string(REGEX MATCH "define CUDNN_MINOR +([0-9]+)" _ "${_cudnn_version_h}")
  set(_minor ${CMAKE_MATCH_1})
  string(REGEX MATCH "define CUDNN_PATCHLEVEL +([0-9]+)" _ "${_cudnn_version_h}")
  set(CUDNN_VERSION "${_major}.${_minor}.${CMAKE_MATCH_1}")
endif()

# The library's own version, once per library path (cached).
if(CUDNN_LIBRARY AND CUDNN_VERSION AND NOT CMAKE_CROSSCOMPILING
   AND NOT "${_CUDNN_LIBRARY_VERSION_OF}" STREQUAL "${CUDNN_LIBRARY}")
  set(_probe_dir "${CMAKE_BINARY_DIR}/CMakeFiles/FindCUDNN")
  file(WRITE "${_probe_dir}/cudnn_version_probe.c"
    "#include <stddef.h>\n#include <stdio.h>\nsize_t cudnnGetVersion(void);\n"
    "int main(void) { printf(\"%lu\", (unsigned long)cudnnGetVersion()); return 0; }\n")
  get_filename_component(_cudnn_lib_dir "${CUDNN_LIBRARY}" DIRECTORY)
  try_run(_run_rc _compile_ok "${_probe_dir}/build" "${_probe_dir}/cudnn_version_probe.c"
    LINK_LIBRARIES "${CUDNN_LIBRARY}"
    LINK_OPTIONS "-Wl,-rpath,${_cudnn_lib_dir}"
    COMPILE_OUTPUT_VARIABLE _compile_out
    RUN_OUTPUT_VARIABLE _run_out)
  set(_lib_version "")
  if(_compile_ok AND _run_rc EQUAL 0 AND _run_out MATCHES "^([0-9]+)$")
    # cuDNN 9: MAJOR*10000 + MINOR*100 + PATCH (8.x used MAJOR*1000 + MINOR*100 + PATCH).
    math(EXPR _v "${CMAKE_MATCH_1}")
    if(_v GREATER_EQUAL 90000)
      math(EXPR _lmaj "${_v} / 10000")
      math(EXPR _lmin "(${_v} % 10000) / 100")
    else()
      math(EXPR _lmaj "${_v} / 1000")
      math(EXPR _lmin "(${_v} % 1000) / 100")
    endif()
    math(EXPR _lpat "${_v} % 100")
    set(_lib_version "${_lmaj}.${_lmin}.${_lpat}")
  else()
    message(WARNING "FindCUDNN: could not ask ${CUDNN_LIBRARY} for its version (cudnnGetVersion): "
                    "header/library agreement not checked. ${_run_out}")
  endif()
  set(CUDNN_LIBRARY_VERSION "${_lib_version}" CACHE INTERNAL "version reported by CUDNN_LIBRARY")
  set(_CUDNN_LIBRARY_VERSION_OF "${CUDNN_LIBRARY}" CACHE INTERNAL "CUDNN_LIBRARY that CUDNN_LIBRARY_VERSION is of")
endif()

set(_cudnn_fail_message "")
if(CUDNN_LIBRARY_VERSION AND CUDNN_VERSION AND NOT CUDNN_LIBRARY_VERSION VERSION_EQUAL CUDNN_VERSION)
  string(CONCAT _cudnn_fail_message
    "cuDNN header ${CUDNN_INCLUDE_DIR}/cudnn_version.h is ${CUDNN_VERSION} but the library ${CUDNN_LIBRARY} is "
    "${CUDNN_LIBRARY_VERSION}: point CUDNN_PATH (or CUDNN_INCLUDE_DIR and CUDNN_LIBRARY) at one cuDNN installation")
endif()

include(FindPackageHandleStandardArgs)
if(_cudnn_fail_message)
  # Reported as not found, with the reason, so REQUIRED stops the configure.
  find_package_handle_standard_args(CUDNN
    REQUIRED_VARS CUDNN_LIBRARY CUDNN_INCLUDE_DIR _cudnn_versions_agree
    VERSION_VAR CUDNN_VERSION
    REASON_FAILURE_MESSAGE "${_cudnn_fail_message}")
else()
  find_package_handle_standard_args(CUDNN
    REQUIRED_VARS CUDNN_LIBRARY CUDNN_INCLUDE_DIR
    VERSION_VAR CUDNN_VERSION)
endif()

if(CUDNN_FOUND AND NOT TARGET CUDNN::cudnn)
  add_library(CUDNN::cudnn SHARED IMPORTED)
  set_target_properties(CUDNN::cudnn PROPERTIES
    IMPORTED_LOCATION "${CUDNN_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CUDNN_INCLUDE_DIR}")
endif()
mark_as_advanced(CUDNN_INCLUDE_DIR CUDNN_LIBRARY)
