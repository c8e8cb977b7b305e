wmq_unit_test(identity SOURCES ${CMAKE_CURRENT_LIST_DIR}/identity_test.c DEPS store common)
