wmq_unit_test(crypto SOURCES ${CMAKE_CURRENT_LIST_DIR}/crypto_test.c DEPS crypto)
