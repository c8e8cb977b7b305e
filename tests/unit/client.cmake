# libwardmq + the tools' shared code: pure parts and the client state
# machine against a scripted fake server on 127.0.0.1. Links the static
# library (hidden visibility does not apply to static linking) and reads
# the private header src/client/client_int.h for the internals it checks.
if(TARGET wardmq_static AND TARGET wmq_tools_common)
  add_executable(test_client ${CMAKE_CURRENT_LIST_DIR}/client_test.c)
  target_include_directories(test_client PRIVATE ${CMAKE_SOURCE_DIR}/tests/support
                             ${CMAKE_SOURCE_DIR}/src/client ${CMAKE_SOURCE_DIR}/tools/common)
  target_link_libraries(test_client PRIVATE wmq_tools_common wardmq_static wmq_protocol wmq_common)
  add_test(NAME unit_client COMMAND test_client)
endif()
