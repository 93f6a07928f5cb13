# resnetrs_warnings(target): warnings on for C++ and, through the host compiler, for CUDA.
function(resnetrs_warnings target)
  set(_cxx -Wall -Wextra -Wpedantic -Wshadow=local -Wno-unused-parameter)
  set(_cuda -Xcompiler=-Wall,-Wextra)
  if(RESNETRS_WERROR)
    list(APPEND _cxx -Werror)
    list(APPEND _cuda -Werror=all-warnings -Xcompiler=-Werror)
  endif()
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${_cxx}>
    $<$<COMPILE_LANGUAGE:CUDA>:${_cuda}>)
endfunction()
