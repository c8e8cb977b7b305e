wmq_unit_test(tls SOURCES ${CMAKE_CURRENT_LIST_DIR}/tls_test.c DEPS net common)
# The test runs tests/fixtures/make_test_ca.sh from the source tree.
target_compile_definitions(test_tls PRIVATE WMQ_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
