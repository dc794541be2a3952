# Builds and runs tests/consumer in a scratch folder. MODE=package installs the library first.
file(REMOVE_RECURSE ${WORK_DIR})
set(consumer_args -DCMAKE_CXX_COMPILER=${CXX} -DCONSUMER_MODE=${MODE})
if(MODE STREQUAL "package")
    execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/lib-build
                            -DCMAKE_CXX_COMPILER=${CXX}
                            -DDISCORD_RATELIMIT_BUILD_TESTS=OFF -DDISCORD_RATELIMIT_BUILD_EXAMPLES=OFF
                            -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix
                    COMMAND_ERROR_IS_FATAL ANY)
    execute_process(COMMAND ${CMAKE_COMMAND} --install ${WORK_DIR}/lib-build COMMAND_ERROR_IS_FATAL ANY)
    list(APPEND consumer_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
    list(APPEND consumer_args -DDISCORD_RATELIMIT_SOURCE_DIR=${SOURCE_DIR})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build ${consumer_args}
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${WORK_DIR}/build/consumer COMMAND_ERROR_IS_FATAL ANY)
