# e2e programs of one area, registered with e2e_build/e2e_run (tests/e2e/CMakeLists.txt); included from there.
