# ptx/coverage/unsupported: the coverage report names every rejected form with its line and exits 1.
execute_process(COMMAND ${CUSHIM} ptx --coverage ${PTX} RESULT_VARIABLE Rc OUTPUT_VARIABLE Out ERROR_VARIABLE Err)
message("${Out}${Err}")
if(NOT Rc EQUAL 1)
  message(FATAL_ERROR "cushim ptx --coverage exited ${Rc}, want 1 (some forms unsupported)")
endif()
foreach(Want "UNSUPPORTED +1  min.s32 .*unsupported.ptx:18: invalid PTX instruction 'min.s32'"
             "UNSUPPORTED +1  add.rz.f16 .*unsupported.ptx:19: unsupported PTX instruction 'add.rz.f16'"
             "UNSUPPORTED +1  mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 .*:20: unsupported"
             "supported +1  add.s32 " "supported +1  st.global.u32 " "3 not")
  if(NOT Out MATCHES "${Want}")
    message(FATAL_ERROR "coverage report lacks /${Want}/")
  endif()
endforeach()
