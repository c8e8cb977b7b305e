wmq_unit_test(defence SOURCES ${CMAKE_CURRENT_LIST_DIR}/defence_test.c DEPS security)
