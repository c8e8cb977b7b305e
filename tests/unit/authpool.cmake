wmq_unit_test(authpool SOURCES ${CMAKE_CURRENT_LIST_DIR}/authpool_test.c DEPS security store common)
