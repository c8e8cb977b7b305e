wmq_unit_test(password SOURCES ${CMAKE_CURRENT_LIST_DIR}/password_test.c DEPS security)
target_compile_definitions(test_password PRIVATE WMQ_TEST_FIXTURES="${CMAKE_SOURCE_DIR}/tests/fixtures")
