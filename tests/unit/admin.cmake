wmq_unit_test(admin SOURCES ${CMAKE_CURRENT_LIST_DIR}/admin_test.c DEPS admin)
