wmq_unit_test(ws SOURCES ${CMAKE_CURRENT_LIST_DIR}/ws_test.c DEPS net common)
