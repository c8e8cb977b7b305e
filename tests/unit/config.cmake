wmq_unit_test(config SOURCES ${CMAKE_CURRENT_LIST_DIR}/config_test.c DEPS config common)
# The test compares docs/CONFIG.md with the generated reference and loads
# wardmq.conf.example, both from the source tree.
target_compile_definitions(test_config PRIVATE WMQ_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
