wmq_unit_test(audit SOURCES ${CMAKE_CURRENT_LIST_DIR}/audit_test.c DEPS security)
