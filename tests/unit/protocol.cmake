wmq_unit_test(protocol SOURCES ${CMAKE_CURRENT_LIST_DIR}/protocol_test.c DEPS protocol common)
