# Registers the tests of `cushim conform`: Catch2 unit tests of its library and check_conform.py, which runs the tool
# on the tiny corpus in corpus/ (programs that pass, fail, crash, time out, print forbidden output, compare numbers
# with a tolerance) and checks every classification and the JUnit XML / JSON / Markdown reports.
# Included from tests/conform/CMakeLists.txt or tests/e2e/CMakeLists.txt: the guard makes the second include a no-op.
get_property(CUSHIM_CONFORM_TESTS_DONE GLOBAL PROPERTY CUSHIM_CONFORM_TESTS_DONE)
if(CUSHIM_CONFORM_TESTS_DONE)
  return()
endif()
set_property(GLOBAL PROPERTY CUSHIM_CONFORM_TESTS_DONE TRUE)

set(CONFORM_SRC ${CMAKE_CURRENT_LIST_DIR})

add_executable(conform_tests ${CONFORM_SRC}/ConformTest.cpp)
target_link_libraries(conform_tests PRIVATE cushim_conform cushim_catch_main)
catch_discover_tests(conform_tests TEST_PREFIX "conform/unit/")

find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME conform/selftest_corpus
           COMMAND ${Python3_EXECUTABLE} ${CONFORM_SRC}/check_conform.py --cushim $<TARGET_FILE:cushim>
                   --corpus ${CONFORM_SRC}/corpus --out ${CMAKE_BINARY_DIR}/tests/conform-selftest
                   --cc ${CMAKE_C_COMPILER})
  set_tests_properties(conform/selftest_corpus PROPERTIES LABELS conform TIMEOUT 300)
endif()
