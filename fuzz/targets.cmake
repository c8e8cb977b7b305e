# fuzz/targets.cmake - libFuzzer targets and their corpus-replay twins.
#
# Included from tests/CMakeLists.txt. For every target T (source fuzz/fuzz_T.c
# defining LLVMFuzzerTestOneInput):
#   replay_T  always built: fuzz_T.c + replay_main.c, runs every file of
#             fuzz/corpus/T through the target (tests/run.sh and CTest use it,
#             so the committed corpora are replayed under ASan+UBSan with gcc);
#   fuzz_T    built when WMQ_FUZZ is ON (clang): the libFuzzer binary that
#             fuzz/run.sh drives.
set(WMQ_FUZZ_DIR ${CMAKE_SOURCE_DIR}/fuzz)

# wmq_fuzz_target(T DEPS modules...)
function(wmq_fuzz_target name)
  cmake_parse_arguments(F "" "" "DEPS" ${ARGN})
  add_executable(replay_${name} ${WMQ_FUZZ_DIR}/fuzz_${name}.c ${WMQ_FUZZ_DIR}/replay_main.c)
  foreach(d ${F_DEPS} common)
    target_link_libraries(replay_${name} PRIVATE wmq_${d})
  endforeach()
  add_test(NAME replay_${name} COMMAND replay_${name} ${WMQ_FUZZ_DIR}/corpus/${name})
  if(WMQ_FUZZ)
    add_executable(fuzz_${name} ${WMQ_FUZZ_DIR}/fuzz_${name}.c)
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    foreach(d ${F_DEPS} common)
      target_link_libraries(fuzz_${name} PRIVATE wmq_${d})
    endforeach()
  endif()
endfunction()

wmq_fuzz_target(decode DEPS protocol)
wmq_fuzz_target(topic DEPS protocol)
wmq_fuzz_target(config DEPS config)
wmq_fuzz_target(ws DEPS net)
wmq_fuzz_target(policy DEPS security)
wmq_fuzz_target(aclimport DEPS security)
wmq_fuzz_target(passwd DEPS security)
wmq_fuzz_target(admin DEPS admin)

# The client library's WebSocket helpers: libwardmq is not a wmq_ module, so
# this target links the static library and reads src/client's private header.
if(TARGET wardmq_static)
  foreach(kind replay fuzz)
    if(kind STREQUAL fuzz AND NOT WMQ_FUZZ)
      continue()
    endif()
    if(kind STREQUAL replay)
      add_executable(replay_wsc ${WMQ_FUZZ_DIR}/fuzz_wsc.c ${WMQ_FUZZ_DIR}/replay_main.c)
      add_test(NAME replay_wsc COMMAND replay_wsc ${WMQ_FUZZ_DIR}/corpus/wsc)
    else()
      add_executable(fuzz_wsc ${WMQ_FUZZ_DIR}/fuzz_wsc.c)
      target_compile_options(fuzz_wsc PRIVATE -fsanitize=fuzzer)
      target_link_options(fuzz_wsc PRIVATE -fsanitize=fuzzer)
    endif()
    target_include_directories(${kind}_wsc PRIVATE ${CMAKE_SOURCE_DIR}/src/client)
    target_link_libraries(${kind}_wsc PRIVATE wardmq_static wmq_protocol wmq_common)
  endforeach()
endif()
