# Enables CUDA and settles the architectures to build for (included by CMakeLists.txt when
# RESNETRS_CUDA is ON).
#
# Default: every architecture among Volta..Hopper (70;75;80;86;89;90) that the CUDA compiler CMake
# actually chose supports (CUDA 13 dropped sm_70, CUDA 12 still has it). The compiler is asked
# after enable_language(CUDA), so -DCMAKE_CUDA_COMPILER, the CUDACXX variable and PATH all select
# the nvcc that is both asked and used. A list given with -DCMAKE_CUDA_ARCHITECTURES=... or the
# CUDAARCHS environment variable is used as given.
#
# nvcc 12.8/12.9 warn "deprecated-gpu-targets" for sm_70 (and -Werror makes that an error): when 70
# is targeted, that one warning is silenced (cmake/cuda_architectures.cmake is the only place).

set(_resnetrs_wanted_cuda_archs 70 75 80 86 89 90)

# The subset of `wanted` that `compiler` can generate code for, from `nvcc --list-gpu-arch`
# (compute_XY lines); falls back to the toolkit's major version when the compiler cannot list.
function(resnetrs_supported_cuda_archs compiler version out_var)
  set(_supported "")
  execute_process(COMMAND "${compiler}" --list-gpu-arch RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_QUIET)
  if(_rc EQUAL 0 AND _out MATCHES "compute_[0-9]+")
    string(REGEX MATCHALL "compute_[0-9]+" _listed "${_out}")
    foreach(_arch IN LISTS _resnetrs_wanted_cuda_archs)
      if("compute_${_arch}" IN_LIST _listed)
        list(APPEND _supported ${_arch})
      endif()
    endforeach()
  else()
    foreach(_arch IN LISTS _resnetrs_wanted_cuda_archs)
      if(NOT (_arch EQUAL 70 AND version VERSION_GREATER_EQUAL 13))
        list(APPEND _supported ${_arch})
      endif()
    endforeach()
  endif()
  set(${out_var} "${_supported}" PARENT_SCOPE)
endfunction()

# Decided before enable_language(CUDA), which caches the compiler's own default when no list is given.
set(_resnetrs_default_cuda_archs OFF)
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
  set(_resnetrs_default_cuda_archs ON)
endif()

enable_language(CUDA)

if(_resnetrs_default_cuda_archs)
  resnetrs_supported_cuda_archs("${CMAKE_CUDA_COMPILER}" "${CMAKE_CUDA_COMPILER_VERSION}" _resnetrs_archs)
  if(NOT _resnetrs_archs)
    message(FATAL_ERROR "${CMAKE_CUDA_COMPILER} (CUDA ${CMAKE_CUDA_COMPILER_VERSION}) supports none of the architectures "
                        "${_resnetrs_wanted_cuda_archs}; set -DCMAKE_CUDA_ARCHITECTURES=...")
  endif()
  set(CMAKE_CUDA_ARCHITECTURES "${_resnetrs_archs}" CACHE STRING
      "CUDA architectures (default: those of 70;75;80;86;89;90 that the CUDA compiler supports)" FORCE)
endif()
message(STATUS "CUDA ${CMAKE_CUDA_COMPILER_VERSION} (${CMAKE_CUDA_COMPILER}): architectures ${CMAKE_CUDA_ARCHITECTURES}")

# "70", "70-real", "70-virtual" all target Volta.
set(RESNETRS_CUDA_TARGETS_SM70 OFF)
foreach(_arch IN LISTS CMAKE_CUDA_ARCHITECTURES)
  if(_arch MATCHES "^70(-real|-virtual)?$")
    set(RESNETRS_CUDA_TARGETS_SM70 ON)
  endif()
endforeach()
if(RESNETRS_CUDA_TARGETS_SM70 AND CMAKE_CUDA_COMPILER_ID STREQUAL "NVIDIA"
   AND NOT CMAKE_CUDA_FLAGS MATCHES "-Wno-deprecated-gpu-targets")
  # For every nvcc call (compile and link); nvcc has accepted this flag since CUDA 9.
  string(APPEND CMAKE_CUDA_FLAGS " -Wno-deprecated-gpu-targets")
endif()
