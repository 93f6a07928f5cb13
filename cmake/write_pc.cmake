# Runs at install time (install(CODE) in src/api/CMakeLists.txt): writes resnetrs.pc for the prefix
# being installed to. In: RESNETRS_PC_IN, RESNETRS_PC_OUT, PROJECT_VERSION, RESNETRS_PC_BACKENDS,
# RESNETRS_PC_DIRS ("LIBDIR=lib;INCLUDEDIR=include;DATADIR=share"); CMAKE_INSTALL_PREFIX is the
# prefix of this install (without DESTDIR, as a .pc file must say).
set(RESNETRS_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(_entry IN LISTS RESNETRS_PC_DIRS)
  string(REGEX MATCH "^([A-Z]+)=(.*)$" _ "${_entry}")
  set(_name "${CMAKE_MATCH_1}")
  set(_dir "${CMAKE_MATCH_2}")
  if(IS_ABSOLUTE "${_dir}")
    set(RESNETRS_PC_${_name} "${_dir}")
  else()
    set(RESNETRS_PC_${_name} "\${prefix}/${_dir}")
  endif()
endforeach()
configure_file("${RESNETRS_PC_IN}" "${RESNETRS_PC_OUT}" @ONLY)
