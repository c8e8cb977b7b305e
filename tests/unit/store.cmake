wmq_unit_test(store SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_test.c DEPS store common)
