wmq_unit_test(common SOURCES ${CMAKE_CURRENT_LIST_DIR}/common_test.c DEPS common)
