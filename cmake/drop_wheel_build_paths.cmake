# Passed to every CMake package as CMAKE_PROJECT_INCLUDE when building against the PyPI ROS wheels.
#
# The wheels were built in a manylinux container, and their exported CMake targets name that
# container's include directories (/opt/python/<abi>/include/python3.X and numpy's headers under
# /opt/python/...). Those paths do not exist here, and CMake refuses targets whose interface names a
# missing directory. After each find_package() we drop such entries from every imported target, so
# the local Python's headers (found by FindPython3) are used instead. Installed files stay untouched.

set(ROVER_WHEEL_BUILD_PREFIX "/opt/python/" CACHE STRING "Prefix of include dirs that exist only on the wheels' build machine")

function(_rover_drop_wheel_paths_from_targets)
  get_directory_property(_targets IMPORTED_TARGETS)
  foreach(_target IN LISTS _targets)
    get_target_property(_includes ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT _includes)
      continue()
    endif()
    set(_kept "")
    set(_changed FALSE)
    foreach(_dir IN LISTS _includes)
      string(FIND "${_dir}" "${ROVER_WHEEL_BUILD_PREFIX}" _at)
      if(_at EQUAL 0 AND NOT EXISTS "${_dir}")
        set(_changed TRUE)
      else()
        list(APPEND _kept "${_dir}")
      endif()
    endforeach()
    if(_changed)
      set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_kept}")
    endif()
  endforeach()
endfunction()

# Re-scan whenever a package is found; imported targets are created by find_package().
macro(find_package)
  _find_package(${ARGV})
  _rover_drop_wheel_paths_from_targets()
endmacro()
