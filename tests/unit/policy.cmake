wmq_unit_test(policy SOURCES ${CMAKE_CURRENT_LIST_DIR}/policy_test.c DEPS security)
target_compile_definitions(test_policy PRIVATE WMQ_TEST_FIXTURES="${CMAKE_SOURCE_DIR}/tests/fixtures")
