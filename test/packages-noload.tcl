# packages-noload.tcl — `make test-python-noload`: the wheel of `make python`
# on a CPython that cannot load extensions the usual way (built from
# source with its default options by test/python-noload.sh, as pyenv
# builds it): sqlite3.Connection has no enable_load_extension, and
# sqlite_migrate_ext.load(conn) still gives conn, and only conn, migrate.
# Not a *.test file: the CPython build takes minutes the first time, so
# `make test` leaves it to this target (which .ci/run runs). A missing
# build is a failure here, not a skip.
source test/tester.tcl
source test/packages-python.tcl

set python [file normalize test/cache/python-noload/install/bin/python3]
do_test 0.1 { file executable $python } 1
wheel_tests noload $python False

finish_test
