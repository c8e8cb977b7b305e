wmq_unit_test(broker SOURCES ${CMAKE_CURRENT_LIST_DIR}/broker_test.c DEPS broker)
