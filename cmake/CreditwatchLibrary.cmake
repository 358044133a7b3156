# Project-wide helpers: warning flags, sanitizers and one library target per module.

if(CREDITWATCH_ASAN AND CREDITWATCH_TSAN)
  message(FATAL_ERROR "CREDITWATCH_ASAN and CREDITWATCH_TSAN are exclusive")
endif()
if(CREDITWATCH_ASAN)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(CREDITWATCH_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

# cw_warnings(target): strict warnings for project code (never for generated code).
function(cw_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
                         -Woverloaded-virtual -Wimplicit-fallthrough)
  if(CREDITWATCH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# cw_library(NAME name SOURCES ... DEPS ...): the module library creditwatch_<name>,
# aliased creditwatch::<name>. Public headers live in src/, included as "<name>/x.h".
function(cw_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  set(target creditwatch_${ARG_NAME})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(creditwatch::${ARG_NAME} ALIAS ${target})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  cw_warnings(${target})
endfunction()

# cw_test(NAME name SOURCES ... DEPS ...): a Catch2 test binary whose test cases are
# registered in ctest once per tier tag, labelled by tier: `ctest -L unit`.
function(cw_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE creditwatch_test_main ${ARG_DEPS})
  cw_warnings(${ARG_NAME})
  foreach(tier unit integration e2e)
    # A test that matches nothing (e.g. a ';' in its name splits it) must fail, not pass.
    catch_discover_tests(${ARG_NAME} TEST_SPEC "[${tier}]" TEST_PREFIX "${tier}:"
                         PROPERTIES LABELS ${tier} TIMEOUT 900 FAIL_REGULAR_EXPRESSION "No tests ran")
  endforeach()
endfunction()
